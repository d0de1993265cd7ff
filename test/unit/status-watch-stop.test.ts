/**
 * A stop ends the watch in whatever state its file watcher is: before its first look, while chokidar
 * is still scanning, right after the directory went or came back. (Whether every inotify handle is
 * gone is chokidar's: under load its close() resolved with a handle still open, 1 run in 3 here; the
 * CLI leaves anyway, see cli/status-watch.ts.) And a watcher whose close never settles, the state
 * SIGTERM once stopped working in, is not waited for: through watchStatus's `watchDir` seam, with
 * the directory there, deleted, and created again.
 */
import { watch } from 'chokidar';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { writeStateFile } from '../../src/pppd/state.js';
import type { WatchView } from '../../src/status/view.js';
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

/** chokidar's watch, except that close() never settles (it still closes the real watcher): the state
 *  the viewer was stuck in when SIGTERM stopped working after its directory was replaced. */
const closeNeverSettles: typeof watch = (paths, opts) => {
  const w = watch(paths, opts);
  const close = w.close.bind(w);
  w.close = () => {
    void close();
    return new Promise<void>(() => undefined);
  };
  return w;
};

/** Polls `views` until one passes `test` (each wait fails with the views seen, after 20 s). */
async function viewWith(views: WatchView[], what: string, test: (v: WatchView) => boolean, from: number): Promise<number> {
  const end = Date.now() + 20_000;
  for (;;) {
    const i = views.findIndex((v, k) => k >= from && test(v));
    if (i >= 0) return i + 1;
    if (Date.now() > end) throw new Error(`no view with ${what} within 20 s; views: ${JSON.stringify(views.slice(from))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const stage of ['present', 'deleted', 'recreated'] as const) {
  it(`a stop ends the watch with its directory ${stage} though no watcher's close ever settles`, async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-watch-stop-'));
    const state = join(dir, 'state');
    const link = (name: string) => ({ name, state: 'up' as const, since: new Date().toISOString(), supervisorPid: process.pid, restarts: 0 });
    await writeStateFile(state, link('first'));
    const controller = new AbortController();
    const views: WatchView[] = [];
    const w = watchStatus({ stateDir: state, signal: controller.signal, onView: (v) => views.push(v), watchDir: closeNeverSettles });
    let at = await viewWith(views, 'the first link', (v) => v.links.some((l) => l.name === 'first'), 0);
    if (stage !== 'present') {
      await rm(state, { recursive: true });
      at = await viewWith(views, 'the directory gone', (v) => v.waitingForDir === true, at);
    }
    if (stage === 'recreated') {
      await mkdir(state);
      await writeStateFile(state, link('second'));
      await viewWith(views, 'the link in the new directory', (v) => v.links.some((l) => l.name === 'second'), at);
    }
    controller.abort();
    await w.done;
  });
}
