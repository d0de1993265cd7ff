import type { PaceClock } from '../../src/line/pace.js';

/**
 * A clock the test moves by hand. Timers fire in time order; `lateMs` makes every wake-up late by
 * that much, as a busy host would.
 */
export class ManualClock implements PaceClock {
  t = 0;
  lateMs = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  wakeups = 0;
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms + this.lateMs, fn, id });
    return id;
  }
  clearTimer(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  get pending(): number {
    return this.timers.length;
  }
  /** Fires the earliest timer (moving the clock there); false when none is left. */
  fireNext(): boolean {
    if (!this.timers.length) return false;
    this.timers.sort((a, b) => a.at - b.at);
    const next = this.timers.shift()!;
    this.t = Math.max(this.t, next.at);
    this.wakeups++;
    next.fn();
    return true;
  }
}
