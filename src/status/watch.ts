import { errnoText } from '../socket-reason.js';
import { existsSync, statSync } from 'node:fs';
import { isRunningState } from './table.js';
import { basename, dirname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { UsageError } from '../errors.js';
import { isStale } from './table.js';
import { readStateDir, readStateFile, unreadableOf, type LinkStatus, type UnreadableState } from '../pppd/state.js';
import { ControlPortError, controlLabel, queryBridgePorts, type ControlAddress } from './control-client.js';
import { DEFAULT_SYSFS_NET, RateMeter, readIfaceCounters } from './counters.js';
import { LineErrorMeter, readLineHealth, readQueueView } from './line-health.js';
import { printable, printableDeep } from './printable.js';
import type { BridgeView, LinkView, WatchView } from './view.js';

/**
 * The `status --watch` loop. Two things wake it:
 *  - chokidar (inotify) on the state directory: every state change is a rename of `<NAME>.json` into
 *    place by the supervisor, seen at once, at no cost while nothing happens;
 *  - a 1 s tick, armed only while something on screen moves by itself: a retry countdown, or
 *    interface counters that changed since the previous tick (a new interface gets one tick to take
 *    its baseline). Counter changes cannot be noticed without reading them, so an interface whose
 *    counters stood still for one second is not read again until the next state change or
 *    `refresh()` (a key press on the terminal). The price: traffic starting on an idle up link shows
 *    at the next event, not at once; the gain: an idle watcher costs 0 CPU ticks, which is the point
 *    of a view left open for days.
 * Bridge control ports cannot push either; they are asked every second while a port has clients or
 * its counters moved, else every BRIDGE_IDLE_PROBE_MS so a new client shows within that time.
 */

export const TICK_MS = 1000;
export const BRIDGE_IDLE_PROBE_MS = 5000;
/**
 * A supervisor killed with -9 changes no file, so nothing wakes the watch: while a link on screen
 * claims to run, its supervisor's liveness (signal 0 and /proc state, no file read) is checked this
 * often, and a change redraws it as stale, as plain `status` would say.
 */
export const LIVENESS_CHECK_MS = 2000;
/** How long a stop waits for the file watcher to close before leaving anyway. */
const CLOSE_GRACE_MS = 1000;

export type { ControlAddress };

export interface WatchOptions {
  stateDir: string;
  /** Only this link. */
  name?: string;
  /** Root of the interface counters (default /sys/class/net). */
  sysfsRoot?: string;
  /** `bridge run` control ports to show (each plain TCP, or TLS with its client settings). */
  controls?: readonly ControlAddress[];
  signal: AbortSignal;
  /** Called with every new view (each state change, each tick). */
  onView(view: WatchView): void;
  /** How a directory is watched: chokidar's `watch`. Tests pass one whose watchers misbehave (a
   *  close that never settles) to prove a stop ends the watch anyway; nothing else replaces it. */
  watchDir?: typeof watch;
}

export interface StatusWatch {
  /** Read everything again now (a key press). */
  refresh(): void;
  /** Resolves once the signal aborted and the watcher is closed. */
  done: Promise<void>;
}

/** Refuses a state directory whose parent does not exist either: the supervisor creates the state
 *  directory itself (mkdir -p on its first write), so `--watch` started before the first `serve`
 *  waits for it; a missing parent is a typo more likely than a directory still to come. */
export function checkStateDir(stateDir: string): void {
  if (existsSync(stateDir)) {
    if (!statSync(stateDir).isDirectory()) throw new UsageError(`--state-dir: ${stateDir} is not a directory`);
    return;
  }
  const parent = dirname(resolve(stateDir));
  if (!existsSync(parent)) throw new UsageError(`--state-dir: ${stateDir} does not exist, nor does its parent ${parent}`);
}

/** Every link's state (or the one named), and the state files that could not be read: the same
 *  schema as plain `status`, so a bad file is listed with its reason and never ends the watch. */
async function readLinks(stateDir: string, name: string | undefined): Promise<{ links: LinkStatus[]; unreadable: UnreadableState[] }> {
  let found: { links: LinkStatus[]; unreadable: UnreadableState[] };
  if (name) {
    found = await readStateFile(stateDir, name).then(
      (s) => ({ links: s ? [s] : [], unreadable: [] }),
      (err: unknown) => ({ links: [], unreadable: [unreadableOf(stateDir, name, err)] }),
    );
  } else found = await readStateDir(stateDir);
  return { links: found.links.map(printableDeep), unreadable: found.unreadable.map(printableDeep) };
}

export function watchStatus(options: WatchOptions): StatusWatch {
  const { stateDir, name, signal } = options;
  const sysfsRoot = options.sysfsRoot ?? DEFAULT_SYSFS_NET;
  const controls = options.controls ?? [];
  checkStateDir(stateDir);
  const linkMeter = new RateMeter();
  const portMeter = new RateMeter();
  const lineMeter = new LineErrorMeter();
  let bridges: BridgeView[] = controls.map((c) => ({ control: controlLabel(c.host, c.port), ports: [] }));
  let bridgesDue = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let watcher: FSWatcher | undefined;
  let lateLook: NodeJS.Timeout | undefined;
  let livenessTimer: NodeJS.Timeout | undefined;
  /** Every watcher made and not yet closed: a stop closes them all, not only the current one. */
  const open = new Set<FSWatcher>();
  const close = (w: FSWatcher): Promise<void> => w.close().catch(() => undefined).finally(() => open.delete(w));
  /** The state directory's inode the watcher was set up for (undefined: set up for its absence). A
   *  directory deleted and created again between two looks is a new inode, with no watch on it. */
  let armedIno: number | undefined;
  const dirIno = (): number | undefined => {
    try {
      const st = statSync(stateDir);
      return st.isDirectory() ? st.ino : undefined;
    } catch {
      return undefined;
    }
  };

  const sampleLinks = async (statuses: LinkStatus[], now: number): Promise<{ links: LinkView[]; moving: boolean }> => {
    let moving = false;
    const keys = new Set<string>();
    const devices = new Set<string>();
    const links = await Promise.all(
      statuses.map(async (s): Promise<LinkView> => {
        const view: LinkView = { ...s, stale: isStale(s) };
        if (s.iface && !view.stale) {
          const c = await readIfaceCounters(sysfsRoot, s.iface);
          if (c) {
            const key = `${s.name}\0${s.iface}`;
            keys.add(key);
            const r = linkMeter.sample(key, c, now);
            view.counters = { rxBytes: r.rxBytes, txBytes: r.txBytes, rxRate: r.rxRate, txRate: r.txRate };
            if (r.moved || r.first) moving = true;
          }
        }
        const line = readLineHealth(s, view.stale);
        if (line) {
          devices.add(line.device);
          view.line = lineMeter.look(line);
        }
        view.queue = await readQueueView(s, view.stale);
        if ((s.state === 'backoff' || s.state === 'paused') && s.nextRetry && !view.stale) {
          const left = Math.ceil((Date.parse(s.nextRetry) - now) / 1000);
          if (left > 0) {
            view.retryInSeconds = left;
            moving = true;
          }
        }
        return view;
      }),
    );
    linkMeter.keepOnly(keys);
    lineMeter.keepOnly(devices);
    return { links, moving };
  };

  const askBridges = async (now: number): Promise<void> => {
    let active = false;
    const keys = new Set<string>();
    bridges = await Promise.all(
      controls.map(async (c): Promise<BridgeView> => {
        const control = controlLabel(c.host, c.port);
        try {
          const ports = (await queryBridgePorts(c, signal)).map((p) => {
            const key = `${control}\0${p.port}`;
            keys.add(key);
            const r = portMeter.sample(key, { rxBytes: p.deviceIn, txBytes: p.deviceOut }, now);
            if (r.moved || r.first || p.clients.length > 0) active = true;
            return { ...p, deviceInRate: r.rxRate, deviceOutRate: r.txRate };
          });
          return { control, ports: printableDeep(ports) };
        } catch (err) {
          // the view names the control port beside the reason
          return { control, error: printable(err instanceof ControlPortError ? err.reason : String(err)), ports: [] };
        }
      }),
    );
    portMeter.keepOnly(keys);
    bridgesDue = now + (active ? TICK_MS : BRIDGE_IDLE_PROBE_MS);
  };

  /** Redraws when a shown link's supervisor died since the last view; else looks again later. */
  const watchLiveness = (shown: readonly LinkView[]): void => {
    clearTimeout(livenessTimer);
    livenessTimer = undefined;
    const claimed = shown.filter((l) => !l.stale && isRunningState(l.state));
    if (claimed.length === 0 || signal.aborted) return;
    const check = () => {
      if (claimed.some((l) => isStale(l))) refresh();
      else livenessTimer = setTimeout(check, LIVENESS_CHECK_MS);
    };
    livenessTimer = setTimeout(check, LIVENESS_CHECK_MS);
  };

  const round = async (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const now = Date.now();
    const ino = dirIno();
    const waitingForDir = ino === undefined;
    // the directory came, went, or was replaced since the watcher was set up: chokidar reports
    // none of these reliably (a deleted directory's watch is simply gone), so set up again
    if (ino !== armedIno) rearm();
    let error: string | undefined;
    const found = waitingForDir
      ? { links: [], unreadable: [] }
      : await readLinks(stateDir, name).catch((err: NodeJS.ErrnoException) => {
          error = `cannot read ${stateDir}: ${errnoText(err)}`;
          return { links: [], unreadable: [] };
        });
    const { links, moving } = await sampleLinks(found.links, now);
    if (controls.length > 0 && now >= bridgesDue) await askBridges(now);
    if (signal.aborted) return;
    watchLiveness(links);
    const next = Math.min(moving ? now + TICK_MS : Infinity, controls.length > 0 ? bridgesDue : Infinity);
    options.onView({ at: new Date(now).toISOString(), stateDir, name, waitingForDir: waitingForDir || undefined, error, links, unreadable: found.unreadable, bridges, ticking: moving });
    if (next !== Infinity) timer = setTimeout(refresh, Math.max(0, next - Date.now()));
  };

  /** Rounds never overlap: a change seen during one runs one more round after it. */
  function refresh(): void {
    if (signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await round();
      } while (again && !signal.aborted);
    })().finally(() => (running = undefined));
  }

  const isOurs = (path: string): boolean => {
    const file = basename(path);
    return name ? file === `${name}.json` : file.endsWith('.json');
  };

  /** chokidar 5 sees a missing directory being created ('addDir' of the directory itself) but
   *  then reports nothing inside it, so the watcher is set up again on the directory's arrival (and
   *  departure); the round after 'ready' picks up any file written in between.
   *  State changes come from chokidar's 'raw' events (each inotify event, unthrottled), not from
   *  'change': its leading-edge throttles (1 s per directory read, 5 ms per file) dropped 12-13 of
   *  40 renames-into-place written a second or more apart, measured here; 'raw' dropped none. A
   *  read of the file raises no event, so the rounds cannot feed themselves. */
  const rearm = (): void => {
    if (watcher) void close(watcher);
    watcher = undefined;
    if (!signal.aborted) arm(true);
    refresh();
  };
  const arm = (rearmed = false): void => {
    armedIno = dirIno();
    const armedWithoutDir = armedIno === undefined;
    // A missing directory: watch its parent for it ourselves. chokidar's own way (its parent watch is
    // added after 'ready') missed a directory made right after the first look, 1 run in 4 here.
    const parent = dirname(resolve(stateDir));
    const only = (p: string) => resolve(p) !== parent && basename(p) !== basename(stateDir);
    const watchDir = options.watchDir ?? watch;
    const w = armedWithoutDir ? watchDir(parent, { depth: 0, ignoreInitial: true, followSymlinks: false, ignored: only }) : watchDir(stateDir, { depth: 0, ignoreInitial: true, followSymlinks: false });
    watcher = w;
    open.add(w);
    w.on('all', (event, path) => {
      if (resolve(path) === resolve(stateDir) && (event === 'addDir' || event === 'unlinkDir')) {
        if (w === watcher) rearm();
      } else if (isOurs(path)) refresh();
    });
    // A state file written right after its directory appeared (the supervisor's mkdir -p, then the
    // file) can land between the new watcher's first look and its inotify watch. One more look a
    // second later closes that window; a one-off, not a poll.
    if (rearmed) w.once('ready', () => (lateLook = setTimeout(refresh, TICK_MS)));
    w.on('raw', (_event, path) => {
      // while the directory is missing, chokidar watches its parent; its 'addDir' goes through the
      // same 1 s readdir throttle and was missed, the raw event for the name was not. The directory's
      // own deletion comes only as a raw event for its name: the round after it sets up again.
      if (isOurs(path) || basename(path) === basename(stateDir)) refresh();
    });
    w.on('ready', refresh);
    w.on('error', refresh);
  };

  arm();
  refresh();
  const done = new Promise<void>((resolveDone) => {
    const stop = () => {
      clearTimeout(timer);
      clearTimeout(lateLook);
      clearTimeout(livenessTimer);
      // whatever state the watcher is in (closing an old one, setting up a new one, a round under
      // way), the watch ends: a close that does not finish is not waited for beyond the grace
      let grace: NodeJS.Timeout | undefined;
      const closed = Promise.all([...[...open].map(close), running]);
      void Promise.race([closed, new Promise<void>((r) => (grace = setTimeout(r, CLOSE_GRACE_MS).unref()))]).then(() => {
        clearTimeout(grace);
        clearTimeout(timer); // a round that was running when the signal came may have armed one
        clearTimeout(livenessTimer);
        resolveDone();
      });
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  return { refresh, done };
}
