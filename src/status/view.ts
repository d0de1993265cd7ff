import type { LinkStatus, UnreadableState } from '../pppd/state.js';
import type { BridgePortView } from './bridge-ports.js';
import type { LineHealth, QueueView } from './line-health.js';

/** What `status --watch` shows at one moment: the screen, the plain lines and the JSON Lines are
 *  all drawn from this one object, so the three outputs cannot disagree. */

export interface LinkCounters {
  rxBytes: number;
  txBytes: number;
  /** Bytes per second; absent until two samples a second apart exist. */
  rxRate?: number;
  txRate?: number;
}

export interface LinkView extends LinkStatus {
  /** The supervisor died while the link claimed to run (see status/table.ts isStale). */
  stale: boolean;
  /** The interface's counters (absent while no interface exists or it cannot be read). */
  counters?: LinkCounters;
  /** Whole seconds until the next retry, while in backoff or paused. */
  retryInSeconds?: number;
  /** The tty's kernel counters, while pppd holds it; `troubles` when errors grew since the last look. */
  line?: LineHealth;
  /** The interface's queue, while the link is up. */
  queue?: QueueView;
}

export interface BridgePortRates extends BridgePortView {
  deviceInRate?: number;
  deviceOutRate?: number;
}

export interface BridgeView {
  /** HOST:PORT of the control port, as given. */
  control: string;
  /** Why the control port could not be read this time (the watcher keeps trying). */
  error?: string;
  ports: BridgePortRates[];
}

export interface WatchView {
  /** ISO time of this view. */
  at: string;
  stateDir: string;
  /** Only this link, when a NAME was given. */
  name?: string;
  /** The state directory does not exist yet: the watcher waits for it. */
  waitingForDir?: boolean;
  /** Reading the state directory failed (kept watching). */
  error?: string;
  links: LinkView[];
  /** State files that exist but could not be shown (a FIFO, too large, not a state), with why. */
  unreadable: UnreadableState[];
  bridges: BridgeView[];
  /** The view refreshes itself every second (a countdown runs or counters move); false: it waits
   *  for the next change and costs nothing meanwhile. */
  ticking: boolean;
}

/** The parts of a link that make a change worth a plain line or a JSON object: its state file and
 *  staleness, not its counters or countdown (those move every second; a line per second per link
 *  would be a poll log, not a change log). */
export function linkChangeKey(l: LinkView): string {
  const { counters: _c, retryInSeconds: _r, line, queue: _q, callers, ...rest } = l;
  // counters, the queue and callers' bytes move every second; errors that start growing, and a
  // caller arriving, leaving or going from handshake to PPP, are changes worth a line
  return JSON.stringify([rest, line?.troubles?.map((t) => t.kind) ?? [], callers?.map((c) => [c.remote, c.ip, c.state]) ?? []]);
}

export function bridgeChangeKey(b: BridgeView): string {
  return JSON.stringify([b.control, b.error ?? '', b.ports.map((p) => [p.port, p.name, p.device, p.enable, p.tls ?? null, p.clients])]);
}

export function viewChangeKey(v: WatchView): string {
  return JSON.stringify([v.waitingForDir ?? false, v.error ?? '', v.links.map(linkChangeKey), v.unreadable, v.bridges.map(bridgeChangeKey)]);
}
