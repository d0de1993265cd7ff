/**
 * The web listener's failed-login limit per source address: the window, the /64 an IPv6 client owns,
 * one log line per address per window, and a table that stays bounded whatever addresses arrive.
 */
import { describe, expect, it } from 'vitest';
import { limitKey, LoginLimiter } from '../../src/web/login-limit.js';

function limiter(maxAddresses?: number) {
  const clock = { t: 1_000_000 };
  const l = new LoginLimiter({ failures: 3, windowMs: 60_000, maxAddresses }, () => clock.t);
  return { l, clock };
}

describe('login limit', () => {
  it('refuses an address past its failures until its window ends, and says so once per window', () => {
    const { l, clock } = limiter();
    expect([l.failed('192.0.2.1'), l.failed('192.0.2.1')]).toEqual([undefined, undefined]);
    expect(l.retryAfter('192.0.2.1')).toBe(0);
    expect(l.failed('192.0.2.1')).toBe('192.0.2.1: 3 failed logins within 60 s: refused (429) for the rest of that window');
    expect(l.failed('192.0.2.1')).toBeUndefined(); // logged once
    expect(l.retryAfter('192.0.2.1')).toBe(60);
    expect(l.retryAfter('192.0.2.2')).toBe(0); // another address is not held
    clock.t += 45_500;
    expect(l.retryAfter('192.0.2.1')).toBe(15);
    clock.t += 14_500;
    expect(l.retryAfter('192.0.2.1')).toBe(0);
    expect(l.failed('192.0.2.1')).toBeUndefined(); // a new window
  });

  it('counts an IPv6 /64 as one address, and an IPv4-mapped address as its IPv4', () => {
    expect(limitKey('2001:db8:0:7:a:b:c:d')).toBe('2001:db8:0:7::/64');
    expect(limitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(limitKey('::1')).toBe('0:0:0:0::/64');
    expect(limitKey('::ffff:192.0.2.9')).toBe('192.0.2.9');
    const { l } = limiter();
    l.failed('2001:db8:0:7::1');
    l.failed('2001:db8:0:7::2');
    expect(l.failed('2001:db8:0:7:ffff::3')).toMatch(/^2001:db8:0:7::\/64: 3 failed logins/);
    expect(l.retryAfter('2001:db8:0:7::99')).toBe(60);
  });

  it('stays bounded: a flood of new addresses shares one entry once the table is full, and ended windows make room', () => {
    const { l, clock } = limiter(100);
    for (let i = 0; i < 100; i++) l.failed(`10.0.${i >> 8}.${i & 255}`);
    for (let i = 0; i < 100_000; i++) l.failed(`10.1.${(i >> 8) & 255}.${i & 255}`);
    expect(l.size).toBeLessThanOrEqual(101);
    // the newcomers are throttled together; an address already known keeps its own count
    expect(l.retryAfter('198.51.100.7')).toBe(60);
    expect(l.retryAfter('10.0.0.1')).toBe(0);
    clock.t += 60_000;
    expect(l.failed('198.51.100.7')).toBeUndefined();
    expect(l.size).toBe(1);
  });
});
