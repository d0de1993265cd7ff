/**
 * serve / connect / stdio in raw mode against real peers: socat pty pairs as the cable, TCP sockets
 * as clients, `stty -F` reading termios back.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bridgeRig, collect, connectTcp, laplink, rm, startCli, stop, waitUntil } from '../helpers/bridge.js';
import { lockName } from '../../src/line/uucp-lock.js';

const { cleanups, pair, serve, end, tcpServer } = bridgeRig();

describe('bridge serve (raw)', () => {
  it('keeps device output that arrives before any client in the tty, and hands it to the first client', async () => {
    const p = await pair();
    const { port } = await serve(p.a);
    const dev = end(p.b);
    const early = randomBytes(3000);
    dev.write(early);
    await new Promise((r) => setTimeout(r, 300)); // the bridge must not read (and lose) it meanwhile
    const sock = await connectTcp(port);
    cleanups.push(() => void sock.destroy());
    expect((await collect(sock, early.length)).equals(early)).toBe(true);
  });

  it('moves 1 MiB of random bytes each way byte for byte', async () => {
    const p = await pair();
    const { port } = await serve(p.a);
    const dev = end(p.b);
    const sock = await connectTcp(port);
    cleanups.push(() => void sock.destroy());
    const up = randomBytes(1 << 20);
    const down = randomBytes(1 << 20);
    const gotOnDevice = collect(dev, up.length);
    const gotOnTcp = collect(sock, down.length);
    sock.write(up);
    dev.write(down);
    expect((await gotOnDevice).equals(up)).toBe(true);
    expect((await gotOnTcp).equals(down)).toBe(true);
  });

  it('applies speed, stop bits and flow control: stty -F reads them back', async () => {
    const p = await pair();
    await serve(p.a, '--speed', '9600', '--stopbits', '2', '--flow', 'xonxoff');
    const st = (await execa('stty', ['-F', p.a, '-a'])).stdout;
    expect(st).toMatch(/speed 9600 baud/);
    expect(st).toMatch(/(^|\s)cstopb/);
    expect(st).toMatch(/(^|\s)ixon/);
    expect(st).toMatch(/(^|\s)clocal/);
    // ptys force CS8 without parity, so --databits/--parity cannot be proven here (the pty driver ignores them).
  });

  it('answers a second client with "Port already in use" when max-connections is 1', async () => {
    const p = await pair();
    const { port } = await serve(p.a);
    const first = await connectTcp(port);
    cleanups.push(() => void first.destroy());
    const second = await connectTcp(port);
    const text = await new Promise<string>((r) => {
      let t = '';
      second.on('data', (c) => (t += c.toString()));
      second.on('close', () => r(t));
    });
    expect(text).toBe('Port already in use\r\n');
  });

  it('with --kick-old a new client replaces the old one', async () => {
    const p = await pair();
    const { port } = await serve(p.a, '--kick-old');
    const first = await connectTcp(port);
    const firstText = new Promise<string>((r) => {
      let t = '';
      first.on('data', (c) => (t += c.toString()));
      first.on('close', () => r(t));
    });
    const second = await connectTcp(port);
    cleanups.push(() => void second.destroy());
    expect(await firstText).toMatch(/kicked off/);
    const dev = end(p.b);
    const got = collect(dev, 5);
    second.write('hello');
    expect((await got).toString()).toBe('hello');
  });

  it('fans device output out to every client with --max-connections 2', async () => {
    const p = await pair();
    const { port, stderr } = await serve(p.a, '--max-connections', '2');
    const c1 = await connectTcp(port);
    const c2 = await connectTcp(port);
    cleanups.push(() => void c1.destroy(), () => void c2.destroy());
    // Our connect() returning does not mean the bridge has taken the client on: wait for its word.
    await waitUntil(() => (stderr().match(/connect from/g) ?? []).length === 2, 'both clients served', 15_000, 25);
    const dev = end(p.b);
    const data = randomBytes(100_000);
    const g1 = collect(c1, data.length);
    const g2 = collect(c2, data.length);
    dev.write(data);
    expect((await g1).equals(data)).toBe(true);
    expect((await g2).equals(data)).toBe(true);
  });

  it('fails with one line and status 1 when the device does not exist', async () => {
    const r = await execa('node', [laplink, 'bridge', 'serve', '/nonexistent/tty', '--listen', '127.0.0.1:0', '--no-lock'], { reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toBe('laplink: cannot open /nonexistent/tty: no such device');
  });

  it('rejects a bad --listen with status 2', async () => {
    const r = await execa('node', [laplink, 'bridge', 'serve', '/dev/null', '--listen', 'nope'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--listen: "nope" is not \[HOST:\]PORT/);
  });
});

describe('bridge connect', () => {
  it('joins a device to a remote port and reconnects after the remote closes', async () => {
    const p = await pair();
    const srv = await tcpServer();
    // --no-lock: /var/lock is shared with the whole machine, and a lock a killed process left there
    // whose pid (pid_max 32768) now names a live process would keep this bridge from starting
    const proc = execa('node', [laplink, 'bridge', 'connect', `127.0.0.1:${srv.port}`, p.a, '--no-lock'], { reject: false });
    cleanups.push(() => stop(proc));
    const s1 = await srv.next();
    const dev = end(p.b);
    const got = collect(s1, 4);
    dev.write('ping');
    expect((await got).toString()).toBe('ping');
    s1.destroy();
    const s2 = await srv.next();
    const got2 = collect(dev, 4);
    s2.write('pong');
    expect((await got2).toString()).toBe('pong');
    s2.destroy();
  });

  it('offers a new pty under --pty PATH and removes the link on SIGTERM', async () => {
    const srv = await tcpServer();
    const dir = fs.mkdtempSync('/tmp/laplink-link-');
    cleanups.push(() => rm(dir));
    const link = `${dir}/ttyLAP`;
    const r = await startCli(['bridge', 'connect', `127.0.0.1:${srv.port}`, '--pty', link], /pty .* -> (\/dev\/pts\/\d+)\n/);
    cleanups.push(() => stop(r.proc));
    expect(fs.readlinkSync(link)).toBe(r.match[1]);
    const s = await srv.next();
    const ttyEnd = end(link);
    const data = randomBytes(200_000);
    const got = collect(s, data.length);
    ttyEnd.write(data);
    expect((await got).equals(data)).toBe(true);
    const back = collect(ttyEnd, 3);
    s.write('abc');
    expect((await back).toString()).toBe('abc');
    await stop(r.proc);
    expect(fs.existsSync(link)).toBe(false);
  });
});

describe('bridge stdio', () => {
  it('carries stdin/stdout over TCP and exits 0 when the remote closes', async () => {
    const srv = await tcpServer();
    const proc = execa('node', [laplink, 'bridge', 'stdio', `127.0.0.1:${srv.port}`], { reject: false, buffer: false, stdin: 'pipe', stdout: 'pipe' });
    cleanups.push(() => stop(proc));
    const s = await srv.next();
    const up = randomBytes(300_000);
    const got = collect(s, up.length);
    proc.stdin!.write(up);
    expect((await got).equals(up)).toBe(true);
    const down = collect(proc.stdout!, 5);
    s.write('hello');
    expect((await down).toString()).toBe('hello');
    s.end();
    const r = await proc;
    expect(r.exitCode).toBe(0);
  });
});

describe('bridge serve locking', () => {
  it('holds LCK..NAME while serving, refuses a second server with the holder pid, releases on SIGTERM', async () => {
    const p = await pair();
    const lockDir = fs.mkdtempSync('/tmp/laplink-lockdir-');
    cleanups.push(() => rm(lockDir));
    const first = await startCli(['bridge', 'serve', p.a, '--listen', '127.0.0.1:0', '--lock-dir', lockDir], /listening on/);
    cleanups.push(() => stop(first.proc));
    const file = `${lockDir}/${lockName(fs.realpathSync(p.a))}`; // the pty the link resolves to
    expect(fs.readFileSync(file, 'latin1')).toBe(`${String(first.proc.pid).padStart(10)}\n`);
    const second = await execa('node', [laplink, 'bridge', 'serve', p.a, '--listen', '127.0.0.1:0', '--lock-dir', lockDir], { reject: false });
    expect(second.exitCode).toBe(1);
    expect(second.stderr.trim()).toBe(`laplink: ${p.a} is locked by pid ${first.proc.pid} (${file})`);
    await stop(first.proc);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('bridge connect DEVICE takes the same lock: refused while serve holds it, held itself, released on SIGTERM', async () => {
    const p = await pair();
    const other = await pair();
    const lockDir = fs.mkdtempSync('/tmp/laplink-lockdir-');
    cleanups.push(() => rm(lockDir));
    const srv = await startCli(['bridge', 'serve', other.a, '--listen', '127.0.0.1:0', '--no-lock'], /listening on 127\.0\.0\.1:(\d+)\n/);
    cleanups.push(() => stop(srv.proc));
    const holder = await startCli(['bridge', 'serve', p.a, '--listen', '127.0.0.1:0', '--lock-dir', lockDir], /listening on/);
    cleanups.push(() => stop(holder.proc));
    const file = `${lockDir}/${lockName(fs.realpathSync(p.a))}`; // the pty the link resolves to
    const refused = await execa('node', [laplink, 'bridge', 'connect', `127.0.0.1:${srv.match[1]}`, p.a, '--lock-dir', lockDir], { reject: false });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.trim()).toBe(`laplink: ${p.a} is locked by pid ${holder.proc.pid} (${file})`);
    await stop(holder.proc);
    expect(fs.existsSync(file)).toBe(false);
    const conn = execa('node', [laplink, 'bridge', 'connect', `127.0.0.1:${srv.match[1]}`, p.a, '--lock-dir', lockDir], { reject: false });
    cleanups.push(() => stop(conn));
    // connect reports on stderr only; its TCP session showing up at the server means it is running.
    for (let i = 0; i < 200 && !/connect from/.test(srv.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(srv.stderr()).toMatch(/connect from 127\.0\.0\.1/);
    expect(fs.readFileSync(file, 'latin1')).toBe(`${String(conn.pid).padStart(10)}\n`);
    await stop(conn);
    expect(fs.existsSync(file)).toBe(false);
  });
});
