import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/**
 * "Tell me when this file appears or changes", whichever way it is written: in place (truncate and
 * write), renamed into place (editors, atomic writers), unlinked and created again (install(1)), or
 * brought by a directory that is created or replaced (udev's /dev/serial/by-id, a config directory
 * swapped whole).
 *
 * It listens to chokidar's 'raw' events (each inotify event, as it comes) on the file's directory,
 * never to 'add'/'change': those go through leading-edge throttles (one directory read per second,
 * 5 ms per file) that dropped 12-13 of 40 renames-into-place a second or more apart, measured on a
 * directory watch; 'raw' dropped none.
 *
 * An inotify watch follows the directory's inode, not its name: a directory removed and made again,
 * or replaced by a rename, would leave it watching the old one for good. So the directory's parent
 * is watched for the directory's name too, and every event for that name sets the watch up again.
 * A directory that does not exist yet is waited for the same way, from its deepest existing
 * ancestor down, one level per event.
 *
 * `onChange` is also called once each watch is in place: what changed while it was being set up
 * (between the caller's own look and inotify's) is not lost. So it can be called when nothing
 * changed: callers compare what they read with what they had.
 */
export interface FileWatchOptions {
  /** Call `onChange` only once the events stopped for this long (ms): one save is several events
   *  (truncate, write; unlink, create, write, chmod), and a reader in between sees half a file.
   *  Default 0: once per turn of the event loop. */
  settleMs?: number;
  /** Which names in the directory count (default: the file's own name only). */
  names?: (name: string) => boolean;
}

export interface FileWatch {
  close(): Promise<void>;
}

/** Watches `path` (a file, which need not exist, nor its directory) and calls `onChange` as above. */
export function watchFile(path: string, onChange: () => void, options: FileWatchOptions = {}): FileWatch {
  const file = resolve(path);
  const dir = dirname(file);
  const isOurs = options.names ?? ((name: string) => name === basename(file));
  const settleMs = options.settleMs ?? 0;
  let closed = false;
  let watchers: FSWatcher[] = [];
  let due: NodeJS.Timeout | undefined;

  const changed = (): void => {
    if (closed) return;
    clearTimeout(due);
    due = setTimeout(() => {
      if (!closed) onChange();
    }, settleMs);
  };

  /** One chokidar watch on `on` alone (its entries are not watched one by one): `react` hears the
   *  name of every entry an event was about. */
  const watchDir = (on: string, react: (name: string) => void): FSWatcher => {
    const w = watch(on, { depth: 0, ignoreInitial: true, followSymlinks: false, ignored: (p: string) => resolve(p) !== on });
    w.on('raw', (_event, name) => react(basename(String(name))));
    w.on('ready', changed);
    // a watch that failed (the directory went away under it, or may not be read): look again; a
    // directory that went away is set up again by its parent's event, not here, so an error that
    // repeats (EACCES) cannot turn into a loop
    w.on('error', changed);
    return w;
  };

  const arm = (): void => {
    // the deepest existing directory on the way to the file, and the name below it to wait for
    let anchor = dir;
    let below: string | undefined;
    while (!isDirectory(anchor) && dirname(anchor) !== anchor) {
      below = basename(anchor);
      anchor = dirname(anchor);
    }
    if (below === undefined) {
      watchers.push(watchDir(dir, (name) => isOurs(name) && changed()));
      if (dirname(dir) !== dir) below = basename(dir);
      anchor = dirname(dir);
    }
    if (below !== undefined) {
      const next = below;
      watchers.push(watchDir(anchor, (name) => name === next && rearm()));
    }
  };

  let rearming = false;
  function rearm(): void {
    if (closed || rearming) return;
    // several events for the directory's name come together (delete, create): set up once for them
    rearming = true;
    setImmediate(() => {
      rearming = false;
      if (closed) return;
      const old = watchers;
      watchers = [];
      for (const w of old) void w.close();
      arm();
      changed();
    });
  }

  arm();
  return {
    async close() {
      closed = true;
      clearTimeout(due);
      await Promise.all(watchers.map((w) => w.close()));
      watchers = [];
    },
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
