/**
 * What the bridge says, said once and right: a SIGHUP with no trace files does not claim it reopened
 * some; a client's log lines name it once; a pty's missing modem lines are reported once per session, not once per DTR/RTS request; and
 * speeds are the termios ones everywhere (the profile's list), so `--speed 12345` is refused at once.
 */
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEvent } from '../../src/bridge/events.js';
import { bridgeRig, laplink, waitUntil } from '../helpers/bridge.js';

const rig = bridgeRig();

describe('bridge messages', () => {
  it('a client’s protocol and disconnect lines name its address once', () => {
    expect(describeEvent({ type: 'protocol', port: '127.0.0.1:4401', remote: '127.0.0.1:4401', message: 'rfc2217: speed 9600: failed' })).toBe('127.0.0.1:4401: rfc2217: speed 9600: failed');
    expect(describeEvent({ type: 'disconnect', port: '127.0.0.1:4401', remote: '127.0.0.1:4401', reason: 'closed by the remote end' })).toBe('127.0.0.1:4401: disconnect (closed by the remote end)');
    // A served port's lines still name both the port and the client.
    expect(describeEvent({ type: 'protocol', port: '/dev/ttyS0', remote: '10.0.0.2:5000', message: 'x' })).toBe('/dev/ttyS0: 10.0.0.2:5000: x');
  });

  it('SIGHUP on serve without trace files says there was nothing to reopen', async () => {
    const p = await rig.pair();
    const { proc, stderr } = await rig.serve(p.a);
    proc.kill('SIGHUP');
    await waitUntil(() => stderr().includes('SIGHUP'), 'the SIGHUP line', 10_000, 20);
    expect(stderr()).toContain('laplink bridge: SIGHUP: nothing to reopen (no trace files, no TLS files)\n');
    expect(stderr()).not.toContain('trace files reopened');
  });

  it('SIGHUP on serve with a trace file says it reopened it', async () => {
    const p = await rig.pair();
    const { proc, stderr } = await rig.serve(p.a, '--trace-both', join(p.dir, 'trace'));
    proc.kill('SIGHUP');
    await waitUntil(() => stderr().includes('SIGHUP'), 'the SIGHUP line', 10_000, 20);
    expect(stderr()).toContain('laplink bridge: SIGHUP: trace files reopened\n');
  });

  it('--speed and a config speed take termios speeds only, as a profile does', async () => {
    const p = await rig.pair();
    const r = await execa('node', [laplink, 'bridge', 'serve', p.a, '--listen', '0', '--no-lock', '--speed', '12345'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^laplink: --speed: "12345" is not a termios speed \(allowed: 50, 75, .*, 4000000\)$/);
    const cfg = join(p.dir, 'bridge.yaml');
    writeFileSync(cfg, `ports:\n  - device: ${p.a}\n    listen: 0\n    speed: 12345\n`);
    const c = await execa('node', [laplink, 'bridge', 'run', cfg], { reject: false });
    expect(c.exitCode).toBe(2);
    expect(c.stderr).toMatch(/bridge\.yaml:4:12: ports\[0\]\.speed: not a termios speed/);
  });

  it('RFC 2217 on a pty: DTR and RTS toggled six times and two BREAKs, one line saying a pty has no modem lines', async () => {
    const p = await rig.pair();
    const { port, stderr } = await rig.serve(p.a, '--protocol', 'rfc2217');
    const script = String.raw`
import sys, serial
s = serial.serial_for_url(sys.argv[1], baudrate=115200, timeout=5)
for v in (False, True, False):
    s.dtr = v
    s.rts = v
s.send_break(0.05)
s.send_break(0.05)
s.close()
`;
    const py = await execa('/usr/bin/python3', ['-c', script, `rfc2217://127.0.0.1:${port}`], { reject: false });
    expect(py.exitCode, `pyserial (Debian python3-serial): ${py.stderr}`).toBe(0);
    await waitUntil(() => / disconnect /.test(stderr()), 'the session to end', 10_000, 20);
    const modem = stderr().split('\n').filter((l) => /modem lines|Inappropriate ioctl/.test(l));
    expect(modem).toEqual([expect.stringMatching(/: rfc2217: the device is a pty, which has no modem lines: DTR, RTS and BREAK requests are answered, not applied$/)]);
  });

  it('plain telnet on a pty: three BREAKs from the client, one line saying a pty has no modem lines', async () => {
    const p = await rig.pair();
    const { port, stderr } = await rig.serve(p.a, '--protocol', 'telnet');
    // IAC BRK (RFC 854) three times, as a telnet client's `send brk` sends it
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.end(Buffer.from([255, 243, 255, 243, 255, 243]));
    await waitUntil(() => / disconnect /.test(stderr()), 'the session to end', 10_000, 20);
    const brk = stderr().split('\n').filter((l) => /break|modem lines/.test(l));
    expect(brk).toEqual([expect.stringMatching(/: telnet: the device is a pty, which has no modem lines: DTR, RTS and BREAK requests are answered, not applied$/)]);
  });
});
