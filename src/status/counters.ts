import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Interface byte counters as the kernel keeps them: `<sysfsRoot>/<iface>/statistics/{rx,tx}_bytes`.
 *  The root is injectable so tests can point at a directory of their own counter files. */
export const DEFAULT_SYSFS_NET = '/sys/class/net';

/** What the kernel accepts as an interface name (IFNAMSIZ 16 with the NUL); anything else, such as
 *  `..` or a slash from a tampered state file, never becomes part of a path. */
export const IFACE_NAME = /^(?!\.\.?$)[A-Za-z0-9_.:-]{1,15}$/;

export interface IfaceCounters {
  rxBytes: number;
  txBytes: number;
}

async function readCounter(path: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(path, 'utf8')).trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  } catch {
    return undefined; // the interface went away between the state file and the read
  }
}

/** The interface's counters, or undefined when it does not exist (any more) or its name is not one. */
export async function readIfaceCounters(sysfsRoot: string, iface: string): Promise<IfaceCounters | undefined> {
  if (!IFACE_NAME.test(iface)) return undefined;
  const dir = join(sysfsRoot, iface, 'statistics');
  const [rxBytes, txBytes] = await Promise.all([readCounter(join(dir, 'rx_bytes')), readCounter(join(dir, 'tx_bytes'))]);
  return rxBytes === undefined || txBytes === undefined ? undefined : { rxBytes, txBytes };
}

export interface CounterReading extends IfaceCounters {
  /** Bytes per second over the last interval, once two samples exist. */
  rxRate?: number;
  txRate?: number;
  /** The counters differ from the previous sample: the caller keeps ticking while this holds. */
  moved: boolean;
  /** First sample of this counter: one more sample is needed before a rate can be known. */
  first: boolean;
}

interface Sample extends IfaceCounters {
  at: number;
  rxRate?: number;
  txRate?: number;
  /** First sample, or the counters moved over the last full interval: keep sampling. */
  active: boolean;
}

/** Rates need an interval: a sample taken sooner than this after the last one (a state file event
 *  right after a tick) reports the bytes but keeps the previous rate and baseline, so a 20 ms
 *  interval never shows a burst as a wild rate. */
const MIN_RATE_INTERVAL_MS = 500;

/** Turns successive counter samples into rates, one baseline per key (link name + interface, so a
 *  new pppd run on a reused ppp0 starts a new baseline). */
export class RateMeter {
  private readonly last = new Map<string, Sample>();

  sample(key: string, now: IfaceCounters, at: number): CounterReading {
    const prev = this.last.get(key);
    if (!prev) {
      this.last.set(key, { ...now, at, active: true });
      return { ...now, moved: false, first: true };
    }
    // A counter that went backwards (interface recreated) is a new baseline, not a negative rate.
    const reset = now.rxBytes < prev.rxBytes || now.txBytes < prev.txBytes;
    const moved = reset || now.rxBytes !== prev.rxBytes || now.txBytes !== prev.txBytes;
    const dt = at - prev.at;
    if (reset) {
      this.last.set(key, { ...now, at, active: true });
      return { ...now, moved, first: true };
    }
    // Too soon to judge: "moved" stays what the last full interval said, so an extra sample (a
    // state file event) never ends the ticking that the interval still owes.
    if (dt < MIN_RATE_INTERVAL_MS) return { ...now, rxRate: prev.rxRate, txRate: prev.txRate, moved: moved || prev.active, first: false };
    const rxRate = ((now.rxBytes - prev.rxBytes) * 1000) / dt;
    const txRate = ((now.txBytes - prev.txBytes) * 1000) / dt;
    this.last.set(key, { ...now, at, rxRate, txRate, active: moved });
    return { ...now, rxRate, txRate, moved, first: false };
  }

  /** Drops baselines of keys not seen in this round (links gone, interfaces ended): memory stays
   *  bounded by the links on screen. */
  keepOnly(keys: ReadonlySet<string>): void {
    for (const k of this.last.keys()) if (!keys.has(k)) this.last.delete(k);
  }
}
