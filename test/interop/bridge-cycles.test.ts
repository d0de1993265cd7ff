import { readdirSync, readlinkSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { serveLaplink } from '../helpers/bridge-processes.js';
import { connectTcp, exchangeMarkers, openTty, randomPayload, receiveSha256, sha256, Sink } from '../helpers/driver.js';
import { fdCount, processTree, rssBytes } from '../helpers/proc.js';
import { startPtyPair } from '../helpers/ptypair.js';

/**
 * 1000 connect/disconnect cycles against one `laplink bridge serve` process: no file descriptor
 * may leak (count in /proc/PID/fd equal before and after), memory stays bounded, and the port
 * still carries data afterwards.
 */
const CYCLES = 1000;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const fds = (pid: number): number => processTree(pid).reduce((n, p) => n + fdCount(p), 0);

/** What each fd points to (socket:[inode], /dev/pts/N, anon_inode:…), for a useful failure message. */
function fdTargets(pid: number): string[] {
  const out: string[] = [];
  for (const p of processTree(pid)) {
    for (const fd of readdirSync(`/proc/${p}/fd`)) {
      try {
        out.push(readlinkSync(`/proc/${p}/fd/${fd}`).replace(/\[\d+\]/, ''));
      } catch {
        // closed meanwhile
      }
    }
  }
  return out.sort();
}

function multisetDiff(after: string[], before: string[]): string[] {
  const left = [...before];
  return after.filter((x) => {
    const i = left.indexOf(x);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The fd count once it stopped changing (the server closes sockets asynchronously). */
async function settledFds(pid: number, target?: number): Promise<number> {
  let last = fds(pid);
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    const now = fds(pid);
    if (target !== undefined ? now === target : now === last) return now;
    last = now;
  }
  return last;
}

async function cycle(port: number): Promise<void> {
  const socket = await connectTcp(port);
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.destroy();
  });
}

/**
 * One session that carries a marker each way. With the default max-connections 1, a connection that
 * arrives before the server has seen the previous client's close is refused ("in use", like ser2net):
 * that is correct, so retry until a session is accepted.
 */
async function markerThrough(port: number, far: Duplex, farSink: Sink): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const tcp = await connectTcp(port);
    const tcpSink = new Sink(tcp, 'client');
    const refused = new Promise<false>((resolve) => tcp.once('close', () => resolve(false)));
    const exchange = exchangeMarkers(tcp, tcpSink, far, farSink).then(() => true as const);
    try {
      if (await Promise.race([exchange, refused])) return;
      farSink.cancel('session closed by the server');
      await exchange.catch(() => undefined);
      if (attempt >= 20) throw new Error(`20 sessions in a row were closed by the server`);
      await sleep(20);
    } finally {
      tcpSink.detach();
      tcp.destroy();
    }
  }
}

describe('laplink bridge serve under connect/disconnect cycles', () => {
  it(`${CYCLES} cycles leave the fd count unchanged, RSS bounded, and the port working`, async () => {
    const pair = await startPtyPair();
    cleanups.push(pair.close);
    const serve = await serveLaplink(pair.a);
    cleanups.push(serve.stop);
    const far = openTty(pair.b);
    cleanups.push(() => far.destroy());
    const farSink = new Sink(far, 'device side');

    // Warm up: first sessions open the device and load lazy code paths; measure after that.
    for (let i = 0; i < 3; i++) await markerThrough(serve.port, far, farSink);
    for (let i = 0; i < 20; i++) await cycle(serve.port);
    const fdsBefore = await settledFds(serve.pid);
    const targetsBefore = fdTargets(serve.pid);
    const rssBefore = rssBytes([serve.pid]);

    for (let i = 1; i <= CYCLES; i++) {
      await cycle(serve.port);
      // Every 100th session also carries data, so the cycles really reach the device.
      if (i % 100 === 0) await markerThrough(serve.port, far, farSink);
    }

    const fdsAfter = await settledFds(serve.pid, fdsBefore);
    const rssAfter = rssBytes([serve.pid]);
    expect(serve.exitCode(), `serve still running: ${serve.output()}`).toBeNull();
    const extra = multisetDiff(fdTargets(serve.pid), targetsBefore);
    expect(fdsAfter, `open fds of serve (pid ${serve.pid}) before and after ${CYCLES} cycles; new: ${extra.join(', ')}`).toBe(fdsBefore);
    expect(rssAfter, `RSS grew from ${rssBefore} to ${rssAfter} bytes`).toBeLessThan(rssBefore + 32 * 1024 * 1024);

    // And it still transfers data, byte-exact, both ways.
    await sleep(200); // the last marker session's close reaches the server first
    const tcp = await connectTcp(serve.port);
    cleanups.push(() => tcp.destroy());
    const tcpSink = new Sink(tcp, 'client');
    await exchangeMarkers(tcp, tcpSink, far, farSink);
    tcpSink.detach();
    farSink.detach();
    const up = randomPayload(1024 * 1024);
    const atDevice = receiveSha256(far, up.length, 20_000);
    tcp.write(up);
    expect(await atDevice).toBe(sha256(up));
    const down = randomPayload(1024 * 1024);
    const atClient = receiveSha256(tcp, down.length, 20_000);
    far.write(down);
    expect(await atClient).toBe(sha256(down));
  });

  it('refused clients ("in use") that already sent data do not leak a file descriptor', async () => {
    const pair = await startPtyPair();
    cleanups.push(pair.close);
    const serve = await serveLaplink(pair.a);
    cleanups.push(serve.stop);
    const far = openTty(pair.b);
    cleanups.push(() => far.destroy());
    const farSink = new Sink(far, 'device side');
    await markerThrough(serve.port, far, farSink);
    await sleep(200);
    // The one allowed session (max-connections 1) stays open, so every further client is refused.
    const holder = await connectTcp(serve.port);
    cleanups.push(() => holder.destroy());
    const holderSink = new Sink(holder, 'holder');
    await exchangeMarkers(holder, holderSink, far, farSink);
    const fdsBefore = await settledFds(serve.pid);
    const targetsBefore = fdTargets(serve.pid);

    for (let i = 0; i < 50; i++) {
      const socket = await connectTcp(serve.port);
      socket.write('data sent before the refusal was read\r\n');
      let reply = '';
      socket.on('data', (c: Buffer) => (reply += c.toString()));
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      expect(reply, 'the refused client is told why').toMatch(/in use/i);
    }

    const fdsAfter = await settledFds(serve.pid, fdsBefore);
    const extra = multisetDiff(fdTargets(serve.pid), targetsBefore);
    expect(fdsAfter, `open fds of serve before and after 50 refusals; new: ${extra.join(', ')}`).toBe(fdsBefore);
    // The holder's session was never disturbed.
    await exchangeMarkers(holder, holderSink, far, farSink);
  });
});
