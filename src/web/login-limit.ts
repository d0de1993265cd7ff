/**
 * Failed logins per source address per window: past the limit an address is answered 429 with
 * Retry-After until its window ends, before any password is checked (so a guesser also stops costing
 * scrypt time). An IPv6 client owns a whole /64 and can pick a new address per try, so a /64 counts
 * as one address.
 *
 * Memory is bounded whatever the clients send: at most `maxAddresses` entries. When the table is full
 * of addresses still inside their window, a new address shares one overflow entry with every other
 * newcomer: a flood from many addresses is throttled together rather than growing the table or
 * pushing out the addresses already being limited.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface LoginLimitSettings {
  /** Failed logins an address may make per window. */
  failures: number;
  windowMs: number;
  /** Addresses remembered at once. */
  maxAddresses?: number;
}

const DEFAULT_MAX_ADDRESSES = 4096;
const OVERFLOW = 'other addresses';

interface Window {
  start: number;
  failures: number;
  /** The refusal was logged in this window. */
  logged: boolean;
}

/** `2001:db8:1:2::/64` for any address in that /64; an IPv4 address (mapped or not) as itself. */
export function limitKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return mapped;
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
}

export class LoginLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly max: number;

  constructor(
    private readonly o: LoginLimitSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.max = o.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
  }

  get size(): number {
    return this.windows.size;
  }

  /** Seconds until `address` may try again, or 0 when it may now. */
  retryAfter(address: string): number {
    const w = this.current(this.slot(address, false));
    if (!w || w.failures < this.o.failures) return 0;
    return Math.max(1, Math.ceil((w.start + this.o.windowMs - this.now()) / 1000));
  }

  /** A failed login. Returns the line to log when this one is the first refusal of the address's window. */
  failed(address: string): string | undefined {
    const key = this.slot(address, true);
    const w = this.current(key) ?? { start: this.now(), failures: 0, logged: false };
    w.failures++;
    this.windows.set(key, w);
    if (w.failures < this.o.failures || w.logged) return undefined;
    w.logged = true;
    return `${key}: ${w.failures} failed logins within ${Math.round(this.o.windowMs / 1000)} s: refused (429) for the rest of that window`;
  }

  /** The entry an address counts in: its own, or the shared one while the table is full. */
  private slot(address: string, making: boolean): string {
    const key = limitKey(address);
    if (this.windows.has(key)) return key;
    if (making && this.windows.size >= this.max) for (const k of [...this.windows.keys()]) this.current(k); // forgets ended windows
    return this.windows.size < this.max ? key : OVERFLOW;
  }

  private current(key: string): Window | undefined {
    const w = this.windows.get(key);
    if (w && this.now() - w.start >= this.o.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return w;
  }
}
