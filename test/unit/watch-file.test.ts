import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchFile, type FileWatch } from '../../src/runtime/watch-file.js';
import { cpuLoad } from '../helpers/cpu-load.js';

// The directory form of the watch (`names`), as a view of a state directory uses it: every
// rename-into-place of a NAME.json is seen, with two CPU-bound processes beside. chokidar's
// 'change'/'add' events missed 12-13 of 40 such renames on a directory watch; its raw events none.

let dir = '';
let watch: FileWatch | undefined;
let load: { stop(): Promise<void> } | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-watch-'));
  load = cpuLoad(2);
});
afterEach(async () => {
  await watch?.close();
  await load?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('watchFile over a directory', () => {
  it('sees each of 40 renames into place of *.json', async () => {
    const RENAMES = 40;
    let wake: (() => void) | undefined;
    let ready!: () => void;
    const first = new Promise<void>((r) => (ready = r));
    watch = watchFile(
      join(dir, 'any.json'),
      () => {
        ready();
        wake?.();
      },
      { names: (name) => name.endsWith('.json') },
    );
    await first; // the watch is in place (its first call says so)
    for (let i = 1; i <= RENAMES; i++) {
      const seen = new Promise<void>((r) => (wake = r));
      await writeFile(join(dir, '.link.tmp'), `{"n":${i}}`); // a temporary name, then rename(2), as the supervisor writes
      await rename(join(dir, '.link.tmp'), join(dir, 'link.json'));
      const guard = new Promise<string>((r) => setTimeout(() => r(`rename ${i} of ${RENAMES} not seen within 10 s`), 10_000).unref());
      expect(await Promise.race([seen.then(() => 'seen'), guard])).toBe('seen');
    }
  });
});
