import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { watch } from 'chokidar';
import { sleep } from '../runtime/sleep.js';

/** Waiting for a device node to appear (waiting for a time is runtime/sleep.ts); it ends early when
 *  `signal` aborts (stop, or a reload to apply at once). */

/** Resolves once `path` exists or `signal` aborts. A directory that does not exist yet
 *  (/dev/serial/by-id before the first USB adapter) cannot be watched: then it resolves after a
 *  second and the caller looks again. */
export function waitForPath(path: string, signal: AbortSignal): Promise<void> {
  const dir = dirname(path);
  const name = basename(path);
  if (!existsSync(dir)) return sleep(1000, signal);
  return new Promise((resolve) => {
    const watcher = watch(dir, { depth: 0, ignoreInitial: true, followSymlinks: false });
    const check = () => {
      if (existsSync(path) || signal.aborted) finish();
    };
    const finish = () => {
      signal.removeEventListener('abort', finish);
      void watcher.close();
      resolve();
    };
    watcher.on('all', (_e, p) => {
      if (basename(p) === name) check();
    });
    watcher.on('ready', check);
    signal.addEventListener('abort', finish, { once: true });
  });
}
