/** The one-line STATUS= texts systemd shows, the notify socket address and the watchdog interval. */
import { describe, expect, it } from 'vitest';
import { bridgeStatusLine } from '../../src/bridge/sd-bridge.js';
import type { LinkStatus } from '../../src/pppd/state.js';
import { linkStatusLine } from '../../src/pppd/sd-status.js';
import { notifyAddress, serviceNotifier, watchdogIntervalMs } from '../../src/runtime/sd-notify.js';

const now = Date.parse('2026-11-30T04:00:00Z');
const base: LinkStatus = { name: 'lab', state: 'stopped', since: '2026-11-30T03:00:00Z', supervisorPid: 1, restarts: 0 };
const at = (s: Partial<LinkStatus>) => linkStatusLine({ ...base, ...s }, now);

describe('linkStatusLine', () => {
  it('up: interface, addresses, peer user, restarts', () => {
    expect(at({ state: 'up', iface: 'ppp0', localIp: '192.168.7.1', remoteIp: '192.168.7.2', peerUser: 'labuser', restarts: 2 })).toBe('up ppp0 192.168.7.1 -> 192.168.7.2 peer labuser, 2 restarts');
    expect(at({ state: 'up', iface: 'ppp1', localIp: '10.0.0.1', remoteIp: '10.0.0.2', restarts: 1 })).toBe('up ppp1 10.0.0.1 -> 10.0.0.2, 1 restart');
  });

  it('backoff: seconds to the next try and the exit that caused it', () => {
    const lastExit = { code: 16, meaning: 'line hung up', at: '2026-11-30T03:59:59Z' };
    expect(at({ state: 'backoff', nextRetry: '2026-11-30T04:00:07.200Z', lastExit })).toBe('backoff: retry in 8 s after exit 16 line hung up');
    expect(at({ state: 'paused', nextRetry: '2026-11-30T04:05:00Z', lastExit })).toBe('paused: pppd respawning too fast, retry in 300 s');
  });

  it('failed and done: the exit status and its meaning', () => {
    expect(at({ state: 'failed', lastExit: { code: 4, meaning: 'no kernel PPP support', at: '' } })).toBe('failed: exit 4 no kernel PPP support');
    expect(at({ state: 'done', lastExit: { code: 0, meaning: 'link ended normally', at: '' } })).toBe('done: exit 0 link ended normally');
  });

  it('the states on the way up', () => {
    expect(at({ state: 'waiting-for-device', device: '/dev/ttyUSB0' })).toBe('waiting for /dev/ttyUSB0 to appear');
    expect(at({ state: 'starting', pppdPid: 42, restarts: 3 })).toBe('starting (pppd 42), 3 restarts');
    expect(at({ state: 'negotiating', pppdPid: 42, adopted: true })).toBe('negotiating (pppd 42, adopted), 0 restarts');
    expect(at({ state: 'stopped' })).toBe('stopped');
  });
});

describe('bridgeStatusLine', () => {
  it('names up to four listeners, counts clients, lists devices down', () => {
    expect(bridgeStatusLine({ listening: ['lab0 127.0.0.1:3001', 'control 127.0.0.1:2000'], clients: 1, devicesDown: [] })).toBe('listening on 2 ports (lab0 127.0.0.1:3001, control 127.0.0.1:2000), 1 client');
    expect(bridgeStatusLine({ listening: ['a', 'b', 'c', 'd', 'e'], clients: 0, devicesDown: ['lab1'] })).toBe('listening on 5 ports, 0 clients; device down: lab1');
  });
});

describe('notifyAddress', () => {
  it('a path gets its NUL, an @name becomes an abstract name of exactly its bytes', () => {
    const path = notifyAddress('/run/systemd/notify')!;
    expect(path.length).toBe(2 + 19 + 1);
    expect(path.addr.readUInt16LE(0)).toBe(1);
    expect(path.addr.subarray(2, path.length).toString()).toBe('/run/systemd/notify\0');
    const abs = notifyAddress('@sd-notify')!;
    expect(abs.length).toBe(2 + 10);
    expect(abs.addr.subarray(2, abs.length).toString()).toBe('\0sd-notify');
  });

  it('refuses relative paths and names longer than sun_path', () => {
    expect(notifyAddress('run/notify')).toBeUndefined();
    expect(notifyAddress(`/${'x'.repeat(107)}`)).toBeUndefined();
    expect(notifyAddress(`/${'x'.repeat(106)}`)).toBeDefined();
  });
});

describe('watchdogIntervalMs', () => {
  it('half of WATCHDOG_USEC, only for this pid', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '20000000' }, 7)).toBe(10_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '7' }, 7)).toBe(10_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '8' }, 7)).toBeUndefined();
    expect(watchdogIntervalMs({}, 7)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'x' }, 7)).toBeUndefined();
  });
});

describe('serviceNotifier', () => {
  it('a socket nobody listens on is said once, in words, and the service goes on; the variables leave the environment', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/nonexistent/laplink-notify', WATCHDOG_USEC: '20000000' };
    const problems: string[] = [];
    const notifier = serviceNotifier(env, (text) => problems.push(text));
    notifier.ready();
    notifier.status('up');
    notifier.stopping();
    notifier.close();
    expect(problems).toEqual(['cannot notify systemd at /nonexistent/laplink-notify: sendto: no such file or directory (ENOENT)']);
    expect(env).toEqual({});
  });
});
