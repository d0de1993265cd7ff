import { statSync } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
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
/** See rearm(). */
const LATE_LOOK_MS = 1000;

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
  let lateLook: NodeJS.Timeout | undefined;

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
    w.on('ready', settled);
    // a watch that failed (the directory went away under it, or may not be read): look again; a
    // directory that went away is set up again by its parent's event, not here, so an error that
    // repeats (EACCES) cannot turn into a loop
    w.on('error', changed);
    return w;
  };

  /** The deepest existing directory on the way to the file. */
  const deepest = (): string => {
    let anchor = dir;
    while (!isDirectory(anchor) && dirname(anchor) !== anchor) anchor = dirname(anchor);
    return anchor;
  };
  /** That directory and its inode: what the watches were set up for. */
  const where = (anchor = deepest()): string => `${anchor}\0${inode(anchor)}`;
  let armedFor = '';

  /** The watches are in place: if the way to the file changed while they were being set up (a
   *  directory made or replaced before inotify watched for it), set them up again; else look. */
  const settled = (): void => {
    if (where() !== armedFor) rearm();
    else changed();
  };

  const arm = (): void => {
    const anchor = deepest();
    armedFor = where(anchor);
    if (anchor === dir) {
      watchers.push(watchDir(dir, (name) => isOurs(name) && changed()));
      if (dirname(dir) !== dir) watchers.push(watchDir(dirname(dir), (name) => name === basename(dir) && rearm()));
    } else {
      // wait for the next directory down on the way to the file
      const next = relative(anchor, dir).split(sep)[0]!;
      watchers.push(watchDir(anchor, (name) => name === next && rearm()));
    }
  };

  let rearming = false;
  function rearm(): void {
    if (closed || rearming) return;
    // several events for the directory's name come together (delete, create): set up once for them
    rearming = true;
    const old = watchers;
    watchers = [];
    // the old watches are closed before new ones are made: chokidar shares one fs.watch per path
    // between watchers, and a new watch joining the old one of a removed directory would hear nothing
    void Promise.all(old.map((w) => w.close())).then(() => {
      rearming = false;
      if (closed) return;
      arm();
      // A directory or file made right after the directory above it can land between the new
      // watch's first look and inotify's watch there, and chokidar's 'ready' has been seen to come
      // before that watch: one more look a second later closes the window (a one-off, not a poll).
      clearTimeout(lateLook);
      lateLook = setTimeout(settled, LATE_LOOK_MS);
    });
  }

  arm();
  return {
    async close() {
      closed = true;
      clearTimeout(due);
      clearTimeout(lateLook);
      await Promise.all(watchers.map((w) => w.close()));
      watchers = [];
    },
  };
}

function inode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
