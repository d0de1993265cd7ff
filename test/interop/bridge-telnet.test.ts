/**
 * telnet and RFC 2217 through real peers: our own connect/serve pair across two socat pty cables for
 * 0xFF-heavy data, a raw TCP socket to see the wire bytes, and pyserial's rfc2217:// client
 * (/usr/bin/python3, Debian python3-serial) changing settings that `stty -F` then reads back.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bridgeRig, collect, connectTcp, stop } from '../helpers/bridge.js';

const { cleanups, pair, serve, end } = bridgeRig();

describe('bridge telnet', () => {
  it('doubles 0xFF on the wire and undoubles client data (raw socket view)', async () => {
    const p = await pair();
    const { port } = await serve(p.a, '--protocol', 'telnet');
    const sock = await connectTcp(port);
    cleanups.push(() => void sock.destroy());
    const greeting = await collect(sock, 12);
    expect([...greeting.subarray(0, 12)]).toEqual([255, 251, 1, 255, 251, 3, 255, 251, 0, 255, 253, 0]);
    const dev = end(p.b);
    const fromDev = collect(sock, 5);
    dev.write(Buffer.from([0xff, 0x41, 0xff]));
    expect([...(await fromDev)]).toEqual([0xff, 0xff, 0x41, 0xff, 0xff]);
    const toDev = collect(dev, 3);
    sock.write(Buffer.from([0xff, 0xff, 0x42, 0xff, 0xff]));
    expect([...(await toDev)]).toEqual([0xff, 0x42, 0xff]);
  });

  it('carries 512 KiB of 0xFF-heavy data both ways through serve --protocol telnet and connect --protocol telnet', async () => {
    const left = await pair();
    const right = await pair();
    const { port } = await serve(left.a, '--protocol', 'telnet');
    const client = execa('node', ['bin/laplink.js', 'bridge', 'connect', `127.0.0.1:${port}`, right.a, '--protocol', 'telnet', '--no-lock'], { reject: false, buffer: false, stderr: 'pipe' });
    cleanups.push(() => stop(client));
    await collect(client.stderr!, 1); // its first line is the "connect" event
    const l = end(left.b);
    const r = end(right.b);
    const data = (n: number) => {
      const b = randomBytes(n);
      for (let i = 0; i < n; i += 3) b[i] = 0xff; // a third of all bytes are IAC
      return b;
    };
    const up = data(512 * 1024);
    const down = data(512 * 1024);
    const gotLeft = collect(l, up.length);
    const gotRight = collect(r, down.length);
    r.write(up);
    l.write(down);
    expect((await gotLeft).equals(up)).toBe(true);
    expect((await gotRight).equals(down)).toBe(true);
  });
});

const py = '/usr/bin/python3';

describe('bridge rfc2217 server with pyserial', () => {
  it('applies speed, stop bits and flow control requested by pyserial and carries data', async () => {
    const p = await pair();
    const { port } = await serve(p.a, '--protocol', 'rfc2217');
    const dev = end(p.b);
    const script = `
import serial, sys
s = serial.serial_for_url('rfc2217://127.0.0.1:${port}', baudrate=38400, stopbits=2, xonxoff=True, timeout=5)
s.write(b'hello\\xff')
s.flush()
sys.stdout.write('open\\n'); sys.stdout.flush()
data = s.read(4)
sys.stdout.write('got:' + data.hex() + '\\n'); sys.stdout.flush()
s.baudrate = 57600
sys.stdout.write('speed\\n'); sys.stdout.flush()
sys.stdin.readline()
s.close()
`;
    const proc = execa(py, ['-c', script], { reject: false, buffer: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
    cleanups.push(() => void proc.kill());
    const out = collect(proc.stdout!, 'open\ngot:01ff0203\nspeed\n'.length, 15000);
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const got = await collect(dev, 6).catch((e: Error) => {
      throw new Error(`${e.message}; pyserial: ${err}`);
    });
    expect([...got]).toEqual([...Buffer.from('hello'), 0xff]);
    let st = (await execa('stty', ['-F', p.a, '-a'])).stdout;
    expect(st).toMatch(/speed 38400 baud/);
    expect(st).toMatch(/(^|\s)cstopb/);
    expect(st).toMatch(/(^|\s)ixon/);
    dev.write(Buffer.from([1, 0xff, 2, 3]));
    expect((await out).toString()).toBe('open\ngot:01ff0203\nspeed\n');
    st = (await execa('stty', ['-F', p.a, '-a'])).stdout;
    expect(st).toMatch(/speed 57600 baud/);
    proc.stdin!.write('\n');
    expect((await proc).exitCode).toBe(0);
  });

  it('keeps serving after a wrong-length COM-PORT option (logs it)', async () => {
    const p = await pair();
    const srv = await serve(p.a, '--protocol', 'rfc2217');
    const sock = await connectTcp(srv.port);
    cleanups.push(() => void sock.destroy());
    const dev = end(p.b);
    const got = collect(dev, 2);
    sock.write(Buffer.from([255, 250, 44, 1, 0, 37, 255, 240, 0x6f, 0x6b]));
    expect((await got).toString()).toBe('ok');
    await new Promise((r) => setTimeout(r, 100));
    expect(srv.stderr()).toMatch(/rfc2217: command 1 with 2 payload bytes \(want 4\) rejected/);
    expect(fs.existsSync(p.a)).toBe(true);
  });

  it('serves the real telnet program (netkit): negotiation, 0xFF both ways, line data', async () => {
    const p = await pair();
    const { port } = await serve(p.a, '--protocol', 'telnet');
    const dev = end(p.b);
    const telnet = execa('telnet', ['127.0.0.1', String(port)], { stdin: 'pipe', reject: false, buffer: false, encoding: 'buffer' });
    cleanups.push(() => void telnet.kill());
    telnet.catch(() => undefined);
    const spawnError = new Promise<never>((_, reject) =>
      telnet.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(err.code === 'ENOENT' ? 'telnet not found: install Debian package telnet (scripts/setup does)' : err.message)),
      ),
    );
    let out = Buffer.alloc(0);
    telnet.stdout!.on('data', (c: Buffer) => (out = Buffer.concat([out, c])));
    const until = async (what: Buffer, ms = 10000) => {
      const deadline = Date.now() + ms;
      while (!out.includes(what)) {
        if (Date.now() > deadline) throw new Error(`telnet printed no ${JSON.stringify(what.toString('latin1'))}: ${out.toString('latin1')}`);
        await Promise.race([new Promise((r) => setTimeout(r, 50)), spawnError]);
      }
    };
    await until(Buffer.from('Escape character is'));
    // Client → device: telnet doubles 0xFF in binary mode and we must undouble it.
    const got = collect(dev, 4);
    telnet.stdin!.write(Buffer.from([0x77, 0xff, 0x78, 0x0a]));
    expect((await got).subarray(0, 3)).toEqual(Buffer.from([0x77, 0xff, 0x78]));
    // Device → client: we double 0xFF and telnet shows the byte itself.
    dev.write(Buffer.from('from-dev\xff!\r\n', 'latin1'));
    await until(Buffer.from('from-dev\xff!', 'latin1'));
    telnet.stdin!.end();
  });
});
