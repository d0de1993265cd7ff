import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pppdArgs } from '../../src/pppd/args.js';
import { backoffDelay, StartHistory } from '../../src/pppd/backoff.js';
import { actionFor, exitPolicies, exitPolicy } from '../../src/pppd/exit.js';
import { parsePppdLine } from '../../src/pppd/log.js';
import { lockFilePath } from '../../src/line/uucp-lock.js';
import { describeLockHolder, isPppdFor, readLockHolder } from '../../src/pppd/orphan.js';
import { statusTable } from '../../src/status/table.js';
import { readStateFile, writeStateFile, type LinkStatus } from '../../src/pppd/state.js';
import { removeDir, tempDir } from '../helpers/supervisor-harness.js';

describe('pppd exit-status policy (pppd(8) EXIT STATUS)', () => {
  it('places every status 0-19 as issue 6 says', () => {
    const want: Record<number, string> = {
      0: 'respawn', 1: 'stop', 2: 'stop', 3: 'stop', 4: 'stop', 5: 'respawn', 6: 'stop', 7: 'backoff', 8: 'backoff', 9: 'backoff', 10: 'backoff',
      11: 'backoff', 12: 'respawn', 13: 'respawn', 14: 'respawn', 15: 'backoff', 16: 'respawn', 17: 'backoff', 18: 'backoff', 19: 'backoff',
    };
    expect(exitPolicies().map((p) => p.code)).toEqual(Object.keys(want).map(Number));
    for (const [code, action] of Object.entries(want)) expect(exitPolicy(Number(code)).action, `status ${code}`).toBe(action);
    for (const code of [1, 2, 3, 4, 6]) expect(exitPolicy(code).remedy, `status ${code}`).toBeTruthy();
  });
  it('status 4 names the modules and /dev/ppp; 17 says the line echoes back', () => {
    const r = exitPolicy(4).remedy!;
    for (const word of ['ppp_generic', 'ppp_async', 'slhc', '/dev/ppp']) expect(r).toContain(word);
    expect(exitPolicy(17).remedy).toMatch(/echoes back/);
  });
  it('a one-shot client is done after any retryable end, but still stops on configuration errors', () => {
    expect(actionFor(0, true)).toBe('done');
    expect(actionFor(16, true)).toBe('done');
    expect(actionFor(8, true)).toBe('done');
    expect(actionFor(4, true)).toBe('stop');
    expect(actionFor(0, false)).toBe('respawn');
    expect(exitPolicy(42).action).toBe('backoff');
  });
});

describe('pppd log lines → events (messages of pppd 2.4.9)', () => {
  const cases: Array<[string, object]> = [
    ['Serial connection established.', { type: 'serial-connected' }],
    ['Using interface ppp0', { type: 'interface', iface: 'ppp0' }],
    ['Connect: ppp0 <--> /dev/ttyS1', { type: 'connect', iface: 'ppp0', device: '/dev/ttyS1' }],
    ['user zaphod logged in on tty ttyS1 intf ppp0', { type: 'user-login', user: 'zaphod' }],
    ['PAP peer authentication succeeded for labuser', { type: 'peer-authenticated', user: 'labuser' }],
    ['PAP peer authentication failed for mallory', { type: 'peer-auth-failed', user: 'mallory' }],
    ['PAP authentication failed', { type: 'auth-failed' }],
    ['Remote message: Login incorrect', { type: 'remote-message', text: 'Login incorrect' }],
    ['local  IP address 192.168.7.1', { type: 'local-ip', ip: '192.168.7.1' }],
    ['remote IP address 192.168.7.2', { type: 'remote-ip', ip: '192.168.7.2' }],
    ['LCP terminated by peer (User request)', { type: 'terminated-by-peer', protocol: 'LCP', reason: 'User request' }],
    ['LCP terminated by peer', { type: 'terminated-by-peer', protocol: 'LCP' }],
    ['No response to 3 echo-requests', { type: 'echo-timeout', count: 3 }],
    ['Serial link appears to be disconnected.', { type: 'link-disconnected' }],
    ['Modem hangup', { type: 'modem-hangup' }],
    ['Connection terminated.', { type: 'connection-terminated' }],
    ['Connect time 2.5 minutes.', { type: 'connect-time', minutes: 2.5 }],
    ['Sent 1234 bytes, received 5678 bytes.', { type: 'traffic', sent: 1234, received: 5678 }],
    ['Terminating on signal 15', { type: 'terminating', signal: 15 }],
    ['Device ttyS0 is locked by pid 815', { type: 'device-locked', device: 'ttyS0', pid: 815 }],
    ['Failed to open /dev/ttyS9: No such file or directory', { type: 'open-failed', device: '/dev/ttyS9', error: 'No such file or directory' }],
    ['Serial line is looped back.', { type: 'loopback' }],
    ['Connect script failed', { type: 'connect-script-failed' }],
    ["Couldn't open the /dev/ppp device: No such file or directory", { type: 'no-kernel-support', text: "Couldn't open the /dev/ppp device: No such file or directory" }],
    ['pppd: You need to create the /dev/ppp device node by', { type: 'no-kernel-support', text: 'You need to create the /dev/ppp device node by' }],
    ['rcvd [LCP ConfReq id=0x1]', { type: 'other', text: 'rcvd [LCP ConfReq id=0x1]' }],
  ];
  it.each(cases)('%s', (line, event) => expect(parsePppdLine(line)).toEqual(event));
  it('ignores a trailing CR', () => expect(parsePppdLine('Modem hangup\r')).toEqual({ type: 'modem-hangup' }));
});

describe('backoff and the too-fast guard', () => {
  const o = { initialMs: 1000, maxMs: 60_000, factor: 2, jitter: 0.2 };
  it('doubles up to the ceiling, jitter stays within ±20 %', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, o, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 60_000]);
    expect(backoffDelay(1, o, () => 0)).toBe(1600);
    expect(backoffDelay(1, o, () => 0.999_999)).toBe(2400);
  });
  it('10 starts inside 2 minutes trip the guard; spread over longer they do not', () => {
    const h = new StartHistory({ starts: 10, windowMs: 120_000, pauseMs: 1 });
    for (let i = 0; i < 9; i++) h.record(i * 1000);
    expect(h.tooFast(9000)).toBe(false);
    h.record(9000);
    expect(h.tooFast(9001)).toBe(true);
    const slow = new StartHistory({ starts: 10, windowMs: 120_000, pauseMs: 1 });
    for (let i = 0; i < 20; i++) slow.record(i * 13_000);
    expect(slow.tooFast(20 * 13_000)).toBe(false);
  });
});

describe('pppd argv', () => {
  it('call NAME nodetach, file under a root, device override, debug only on request', () => {
    expect(pppdArgs({ name: 'x' })).toEqual(['call', 'x', 'nodetach']);
    expect(pppdArgs({ name: 'x', root: '/tmp/r', device: '/dev/ttyUSB0', debug: true })).toEqual(['file', '/tmp/r/etc/ppp/peers/x', '/dev/ttyUSB0', 'nodetach', 'debug']);
  });
});

describe('orphans and UUCP locks', () => {
  let dir = '';
  afterEach(async () => removeDir(dir));
  it('recognises a pppd of this link by its argv only', () => {
    expect(isPppdFor(['/usr/sbin/pppd', 'call', 'lab', 'nodetach'], 'lab')).toBe(true);
    expect(isPppdFor(['/usr/sbin/pppd', 'file', '/r/etc/ppp/peers/lab', 'nodetach'], 'lab')).toBe(true);
    expect(isPppdFor(['/usr/sbin/pppd', 'call', 'other'], 'lab')).toBe(false);
    expect(isPppdFor(['bash', 'lab'], 'lab')).toBe(false);
  });
  it('reads an HDB lock file and names the holder (alive and stale)', async () => {
    dir = await tempDir();
    await mkdir(join(dir, 'lock'));
    expect(lockFilePath(join(dir, 'lock'), '/dev/ttyS0')).toBe(join(dir, 'lock', 'LCK..ttyS0'));
    await writeFile(lockFilePath(join(dir, 'lock'), '/dev/ttyS0'), `${String(process.pid).padStart(10)}\n`);
    const h = await readLockHolder(join(dir, 'lock'), '/dev/ttyS0');
    expect(h).toMatchObject({ pid: process.pid, alive: true });
    expect(describeLockHolder(h, '/dev/ttyS0')).toMatch(new RegExp(`locked by pid ${process.pid} \\(`));
    await writeFile(lockFilePath(join(dir, 'lock'), '/dev/ttyS0'), '  99999999\n');
    expect(describeLockHolder(await readLockHolder(join(dir, 'lock'), '/dev/ttyS0'), '/dev/ttyS0')).toMatch(/stale lock .*LCK\.\.ttyS0/);
  });
});

describe('state file and status table', () => {
  let dir = '';
  afterEach(async () => removeDir(dir));
  const base: LinkStatus = { name: 'lab', state: 'up', since: '2026-11-23T21:00:00.000Z', supervisorPid: process.pid, restarts: 2, iface: 'ppp0', localIp: '192.168.7.1', remoteIp: '192.168.7.2', peerUser: 'labuser' };
  it('writes atomically and reads back', async () => {
    dir = await tempDir();
    await writeStateFile(join(dir, 's'), base);
    expect(await readStateFile(join(dir, 's'), 'lab')).toEqual(base);
  });
  it('shows a dead supervisor as stale, and the last exit with its reason', () => {
    const now = Date.parse('2026-11-23T21:02:05.000Z');
    const up = statusTable([base], now);
    expect(up).toMatch(/lab +up +21:00:00 \(2m5s ago\) +ppp0 +192\.168\.7\.1 +192\.168\.7\.2 +labuser +- +2/);
    const stale = statusTable([{ ...base, supervisorPid: 99_999_999 }], now);
    expect(stale).toContain('stale (was up; supervisor 99999999 gone)');
    const failed = statusTable([{ ...base, state: 'failed', iface: undefined, lastExit: { code: 4, meaning: 'no kernel PPP support', reason: 'load ppp_generic', at: base.since } }], now);
    expect(failed).toMatch(/4 no kernel PPP support/);
    expect(failed).toContain('last exit: load ppp_generic');
  });
});
