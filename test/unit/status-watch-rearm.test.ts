/**
 * The watch loop when its world changes under it: the state directory deleted while watched and
 * created again (the watch must set itself up again, or it never sees another file), and a
 * supervisor killed with -9, which changes no file (the watch must notice by itself that the link
 * is stale). In-process, on real directories and a real process.
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, it } from 'vitest';
import { writeStateFile, type LinkStatus } from '../../src/pppd/state.js';
import type { WatchView } from '../../src/status/view.js';
import { watchStatus } from '../../src/status/watch.js';

let dir = '';
const controller = { current: new AbortController() };
let child: ReturnType<typeof execa> | undefined;
afterEach(async () => {
  controller.current.abort();
  child?.kill('SIGKILL');
  await child?.catch(() => undefined);
  child = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = '';
});

const link = (over: Partial<LinkStatus>): LinkStatus => ({ name: 'link-a', state: 'up', since: new Date().toISOString(), supervisorPid: process.pid, restarts: 0, ...over });
const DEADLINE_MS = 20_000;

/** A running watch whose views can be waited for, each wait failing with every view seen so far. */
function startWatch(stateDir: string) {
  controller.current = new AbortController();
  const seen: WatchView[] = [];
  const waiters = new Set<() => void>();
  const w = watchStatus({ stateDir, signal: controller.current.signal, onView: (v) => (seen.push(v), waiters.forEach((f) => f())) });
  const next = (what: string, test: (v: WatchView) => boolean, from = seen.length) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`no view with ${what} within ${DEADLINE_MS} ms; views: ${JSON.stringify(seen.slice(from))}`))), DEADLINE_MS);
      function check() {
        const i = seen.findIndex((v, k) => k >= from && test(v));
        if (i < 0) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(i + 1);
      }
      waiters.add(check);
      check();
    });
  return { w, seen, next };
}

it('sets itself up again when its directory is deleted and created again, and still stops on abort', async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-rearm-'));
  const state = join(dir, 'state');
  await writeStateFile(state, link({ name: 'first' }));
  const { w, next } = startWatch(state);
  let at = await next('the first link', (v) => v.links.some((l) => l.name === 'first'));
  for (const round of [1, 2]) {
    await rm(state, { recursive: true });
    at = await next(`the directory gone (round ${round})`, (v) => v.waitingForDir === true, at);
    await mkdir(state);
    // a file written after the new directory's arrival: only a watch on the new directory sees it
    await new Promise((r) => setTimeout(r, 200));
    await writeStateFile(state, link({ name: `again${round}`, state: 'negotiating' }));
    at = await next(`the link written into the new directory (round ${round})`, (v) => v.links.some((l) => l.name === `again${round}` && l.state === 'negotiating'), at);
    await writeStateFile(state, link({ name: `again${round}`, state: 'up' }));
    at = await next(`a change of it (round ${round})`, (v) => v.links.some((l) => l.name === `again${round}` && l.state === 'up'), at);
  }
  controller.current.abort();
  await w.done;
});

it('a supervisor killed with -9 shows as stale without any file changing', async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-rearm-'));
  const state = join(dir, 'state');
  child = execa('sleep', ['60'], { reject: false });
  await writeStateFile(state, link({ supervisorPid: child.pid! }));
  const { w, next } = startWatch(state);
  // two views: the first look, and the one when the file watcher is ready; nothing wakes it after
  await next('the link up and not stale', (v) => v.links[0]?.state === 'up' && v.links[0]?.stale === false);
  const at = await next('the view once the file watcher is ready', (v) => v.links[0]?.stale === false);
  child.kill('SIGKILL');
  await child;
  await next('the link stale', (v) => v.links[0]?.stale === true, at);
  controller.current.abort();
  await w.done;
});
