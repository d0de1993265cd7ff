/**
 * Hostile clients against a real `laplink bridge serve` process (issue 18), loopback only, bounded in
 * bytes and count: a client flooding telnet/RFC 2217 requests and never reading its replies, beside
 * clients moving data; and connect/close churn. Memory is the bridge process's VmRSS from
 * /proc/PID/status. (30,000 churn cycles per protocol are a soak: `npm run bench -- churn`; 500 here.)
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bridgeRig, collect, connectTcp, stop, waitUntil } from '../helpers/bridge.js';

const rig = bridgeRig();

/** Growth of the bridge's resident memory we accept under a flood; main grew past 1 GB. */
const RSS_BOUND_MB = 96;
/** How long a flooder keeps pushing (the bridge's memory is flat after ~6 s; see the pause case). */
const FLOOD_SECONDS = 12;

const vmRss = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const fdCount = (pid: number): number => fs.readdirSync(`/proc/${pid}/fd`).length;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Random data without 0xFF, so telnet framing adds nothing to it and strip() below is exact. */
function payload(n: number): Buffer {
  const b = randomBytes(n);
  for (let i = 0; i < n; i++) if (b[i] === 0xff) b[i] = 0xfe;
  return b;
}

/** Removes the server's telnet commands (IAC verb opt, IAC SB … IAC SE) from a stream of data without 0xFF. */
function strip(b: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0xff) {
      out.push(b[i]!);
      continue;
    }
    const verb = b[i + 1]!;
    if (verb === 250) {
      while (!(b[i] === 0xff && b[i + 1] === 240)) i++;
      i++;
    } else i += verb >= 251 ? 2 : 1;
  }
  return Buffer.from(out);
}

/** SET-CONTROL "DTR on" (an ioctl, answered later) and "DTR state?", then DO/DONT of an option we refuse. */
const REQUESTS = Buffer.from([255, 250, 44, 5, 8, 255, 240, 255, 250, 44, 5, 7, 255, 240, 255, 253, 99, 255, 254, 99]);

interface Flood {
  /** Bytes the kernel took from us (write callbacks), so what the bridge could read. */
  sent: number;
  /** The bridge stopped reading us (no write taken for 2 s) at least once. */
  paused: boolean;
  /** The bridge closed the connection. */
  dropped: boolean;
}

/**
 * Floods requests without ever reading, for `seconds` or until `total` bytes went out or the bridge
 * drops us. A stall does not end the flood: the code before the fix also stalled for seconds (it was
 * busy with what it had read, its memory still growing) and then read on, so stopping at the first
 * stall measured only the first 4 MB and passed on it. What bounds the bridge's memory is what it does
 * for as long as the client keeps pushing.
 */
async function flood(port: number, total: number, seconds: number): Promise<Flood> {
  const sock = await connectTcp(port);
  sock.pause(); // never read a reply
  const r: Flood = { sent: 0, paused: false, dropped: false };
  let ours = false; // we close it ourselves at the end: that is no drop
  sock.on('close', () => (r.dropped ||= !ours));
  sock.on('error', () => (r.dropped ||= !ours));
  const chunk = Buffer.concat(Array<Buffer>(3277).fill(REQUESTS)); // 64 KiB
  const deadline = Date.now() + seconds * 1000;
  let lastProgress = Date.now();
  const stallWatch = setInterval(() => (r.paused ||= Date.now() - lastProgress >= 2000), 100);
  const end = new Promise<void>((res) => {
    const t = setTimeout(res, seconds * 1000);
    sock.once('close', () => (clearTimeout(t), res()));
  });
  const writing = (async () => {
    // One write in flight at a time: its callback says the kernel took it, i.e. the bridge is reading.
    while (r.sent < total && !r.dropped && Date.now() < deadline) {
      const taken = await new Promise<boolean>((res) => sock.write(chunk, (err) => res(!err)));
      if (!taken) break;
      r.sent += chunk.length;
      lastProgress = Date.now();
    }
  })();
  await Promise.race([end, writing]);
  clearInterval(stallWatch);
  ours = true;
  sock.destroy();
  return r;
}

function sampleRss(pid: number): { peak: () => number; stop: () => void } {
  let peak = vmRss(pid);
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, vmRss(pid));
    } catch {
      clearInterval(t); // the bridge has exited; the test says why
    }
  }, 25);
  return { peak: () => peak, stop: () => clearInterval(t) };
}

describe('bridge under a client flooding protocol requests without reading', () => {
  it('slow-client drop: the flooder is dropped or no longer read, a data client moves 2 MiB each way exactly, RSS bounded', async () => {
    const p = await rig.pair();
    const srv = await rig.serve(p.a, '--protocol', 'rfc2217', '--max-connections', '3', '--slow-client', 'drop');
    const pid = srv.proc.pid!;
    const dev = rig.end(p.b);
    const data = await connectTcp(srv.port);
    rig.cleanups.push(() => void data.destroy());
    const start = vmRss(pid);
    const rss = sampleRss(pid);
    const flooding = flood(srv.port, 24 * 1024 * 1024, FLOOD_SECONDS);

    const up = payload(2 * 1024 * 1024);
    const down = payload(2 * 1024 * 1024);
    const atDevice = collect(dev, up.length, 40_000);
    const atClientRaw: Buffer[] = [];
    data.on('data', (c: Buffer) => atClientRaw.push(c));
    data.write(up);
    dev.write(down);
    // Memory first: the code before the fix was still busy with the flood long after it, its RSS hundreds of MB up.
    const f = await flooding;
    expect(rss.peak() - start, `bridge RSS ${start.toFixed(1)} → ${rss.peak().toFixed(1)} MB during ${FLOOD_SECONDS} s of flood (${(f.sent / 1e6).toFixed(1)} MB taken)`).toBeLessThan(RSS_BOUND_MB);
    expect(sha(await atDevice)).toBe(sha(up));
    await waitUntil(() => strip(Buffer.concat(atClientRaw)).length >= down.length, 'device data at the client', 40_000, 20);
    rss.stop();
    expect(sha(strip(Buffer.concat(atClientRaw)))).toBe(sha(down));
    // Dropped once its unread replies (and device data) pass clientBuffer beyond what the kernel holds;
    // until then its requests are read no faster than they are answered.
    expect(f.dropped || f.paused, `flooder: ${JSON.stringify(f)}`).toBe(true);
    if (f.dropped) expect(srv.stderr().match(/disconnect .*/g)?.join('\n')).toMatch(/client too slow/);
    const growth = rss.peak() - start;
    console.log(`drop: flooder sent ${(f.sent / 1e6).toFixed(1)} MB, ${f.dropped ? 'dropped' : 'paused'}; bridge RSS ${start.toFixed(1)} → peak ${rss.peak().toFixed(1)} MB (+${growth.toFixed(1)})`);
    expect(growth).toBeLessThan(RSS_BOUND_MB);
  });

  it('slow-client pause: the flooder is no longer read, a data client still moves 2 MiB to the device exactly, RSS bounded', async () => {
    const p = await rig.pair();
    const srv = await rig.serve(p.a, '--protocol', 'rfc2217', '--max-connections', '2');
    const pid = srv.proc.pid!;
    const dev = rig.end(p.b);
    const data = await connectTcp(srv.port);
    rig.cleanups.push(() => void data.destroy());
    data.resume();
    const start = vmRss(pid);
    const rss = sampleRss(pid);
    // The code before the fix took every request in and buffered every reply: +45 MB after 4 MB of
    // requests, +150 MB after 12 s, +260 MB after 15 s, growing on (the fix: +45–60 MB, flat).
    const f = await flood(srv.port, 24 * 1024 * 1024, FLOOD_SECONDS);
    expect(rss.peak() - start, `bridge RSS ${start.toFixed(1)} → ${rss.peak().toFixed(1)} MB during ${FLOOD_SECONDS} s of flood (${(f.sent / 1e6).toFixed(1)} MB taken)`).toBeLessThan(RSS_BOUND_MB);
    expect(f.paused, `flooder: ${JSON.stringify(f)}`).toBe(true);
    const up = payload(2 * 1024 * 1024);
    const atDevice = collect(dev, up.length, 40_000);
    data.write(up);
    const got = await atDevice;
    let at = 0;
    while (at < up.length && got[at] === up[at]) at++;
    expect(at, `first difference at byte ${at} of ${got.length}: ${got.subarray(at, at + 16).toString('hex')} vs ${up.subarray(at, at + 16).toString('hex')}`).toBe(up.length);
    expect(sha(got)).toBe(sha(up));
    rss.stop();
    const growth = rss.peak() - start;
    console.log(`pause: flooder paused after ${(f.sent / 1e6).toFixed(1)} MB; bridge RSS ${start.toFixed(1)} → peak ${rss.peak().toFixed(1)} MB (+${growth.toFixed(1)})`);
    expect(growth).toBeLessThan(RSS_BOUND_MB);
  });
});

describe('bridge connect/close churn', () => {
  it('500 RFC 2217 connect/close cycles: fd count back to its start, RSS near it', async () => {
    const p = await rig.pair();
    const srv = await rig.serve(p.a, '--protocol', 'rfc2217', '--max-connections', '4');
    const pid = srv.proc.pid!;
    rig.end(p.b);
    const cycle = async (): Promise<void> => {
      const s = await connectTcp(srv.port);
      s.write(Buffer.from([255, 250, 44, 1, 0, 0, 37, 128, 255, 240])); // SET-BAUDRATE 9600
      s.destroy();
      await new Promise((r) => s.once('close', r));
    };
    for (let i = 0; i < 100; i++) await cycle(); // warm up: code compiled, pools allocated
    await waitUntil(() => !/connect from/.test(srv.stderr().split('\n').slice(-2).join('')), 'sessions to end', 10_000, 50);
    const fds = fdCount(pid);
    const rss0 = vmRss(pid);
    for (let i = 0; i < 500; i++) await cycle();
    await waitUntil(() => fdCount(pid) <= fds, `fd count back to ${fds} (now ${fdCount(pid)})`, 10_000, 50);
    const growth = vmRss(pid) - rss0;
    console.log(`churn: 500 cycles, fds ${fds} → ${fdCount(pid)}, RSS ${rss0.toFixed(1)} → ${vmRss(pid).toFixed(1)} MB`);
    expect(growth).toBeLessThan(24);
  });
});

describe('bridge log under random bytes', () => {
  it('4 MiB of random bytes on an RFC 2217 port log at most 10 lines per kind per 10 s, plus the suppressed counts', async () => {
    const p = await rig.pair();
    const srv = await rig.serve(p.a, '--protocol', 'rfc2217');
    const dev = rig.end(p.b);
    dev.resume();
    const s = await connectTcp(srv.port);
    rig.cleanups.push(() => void s.destroy());
    s.resume();
    const junk = randomBytes(4 * 1024 * 1024);
    await new Promise<void>((r) => s.write(junk, () => r()));
    s.end();
    await waitUntil(() => /disconnect/.test(srv.stderr()), 'the session to end', 30_000, 50);
    await stop(srv.proc); // the last interval's suppressed counts are said on the way out
    const protocolLines = srv.stderr().split('\n').filter((l) => /: (telnet|rfc2217): /.test(l) || l.includes('suppressed'));
    console.log(`random bytes: ${protocolLines.length} protocol log lines for 4 MiB`);
    expect(protocolLines.length).toBeLessThan(200);
    expect(srv.stderr()).toMatch(/… \d+ more (like ".*"|messages of other kinds) suppressed/);
  });
});
