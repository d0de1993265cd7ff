import { existsSync } from 'node:fs';
import { watchFile } from '../runtime/watch-file.js';

/** Waiting for a device node to appear (waiting for a time is runtime/sleep.ts); it ends early when
 *  `signal` aborts (stop, or a reload to apply at once). */

/** Resolves once `path` exists or `signal` aborts. The node may come by create or by rename (udev's
 *  symlinks in /dev/serial/by-id), in a directory that does not exist yet or is made again when the
 *  last adapter goes: runtime/watch-file.ts follows all of these. */
export function waitForPath(path: string, signal: AbortSignal): Promise<void> {
  if (signal.aborted || existsSync(path)) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = (): void => {
      signal.removeEventListener('abort', finish);
      void watch.close();
      resolve();
    };
    const watch = watchFile(path, () => {
      if (existsSync(path)) finish();
    });
    signal.addEventListener('abort', finish, { once: true });
  });
}
