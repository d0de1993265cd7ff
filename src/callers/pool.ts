/**
 * The peer addresses a listener hands out, one per caller: an IPv4 range `A-B` (and, with IPv6 on,
 * the interface identifier at the same offset). The lowest free address goes first, so a caller
 * that redials after a hang-up usually gets its old address back.
 */
import { UsageError } from '../errors.js';

/** At most this many addresses: a pool is a table we scan, and `max` callers never need more. */
export const MAX_POOL = 4096;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4ToNumber(text: string, field: string): number {
  const m = IPV4.exec(text);
  const parts = m?.slice(1).map(Number);
  if (!parts || parts.some((p) => p > 255)) throw new UsageError(`${field}: "${text}" is not a dotted IPv4 address`);
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

const numberToIpv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

export interface PoolRange {
  first: number;
  size: number;
}

/** `192.168.7.10-192.168.7.40`: both ends included, first ≤ last, at most MAX_POOL addresses. */
export function parsePool(text: string, field = 'pool'): PoolRange {
  const [a, b, ...rest] = text.split('-');
  if (a === undefined || b === undefined || rest.length > 0) throw new UsageError(`${field}: "${text}" is not a range FIRST-LAST such as 192.168.7.10-192.168.7.40`);
  const first = ipv4ToNumber(a.trim(), field);
  const last = ipv4ToNumber(b.trim(), field);
  if (last < first) throw new UsageError(`${field}: ${b} comes before ${a} (allowed: FIRST-LAST, lowest first)`);
  if (last - first + 1 > MAX_POOL) throw new UsageError(`${field}: ${last - first + 1} addresses is more than ${MAX_POOL}`);
  return { first, size: last - first + 1 };
}

/** One lease: the caller's IPv4 address and its offset in the pool (for the IPv6 identifier). */
export interface Lease {
  readonly offset: number;
  readonly ipv4: string;
}

export class AddressPool {
  private readonly taken: Uint8Array;
  private used = 0;

  constructor(readonly range: PoolRange) {
    this.taken = new Uint8Array(range.size);
  }

  get size(): number {
    return this.range.size;
  }

  get free(): number {
    return this.range.size - this.used;
  }

  /** The lowest free address, or undefined when every one is out. */
  take(): Lease | undefined {
    const offset = this.taken.indexOf(0);
    if (offset < 0) return undefined;
    this.taken[offset] = 1;
    this.used++;
    return { offset, ipv4: numberToIpv4(this.range.first + offset) };
  }

  /** Gives a lease back; giving one back twice is a no-op, so every ending path may call it. */
  give(lease: Lease): void {
    if (this.taken[lease.offset] !== 1) return;
    this.taken[lease.offset] = 0;
    this.used--;
  }
}

/** The IPv6 interface identifier at a pool offset, as pppd's `ipv6 ,ID` reads it (`::a`). */
export function interfaceIdAt(firstId: number, offset: number): string {
  return `::${(firstId + offset).toString(16)}`;
}

/** The fewest CIDR blocks covering a range exactly: pap-secrets' address column takes blocks, not ranges. */
export function rangeCidrs(text: string): string[] {
  const { first, size } = parsePool(text);
  const blocks: string[] = [];
  let at = first;
  let left = size;
  while (left > 0) {
    let bits = 0; // grow the block while `at` stays aligned to it and it still fits
    while (bits < 32 && at % 2 ** (bits + 1) === 0 && 2 ** (bits + 1) <= left) bits++;
    blocks.push(`${numberToIpv4(at)}/${32 - bits}`);
    at += 2 ** bits;
    left -= 2 ** bits;
  }
  return blocks;
}
