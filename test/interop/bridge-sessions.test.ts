/** ser2net's session features on real sockets and socat pty pairs: trace files, idle timeout, banner, allow-list, slow clients. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, connectTcp, openEnd, rm, startCli, stop } from '../helpers/bridge.js';
import { startPtyPair } from '../helpers/ptypair.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

async function rig(...flags: string[]) {
  const p = await startPtyPair();
  cleanups.push(() => p.close());
  const r = await startCli(['bridge', 'serve', p.a, '--listen', '127.0.0.1:0', '--no-lock', ...flags], /listening on 127\.0\.0\.1:(\d+)\n/);
  cleanups.push(() => stop(r.proc));
  const dev = openEnd(p.b);
  cleanups.push(() => dev.close());
  return { p, srv: r, port: Number(r.match[1]), dev: dev.stream };
}

function closedText(s: import('node:net').Socket): Promise<string> {
  return new Promise((r) => {
    let t = '';
    s.on('data', (c) => (t += c.toString()));
    s.on('close', () => r(t));
  });
}

describe('bridge sessions', () => {
  it('writes tr/tw/tb trace files with hexdump, timestamps and OPEN/CLOSE lines', async () => {
    const dir = fs.mkdtempSync('/tmp/laplink-trace-');
    cleanups.push(() => rm(dir));
    const { port, dev, srv } = await rig('--trace-read', `${dir}/tr`, '--trace-write', `${dir}/tw`, '--trace-both', `${dir}/tb`, '--trace-hex', '--trace-timestamp');
    const s = await connectTcp(port);
    const got = collect(dev, 3);
    s.write('AT\r');
    await got;
    const back = collect(s, 2);
    dev.write('OK');
    await back;
    s.destroy();
    await stop(srv.proc);
    const ts = '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z';
    const tw = fs.readFileSync(`${dir}/tw`, 'latin1');
    expect(tw).toMatch(new RegExp(`^${ts} OPEN \\(127\\.0\\.0\\.1:\\d+\\)\\n${ts} 41 54 0d {16}\\|AT\\.\\|\\n${ts} CLOSE`));
    const tr = fs.readFileSync(`${dir}/tr`, 'latin1');
    expect(tr).toMatch(new RegExp(`${ts} 4f 4b {19}\\|OK\\|\\n`));
    expect(tr).not.toMatch(/41 54/);
    const tb = fs.readFileSync(`${dir}/tb`, 'latin1');
    expect(tb).toMatch(new RegExp(`${ts} w 41 54 0d {16}\\|AT\\.\\|\\n${ts} r 4f 4b`));
  });

  it('disconnects an idle client after --idle-timeout', async () => {
    const { port, srv } = await rig('--idle-timeout', '1');
    const s = await connectTcp(port);
    await closedText(s);
    expect(srv.stderr()).toMatch(/disconnect 127\.0\.0\.1:\d+ \(idle timeout\)/);
  });

  it('sends the banner with escapes to each client', async () => {
    const { port } = await rig('--banner', 'welcome to \\x41\\r\\n');
    const s = await connectTcp(port);
    cleanups.push(() => void s.destroy());
    expect((await collect(s, 14)).toString()).toBe('welcome to A\r\n');
  });

  it('refuses a client outside the allow-list and accepts one inside', async () => {
    const { port, srv } = await rig('--allow', '10.0.0.0/8', '--max-connections', '2');
    const s = await connectTcp(port);
    await closedText(s);
    expect(srv.stderr()).toMatch(/refused 127\.0\.0\.1:\d+ \(not in allow-list\)/);
    const ok = await rig('--allow', '10.0.0.0/8', '127.0.0.0/8');
    const s2 = await connectTcp(ok.port);
    cleanups.push(() => void s2.destroy());
    const got = collect(ok.dev, 2);
    s2.write('hi');
    expect((await got).toString()).toBe('hi');
  });

  it('--slow-client drop disconnects a client that stops reading; the other gets every byte', async () => {
    const { port, dev, srv } = await rig('--max-connections', '2', '--slow-client', 'drop');
    const fast = await connectTcp(port);
    const slow = await connectTcp(port);
    cleanups.push(() => void fast.destroy(), () => void slow.destroy());
    slow.pause(); // never reads: kernel buffers fill, then our 64 KiB bound
    await new Promise((r) => setTimeout(r, 200));
    const data = randomBytes(24 << 20);
    const got = collect(fast, data.length, 50000);
    dev.write(data);
    expect((await got).equals(data)).toBe(true);
    expect(srv.stderr()).toMatch(/disconnect 127\.0\.0\.1:\d+ \(client too slow \(\d+ bytes queued\)\)/);
  });

  it('--slow-client pause (the default) holds the device for a client that stops reading; nobody loses a byte', async () => {
    const { port, dev, srv } = await rig('--max-connections', '2', '--slow-client', 'pause');
    const fast = await connectTcp(port);
    const slow = await connectTcp(port);
    cleanups.push(() => void fast.destroy(), () => void slow.destroy());
    slow.pause();
    await new Promise((r) => setTimeout(r, 200));
    const data = randomBytes(24 << 20);
    let fastGot = 0;
    fast.on('data', (c: Buffer) => (fastGot += c.length));
    dev.write(data);
    // The slow client's kernel buffers fill, then its 64 KiB bound: the bridge stops reading the
    // device, so the fast client stalls too, far short of the whole payload (a drop policy or an
    // unbounded buffer would let it run to the end).
    let last = -1;
    while (fastGot !== last) {
      last = fastGot;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(fastGot).toBeGreaterThan(0);
    expect(fastGot).toBeLessThan(data.length / 2);
    expect(srv.stderr()).not.toMatch(/too slow/);
    // Both read on: each gets every byte, in order.
    fast.removeAllListeners('data');
    const rest = collect(fast, data.length - fastGot, 60000);
    const all = collect(slow, data.length, 60000);
    slow.resume();
    expect((await all).equals(data)).toBe(true);
    expect((await rest).equals(data.subarray(fastGot))).toBe(true);
  });
});
