/**
 * A stop ends the watch in whatever state its file watcher is: before its first look, while chokidar
 * is still scanning, right after the directory went or came back. (Whether every inotify handle is
 * gone is chokidar's: under load its close() resolved with a handle still open, 1 run in 3 here; the
 * CLI leaves anyway, see cli/status-watch.ts.)
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { writeStateFile } from '../../src/pppd/state.js';
import { watchStatus } from '../../src/status/watch.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('done resolves after a stop at any moment of the watch', async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-watch-stop-'));
  const state = join(dir, 'state');
  let stopped = 0;
  for (let i = 0; i < 40; i++) {
    const controller = new AbortController();
    let views = 0;
    const stopAfter = i % 4; // 0: before any view; then after 1, 2, 3 views
    const w = watchStatus({ stateDir: state, signal: controller.signal, onView: () => ++views >= stopAfter && controller.abort() });
    if (stopAfter === 0) controller.abort();
    // the directory comes and goes under it
    if (i % 2) await writeStateFile(state, { name: 'a', state: 'up', since: new Date().toISOString(), supervisorPid: process.pid, restarts: 0 });
    else await rm(state, { recursive: true, force: true });
    if (!controller.signal.aborted && i % 3 === 0) await mkdir(state, { recursive: true });
    setTimeout(() => controller.abort(), 50 + (i % 5) * 20);
    await w.done;
    stopped++;
  }
  expect(stopped).toBe(40);
});
