/** Exponential backoff with jitter, and init's "respawning too fast" guard, as pure pieces. */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** ±fraction of the delay, so two ends (or many links) do not retry in lockstep. */
  jitter: number;
}

/** Delay before retry number `attempt` (0-based); `random` in [0,1). */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(o.maxMs, o.initialMs * o.factor ** attempt);
  const spread = base * o.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base + spread));
}

export interface TooFastOptions {
  starts: number;
  windowMs: number;
  pauseMs: number;
}

/** Remembers start times; `tooFast()` is true when `starts` starts fell within `windowMs`. */
export class StartHistory {
  private times: number[] = [];
  constructor(private readonly o: TooFastOptions) {}

  record(now: number): void {
    this.times.push(now);
    if (this.times.length > this.o.starts) this.times.shift();
  }

  tooFast(now: number): boolean {
    return this.times.length >= this.o.starts && now - this.times[0]! < this.o.windowMs;
  }

  clear(): void {
    this.times = [];
  }
}
