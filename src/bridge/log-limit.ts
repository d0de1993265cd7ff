/**
 * Repeated log lines, rate-limited: at most `perInterval` lines of one kind per interval, then one
 * "… N more suppressed" line when the interval ends. A client sending random bytes to a telnet port
 * otherwise makes tens of thousands of lines per 20 MB (issue 18). The kind is the message with its
 * numbers taken out, so "unknown command 3" and "unknown command 7" count together. Memory stays
 * bounded: at most `maxKinds` kinds are tracked per interval, the rest share one.
 */
export interface LogLimitOptions {
  perInterval?: number;
  intervalMs?: number;
  maxKinds?: number;
}

interface KindCount<T> {
  shown: number;
  suppressed: number;
  /** The first entry of this kind in the interval, for the summary. */
  first: T;
}

const OTHER = '\0other';

export class LogLimiter<T> {
  private readonly perInterval: number;
  private readonly intervalMs: number;
  private readonly maxKinds: number;
  private kinds = new Map<string, KindCount<T>>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param emit where entries (and summaries) go
   * @param summary the entry saying `count` entries like `first` were left out (`first` undefined:
   *   entries of many kinds, past maxKinds)
   */
  constructor(
    private readonly emit: (entry: T) => void,
    private readonly summary: (count: number, first: T, many: boolean) => T,
    options: LogLimitOptions = {},
  ) {
    this.perInterval = options.perInterval ?? 10;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.maxKinds = options.maxKinds ?? 64;
  }

  /** Emits `entry` unless `message`'s kind already had its share of this interval. */
  log(message: string, entry: T): void {
    let kind = message.replace(/\d+/g, '#');
    if (!this.kinds.has(kind) && this.kinds.size >= this.maxKinds) kind = OTHER;
    let k = this.kinds.get(kind);
    if (!k) {
      k = { shown: 0, suppressed: 0, first: entry };
      this.kinds.set(kind, k);
    }
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs).unref();
    if (k.shown < this.perInterval) {
      k.shown++;
      this.emit(entry);
    } else k.suppressed++;
  }

  /** Ends the interval now: says how many entries of each kind were left out, and counts afresh. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const kinds = this.kinds;
    this.kinds = new Map();
    for (const [kind, k] of kinds) if (k.suppressed > 0) this.emit(this.summary(k.suppressed, k.first, kind === OTHER));
  }
}

/** The summary line's text. */
export function suppressedText(count: number, first: string, many: boolean): string {
  return `… ${count} more ${many ? 'messages of other kinds' : `like "${first}"`} suppressed`;
}
