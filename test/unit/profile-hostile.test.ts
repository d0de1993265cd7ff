import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLink } from '../../src/render/generate.js';
import { ConfigError } from '../../src/errors.js';

/**
 * The hostile corpus: every profile in test/fixtures/hostile smuggles something that could end
 * up as an option, a second line, a quote, a comment or a shell metacharacter in root's files.
 * Each file's first line says which message (position + field + reason) it must produce.
 */
const dir = join(import.meta.dirname, '../fixtures/hostile');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'laplink-hostile-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('hostile profiles', async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();

  it('has a corpus of dozens', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  for (const f of files) {
    it(`rejects ${f}`, async () => {
      const path = join(dir, f);
      const text = await readFile(path, 'utf8');
      const expected = /^# expect: (.+)$/m.exec(text.split('\n')[0]!)?.[1];
      expect(expected, `${f} needs a first line "# expect: …"`).toBeTruthy();
      const out = await mkdtemp(join(root, 'r-'));
      const err = await generateLink(path, { root: out, laplinkArgv: ['/usr/bin/node', '/opt/laplink/bin/laplink.js'] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).exitCode).toBe(2);
      const lines = (err as ConfigError).problems.join('\n').split('\n');
      expect(lines.some((l) => l.startsWith(`${path}:`) && l.includes(expected!)), `got:\n${lines.join('\n')}`).toBe(true);
      // every line names the file and a line:col
      for (const l of lines) expect(l).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
      expect(await readdir(out)).toEqual([]);
    });
  }
});
