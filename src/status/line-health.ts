/**
 * What a link's own line and queue say beside its state: the kernel's serial counters of its tty
 * (TIOCGICOUNT: framing, parity, overrun, break errors) and the PPP interface's queue (tc's backlog,
 * drops, marks). `status`, `status --json`, `status --watch` and the exporter read the same facts.
 *
 * A tty is read only while pppd holds it open: opening an idle serial line raises DTR, which can
 * answer a modem or wake the far end, and `status` must never do that.
 */
import { counterGrowth, lineTroubles, readTtyCounters, type LineTrouble, type SerialCounters } from '../line/serial-counters.js';
import type { LinkState, LinkStatus } from '../pppd/state.js';
import { readQueueStats, type QueueStats } from '../pppd/queue-stats.js';
import { formatBytes } from './format.js';

/** States in which pppd runs and holds the link's tty open. */
export const PPPD_HOLDS_TTY: ReadonlySet<LinkState> = new Set(['starting', 'handshaking', 'negotiating', 'up']);

/** tc answers in milliseconds; past this the view goes on without the queue. */
const QUEUE_READ_TIMEOUT_MS = 2000;

export interface LineHealth {
  device: string;
  /** bit/s as the kernel has the line configured now. */
  speed?: number;
  /** Counters since boot (absent on a pseudo-terminal, whose driver keeps none). */
  counters?: SerialCounters;
  /** Why there are none: a pseudo-terminal, or the line could not be read. */
  note?: string;
  /** Errors that grew since the previous look (status --watch), with the likely cause. */
  troubles?: LineTrouble[];
}

export interface QueueView {
  managedBy: string;
  shaped: boolean;
  rateBits?: number;
  backlogBytes: number;
  backlogPackets: number;
  drops: number;
  marks: number;
}

export function pppdHoldsTty(s: Pick<LinkStatus, 'state' | 'pppdPid' | 'device'>, stale: boolean): boolean {
  return s.device !== undefined && !stale && s.pppdPid !== undefined && PPPD_HOLDS_TTY.has(s.state);
}

/** The line's counters, or undefined when pppd does not hold it (nothing is opened then). */
export function readLineHealth(s: LinkStatus, stale: boolean): LineHealth | undefined {
  if (!pppdHoldsTty(s, stale)) return undefined;
  const device = s.device!;
  try {
    const r = readTtyCounters(device);
    return { device, speed: r.speed, counters: r.counters, note: r.noCounters };
  } catch (err) {
    return { device, note: (err as Error).message.replace(`${device}: `, '') };
  }
}

/** The interface's queue while the link is up; undefined otherwise or when tc cannot say. */
export async function readQueueView(s: LinkStatus, stale: boolean, tc?: string): Promise<QueueView | undefined> {
  if (s.state !== 'up' || !s.iface || stale) return undefined;
  try {
    const q: QueueStats = await readQueueStats(s.iface, { tc, signal: AbortSignal.timeout(QUEUE_READ_TIMEOUT_MS) });
    return { managedBy: q.managedBy, shaped: q.shaped, rateBits: q.rateBits, backlogBytes: q.backlogBytes, backlogPackets: q.backlogPackets, drops: q.drops, marks: q.marks };
  } catch {
    return undefined; // no tc, or the interface went away between the state file and the read
  }
}

/** Framing, parity, overrun, break and buffer errors since boot. */
export function errorTotal(c: SerialCounters): number {
  return c.frame + c.parity + c.overrun + c.brk + c.bufOverrun;
}

/** Growth of each line's counters between looks, keyed by device: status --watch flags a line
 *  whose errors grow, which a total since boot cannot say. */
export class LineErrorMeter {
  private readonly last = new Map<string, SerialCounters>();

  look(h: LineHealth): LineHealth {
    if (!h.counters) return h;
    const before = this.last.get(h.device);
    this.last.set(h.device, h.counters);
    if (!before) return h;
    const troubles = lineTroubles(counterGrowth(before, h.counters));
    return troubles.length ? { ...h, troubles } : h;
  }

  keepOnly(devices: ReadonlySet<string>): void {
    for (const d of this.last.keys()) if (!devices.has(d)) this.last.delete(d);
  }
}

/** `line /dev/ttyS0 115200 bit/s: rx 1.2 KiB tx 3.4 KiB, errors: frame 2` (errors only when there are some). */
export function describeLine(h: LineHealth): string {
  const speed = h.speed ? ` ${h.speed} bit/s` : '';
  if (!h.counters) return `line ${h.device}${speed}: ${h.note ?? 'no counters'}`;
  const c = h.counters;
  const errors = (['frame', 'parity', 'overrun', 'brk', 'bufOverrun'] as const).filter((k) => c[k] > 0).map((k) => `${ERROR_WORD[k]} ${c[k]}`);
  const grown = h.troubles?.length ? `; GROWING: ${h.troubles.map((t) => `${t.count} ${t.kind} (${t.cause})`).join('; ')}` : '';
  return `line ${h.device}${speed}: rx ${formatBytes(c.rx)} tx ${formatBytes(c.tx)}, ${errors.length ? `errors since boot: ${errors.join(' ')}` : 'no errors'}${grown}`;
}

const ERROR_WORD = { frame: 'frame', parity: 'parity', overrun: 'overrun', brk: 'break', bufOverrun: 'buffer-overrun' } as const;

/** `queue cake 86.0 kbit/s: backlog 1.2 KiB (2 packets), 10 drops, 3 marks`. */
export function describeQueue(q: QueueView): string {
  const rate = q.rateBits ? ` ${(q.rateBits / 1000).toFixed(1)} kbit/s` : q.shaped ? '' : ' (not shaped)';
  return `queue ${q.managedBy}${rate}: backlog ${formatBytes(q.backlogBytes)} (${q.backlogPackets} packet${q.backlogPackets === 1 ? '' : 's'}), ${q.drops} drops, ${q.marks} marks`;
}
