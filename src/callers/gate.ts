/**
 * Who may call, before anything is spent on them: the allow-list, then a per-address cap on
 * callers at once, then a per-address rate of new connections (a token bucket). A flood from one
 * address empties its own bucket and nobody else's. The table of addresses is bounded: idle, full
 * buckets are forgotten first, and past the bound a new address shares one overflow bucket.
 */
import type { AllowList } from '../bridge/allow.js';

export interface GateOptions {
  allow?: AllowList;
  /** Callers at once from one address. */
  perAddress: number;
  /** New connections per address: `burst` at once, then one every `refillMs`. */
  burst: number;
  refillMs: number;
  /** Addresses remembered at most (memory bound under a spoofed-source flood). */
  maxTracked?: number;
}

interface Bucket {
  tokens: number;
  at: number;
  active: number;
}

export type Admission = { ok: true; release(): void } | { ok: false; reason: string };

const OVERFLOW = '*';

export class CallerGate {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly o: GateOptions) {}

  admit(address: string, now: number): Admission {
    if (this.o.allow && !this.o.allow.allows(address)) return { ok: false, reason: `${address} is not on the allow list` };
    const key = this.keyFor(address, now);
    const b = this.buckets.get(key) ?? { tokens: this.o.burst, at: now, active: 0 };
    this.buckets.set(key, b);
    b.tokens = Math.min(this.o.burst, b.tokens + (now - b.at) / this.o.refillMs);
    b.at = now;
    if (b.active >= this.o.perAddress) return { ok: false, reason: `${address} already has ${b.active} caller(s) (at most ${this.o.perAddress} per address)` };
    if (b.tokens < 1) return { ok: false, reason: `${address} is calling too fast (at most ${this.o.burst} in a row, then one every ${this.o.refillMs / 1000} s)` };
    b.tokens -= 1;
    b.active++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        b.active--;
      },
    };
  }

  /** Addresses remembered now (tests, memory bound). */
  get tracked(): number {
    return this.buckets.size;
  }

  private keyFor(address: string, now: number): string {
    if (this.buckets.has(address)) return address;
    const max = this.o.maxTracked ?? 4096;
    if (this.buckets.size < max) return address;
    for (const [k, b] of this.buckets) {
      const full = b.tokens + (now - b.at) / this.o.refillMs >= this.o.burst;
      if (b.active === 0 && full && k !== OVERFLOW) this.buckets.delete(k);
      if (this.buckets.size < max) return address;
    }
    return OVERFLOW;
  }
}
