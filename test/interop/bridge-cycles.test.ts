import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { serveLaplink } from '../../bench/lib/bridges.js';
import { connectTcp, exchangeMarkers, openTty, randomPayload, receiveSha256, sha256, Sink } from '../../bench/lib/driver.js';
import { fdCount, processTree, rssBytes } from '../../bench/lib/proc.js';
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

async function markerThrough(port: number, far: Duplex, farSink: Sink): Promise<void> {
  const tcp = await connectTcp(port);
  const tcpSink = new Sink(tcp, 'client');
  try {
    await exchangeMarkers(tcp, tcpSink, far, farSink);
  } finally {
    tcpSink.detach();
    tcp.destroy();
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
    const rssBefore = rssBytes([serve.pid]);

    for (let i = 1; i <= CYCLES; i++) {
      await cycle(serve.port);
      // Every 100th session also carries data, so the cycles really reach the device.
      if (i % 100 === 0) await markerThrough(serve.port, far, farSink);
    }

    const fdsAfter = await settledFds(serve.pid, fdsBefore);
    const rssAfter = rssBytes([serve.pid]);
    expect(serve.exitCode(), `serve still running: ${serve.output()}`).toBeNull();
    expect(fdsAfter, `open fds of serve (pid ${serve.pid}) before and after ${CYCLES} cycles`).toBe(fdsBefore);
    expect(rssAfter, `RSS grew from ${rssBefore} to ${rssAfter} bytes`).toBeLessThan(rssBefore + 32 * 1024 * 1024);

    // And it still transfers data, byte-exact, both ways.
    farSink.detach();
    const tcp = await connectTcp(serve.port);
    cleanups.push(() => tcp.destroy());
    const tcpSink = new Sink(tcp, 'client');
    farSink.attach();
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
});
