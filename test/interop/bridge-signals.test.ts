/**
 * Every way out of a bridge process releases its UUCP lock, and SIGHUP is what daemons make of it
 * (logrotate's "reopen your files"), not the end. Real processes, real signals, real socat pty
 * pairs, a temp --lock-dir.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bridgeRig, connectTcp, laplink, rm, startCli, stop, waitUntil } from '../helpers/bridge.js';

const rig = bridgeRig();
const until = (cond: () => boolean, what: string) => waitUntil(cond, what, 15_000, 25);

function lockDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'laplink-lock-'));
  rig.cleanups.push(() => rm(d));
  return d;
}

/** The only LCK.. file in `dir`, if any. */
const locks = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('LCK..'));

async function serveLocked(device: string, dir: string, ...flags: string[]) {
  const r = await startCli(['bridge', 'serve', device, '--listen', '127.0.0.1:0', '--lock-dir', dir, ...flags], /listening on 127\.0\.0\.1:(\d+)\n/);
  rig.cleanups.push(() => stop(r.proc));
  expect(locks(dir)).toHaveLength(1);
  return { ...r, port: Number(r.match[1]) };
}

describe('bridge serve: signals and the UUCP lock', () => {
  it('SIGHUP reopens the trace file after a rename (new bytes land in the new file), SIGTERM then releases the lock, exit 0', async () => {
    const pair = await rig.pair();
    const dir = lockDir();
    const trace = path.join(dir, 'line.trace');
    const srv = await serveLocked(pair.a, dir, '--trace-write', trace);
    const client = await connectTcp(srv.port);
    rig.cleanups.push(() => void client.destroy());
    client.write('before-rotate');
    await until(() => fs.existsSync(trace) && fs.readFileSync(trace, 'latin1').includes('before-rotate'), 'the first bytes in the trace');

    fs.renameSync(trace, `${trace}.1`); // what logrotate does
    srv.proc.kill('SIGHUP');
    await until(() => /SIGHUP: trace files reopened/.test(srv.stderr()), 'the reopen line');
    client.write('after-rotate');
    await until(() => fs.existsSync(trace) && fs.readFileSync(trace, 'latin1').includes('after-rotate'), 'new bytes in the new trace file');
    expect(fs.readFileSync(`${trace}.1`, 'latin1')).not.toContain('after-rotate');
    expect(srv.proc.exitCode).toBeNull();
    expect(locks(dir)).toHaveLength(1);

    srv.proc.kill('SIGTERM');
    const r = await srv.proc;
    expect(r.exitCode).toBe(0);
    expect(locks(dir)).toEqual([]);
  });

  it('SIGINT releases the lock, exit 0', async () => {
    const pair = await rig.pair();
    const dir = lockDir();
    const srv = await serveLocked(pair.a, dir);
    srv.proc.kill('SIGINT');
    expect((await srv.proc).exitCode).toBe(0);
    expect(locks(dir)).toEqual([]);
  });

  it('after device loss (socat killed) the port waits for the device; SIGTERM then still releases the lock', async () => {
    const pair = await rig.pair();
    const dir = lockDir();
    const srv = await serveLocked(pair.a, dir);
    await pair.hangup();
    await until(() => /device gone/.test(srv.stderr()), 'the "device gone" line');
    expect(locks(dir)).toHaveLength(1);
    srv.proc.kill('SIGTERM');
    expect((await srv.proc).exitCode).toBe(0);
    expect(locks(dir)).toEqual([]);
  });

  it('an error after the lock was taken (listen address in use) exits 1 with one line and leaves no lock', async () => {
    const pair = await rig.pair();
    const dir = lockDir();
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    rig.cleanups.push(() => new Promise<void>((r) => busy.close(() => r())));
    const taken = (busy.address() as net.AddressInfo).port;
    const r = await execa('node', [laplink, 'bridge', 'serve', pair.a, '--listen', `127.0.0.1:${taken}`, '--lock-dir', dir], { reject: false });
    expect(r.exitCode).toBe(1);
    const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('laplink: '));
    expect(errors).toEqual([`laplink: ${pair.a}: cannot listen on 127.0.0.1:${taken}: address already in use`]);
    expect(locks(dir)).toEqual([]);
  });
});

describe('bridge connect: signals, retries and the UUCP lock', () => {
  /** `bridge connect` of a pty pair to a local TCP server, connected, holding its UUCP lock. */
  async function connectedBridge() {
    const pair = await rig.pair();
    const dir = lockDir();
    const remote = await rig.tcpServer();
    const proc = execa('node', [laplink, 'bridge', 'connect', `127.0.0.1:${remote.port}`, pair.a, '--lock-dir', dir], { reject: false, buffer: false, stderr: 'pipe' });
    rig.cleanups.push(() => stop(proc));
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const sock = await remote.next();
    rig.cleanups.push(() => void sock.destroy());
    expect(locks(dir)).toHaveLength(1);
    return { pair, dir, proc, stderr: () => err };
  }

  it('SIGHUP keeps it running with its lock; SIGTERM releases the lock, exit 0', async () => {
    const { dir, proc, stderr } = await connectedBridge();
    proc.kill('SIGHUP');
    await until(() => /SIGHUP/.test(stderr()), 'the SIGHUP line');
    expect(proc.exitCode).toBeNull();
    expect(locks(dir)).toHaveLength(1);
    proc.kill('SIGTERM');
    expect((await proc).exitCode).toBe(0);
    expect(locks(dir)).toEqual([]);
  });

  it('device loss ends it with one line, exit 1, lock released', async () => {
    const { pair, dir, proc, stderr } = await connectedBridge();
    await pair.hangup();
    const r = await proc;
    expect(r.exitCode).toBe(1);
    expect(stderr()).toMatch(/^laplink: .*device gone/m);
    expect(locks(dir)).toEqual([]);
  });

  it('logs why each attempt failed and when it retries', async () => {
    const dir = lockDir();
    // A port nobody listens on: bind one, note it, close it.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const dead = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const proc = execa('node', [laplink, 'bridge', 'connect', `127.0.0.1:${dead}`, '--pty', path.join(dir, 'tty')], { reject: false, buffer: false, stderr: 'pipe' });
    rig.cleanups.push(() => stop(proc));
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    await until(() => (err.match(/failed/g) ?? []).length >= 2, 'two failed attempts');
    // the data-path line comes first; the attempts follow in order
    const lines = err.trim().split('\n').filter((l) => l.includes(' failed: '));
    expect(lines[0]).toBe(`laplink bridge: connect 127.0.0.1:${dead} failed: connection refused; retry in 0.2 s`);
    expect(lines[1]).toBe(`laplink bridge: connect 127.0.0.1:${dead} failed: connection refused; retry in 0.4 s`);
  });
});

describe('bridge connect --pty: a program that stops reading the pty', () => {
  it('holds the TCP side back and still answers signals: SIGHUP is logged, SIGTERM ends it at once (exit 0) and removes the link', async () => {
    const dir = lockDir();
    const remote = await rig.tcpServer();
    const link = path.join(dir, 'tty');
    const proc = execa('node', [laplink, 'bridge', 'connect', `127.0.0.1:${remote.port}`, '--pty', link], { reject: false, buffer: false, stderr: 'pipe' });
    rig.cleanups.push(() => stop(proc));
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const sock = await remote.next();
    sock.on('error', () => undefined); // reset when the bridge goes
    rig.cleanups.push(() => void sock.destroy());
    // Nobody reads the pty (the bridge holds the slave open itself): far more than every buffer on
    // the way (the pty's, the socketpair's, TCP's) can take.
    const flood = Buffer.alloc(32 * 1024 * 1024, 0x55);
    let accepted = false;
    sock.write(flood, () => (accepted = true));
    // The flood stalls once those buffers are full: what libuv has still to hand the kernel stops
    // shrinking (net.Socket counts a write in progress as written, so its own counters cannot say).
    const unsent = () => (sock as unknown as { _handle: { writeQueueSize: number } })._handle.writeQueueSize;
    let last = -1;
    await until(() => {
      const now = unsent();
      const still = now === last && now > 0 && now < flood.length;
      last = now;
      return still;
    }, 'the flood to stall');
    // A blocking write to the pty master would hold the event loop here: no signal would be handled.
    proc.kill('SIGHUP');
    await until(() => /SIGHUP/.test(err), 'the SIGHUP line while the pty is full');
    expect(accepted).toBe(false);
    expect(fs.readlinkSync(link)).toMatch(/^\/dev\/pts\/\d+$/);
    const t0 = Date.now();
    proc.kill('SIGTERM');
    expect((await proc).exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(fs.existsSync(link)).toBe(false);
  });
});

describe('bridge stdio: signals', () => {
  it('SIGHUP (pppd hanging up) ends it, exit 0', async () => {
    const remote = await rig.tcpServer();
    const proc = execa('node', [laplink, 'bridge', 'stdio', `127.0.0.1:${remote.port}`], { reject: false, buffer: false, stdin: 'pipe' });
    rig.cleanups.push(() => stop(proc));
    const sock = await remote.next();
    rig.cleanups.push(() => void sock.destroy());
    proc.kill('SIGHUP');
    const r = await proc;
    expect(r.signal).toBeUndefined();
    expect(r.exitCode).toBe(0);
  });
});

describe('bridge stdio: a full port', () => {
  it('exits 1 with the reason on stderr and writes nothing to stdout (pppd would read it as line data)', async () => {
    const pair = await rig.pair();
    const srv = await rig.serve(pair.a);
    const first = await connectTcp(srv.port); // takes the one connection the port allows
    rig.cleanups.push(() => void first.destroy());
    await until(() => /connect from/.test(srv.stderr()), 'the first client to be served');
    // stdin stays open, as pppd's pty does: the refusal alone must end the process.
    const proc = execa('node', [laplink, 'bridge', 'stdio', `127.0.0.1:${srv.port}`], { reject: false, stdin: 'pipe' });
    rig.cleanups.push(() => stop(proc));
    const r = await proc;
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('laplink: '))).toEqual([`laplink: 127.0.0.1:${srv.port} refused the session: port already in use`]);
  });

  it('still passes line data that only starts like a refusal', async () => {
    const remote = await rig.tcpServer();
    const proc = execa('node', [laplink, 'bridge', 'stdio', `127.0.0.1:${remote.port}`], { reject: false, stdin: 'pipe' });
    rig.cleanups.push(() => stop(proc));
    const sock = await remote.next();
    sock.write('Port already');
    sock.end(' open\r\n');
    const r = await proc;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('Port already open');
  });
});
