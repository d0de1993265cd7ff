import { describe, expect, it } from 'vitest';
import { AllowList } from '../../src/bridge/allow.js';
import { CallerGate } from '../../src/callers/gate.js';
import { AddressPool, interfaceIdAt, parsePool } from '../../src/callers/pool.js';

describe('address pool', () => {
  it('hands out the lowest free address and takes it back', () => {
    const pool = new AddressPool(parsePool('192.168.7.254-192.168.8.1'));
    expect(pool.size).toBe(4);
    const a = pool.take()!;
    const b = pool.take()!;
    expect([a.ipv4, b.ipv4]).toEqual(['192.168.7.254', '192.168.7.255']);
    pool.give(a);
    pool.give(a); // twice is harmless
    expect(pool.free).toBe(3);
    expect(pool.take()!.ipv4).toBe('192.168.7.254');
    expect(pool.take()!.ipv4).toBe('192.168.8.0');
    expect(pool.take()!.ipv4).toBe('192.168.8.1');
    expect(pool.take()).toBeUndefined();
  });

  it('gives IPv6 interface identifiers at the same offset', () => {
    expect(interfaceIdAt(0x10, 0)).toBe('::10');
    expect(interfaceIdAt(0x10, 5)).toBe('::15');
  });

  it.each([
    ['192.168.7.10', 'not a range'],
    ['192.168.7.40-192.168.7.10', 'comes before'],
    ['192.168.7.300-192.168.7.310', 'not a dotted IPv4'],
    ['10.0.0.0-10.1.0.0', 'more than 4096'],
    ['1.2.3.4-1.2.3.5-1.2.3.6', 'not a range'],
  ])('refuses %s naming the field', (text, why) => {
    expect(() => parsePool(text, 'listen.pool')).toThrow(new RegExp(`^listen\\.pool: .*${why}`));
  });
});

describe('caller gate', () => {
  it('limits a flood from one address while another gets through', () => {
    const gate = new CallerGate({ perAddress: 100, burst: 3, refillMs: 1000 });
    const flood = Array.from({ length: 10 }, () => gate.admit('192.0.2.1', 0));
    expect(flood.filter((a) => a.ok)).toHaveLength(3);
    expect(flood[3]).toMatchObject({ ok: false, reason: expect.stringContaining('too fast') });
    expect(gate.admit('192.0.2.2', 0).ok).toBe(true);
    expect(gate.admit('192.0.2.1', 1000).ok).toBe(true); // one more after a refill interval
  });

  it('caps callers at once per address and frees the slot on release', () => {
    const gate = new CallerGate({ perAddress: 1, burst: 10, refillMs: 1 });
    const first = gate.admit('192.0.2.1', 0);
    expect(gate.admit('192.0.2.1', 0)).toMatchObject({ ok: false, reason: expect.stringContaining('per address') });
    if (first.ok) first.release();
    expect(gate.admit('192.0.2.1', 0).ok).toBe(true);
  });

  it('refuses addresses off the allow list', () => {
    const gate = new CallerGate({ allow: new AllowList(['10.0.0.0/8']), perAddress: 1, burst: 1, refillMs: 1 });
    expect(gate.admit('192.0.2.1', 0)).toMatchObject({ ok: false, reason: '192.0.2.1 is not on the allow list' });
    expect(gate.admit('10.1.2.3', 0).ok).toBe(true);
  });

  it('remembers a bounded number of addresses under a spoofed flood', () => {
    const gate = new CallerGate({ perAddress: 1, burst: 1, refillMs: 1000, maxTracked: 16 });
    for (let i = 0; i < 1000; i++) gate.admit(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(gate.tracked).toBeLessThanOrEqual(17);
  });
});
