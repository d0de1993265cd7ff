/**
 * `status --watch` ends on SIGTERM, SIGINT and `q` in every state of its watcher: with its state
 * directory there, with it deleted (watching the parent for it), and after it was created again
 * (a new watch set up on the new directory, which the last view proves). Runs the built CLI, on
 * pipes for the signals and on a real pseudo-terminal for `q`.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeStateFile, type LinkStatus } from '../../src/pppd/state.js';
import { killWatch, startWatch, type WatchProcess } from '../helpers/status-watch.js';
import { removeDir, tempDir } from '../helpers/supervisor-harness.js';

let dir = '';
let watcher: WatchProcess | undefined;
afterEach(async () => {
  await killWatch(watcher);
  watcher = undefined;
  await removeDir(dir);
});

const link = (name: string): LinkStatus => ({ name, state: 'up', since: new Date().toISOString(), supervisorPid: process.pid, restarts: 0 });

type Stage = 'present' | 'deleted' | 'recreated';

/** Brings a running watch (JSON Lines or screen) to `stage`, waiting for the view that shows it. */
async function reach(w: WatchProcess, state: string, stage: Stage, screen: boolean): Promise<void> {
  let at = await w.waitFor(screen ? '1 link: 1 up' : '"name":"first"');
  if (stage === 'present') return;
  await rm(state, { recursive: true });
  at = await w.waitFor(screen ? `waiting for ${state} to be created` : '"waitingForDir":true', at);
  if (stage === 'deleted') return;
  await mkdir(state);
  await writeStateFile(state, link('second'));
  await w.waitFor(screen ? /second\s+up/ : '"name":"second"', at);
}

describe('status --watch ends', () => {
  for (const stage of ['present', 'deleted', 'recreated'] as const) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`on ${signal} with its directory ${stage}`, async () => {
        dir = await tempDir('laplink-watch-sig-');
        const state = join(dir, 'state');
        await writeStateFile(state, link('first'));
        watcher = startWatch(['--json', '--state-dir', state]);
        await reach(watcher, state, stage, false);
        watcher.proc.kill(signal);
        expect(await watcher.exit).toBe(0);
      });
    }
    it(`on q on a terminal with its directory ${stage}`, async () => {
      dir = await tempDir('laplink-watch-sig-');
      const state = join(dir, 'state');
      await writeStateFile(state, link('first'));
      watcher = startWatch(['--no-color', '--state-dir', state], { tty: { cols: 120, rows: 30 } });
      await reach(watcher, state, stage, true);
      watcher.type('q');
      expect(await watcher.exit).toBe(0);
    });
  }
});
