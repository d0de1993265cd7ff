/**
 * NativePump on its own, between two real loopback TCP connections (A and B are the server-side
 * sockets; the tests write and read at the client ends): bytes both ways, stop with bytes in flight
 * handed back intact, the end report on EOF, and the fds it must refuse.
 */
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { holdReads, NativePump, releaseReads, streamFd } from '../../src/native/pump.js';
import { randomPayload } from '../helpers/driver.js';
import { collect } from '../helpers/bridge.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A connected loopback pair: [server side, client side]. */
async function tcpPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const near = await accepted;
  server.close();
  cleanups.push(() => near.destroy(), () => client.destroy());
  return [near, client];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Two pairs with a pump between their server sides. */
async function pumped(onEnd: () => void = () => undefined) {
  const [a, aPeer] = await tcpPair();
  const [b, bPeer] = await tcpPair();
  holdReads(a);
  holdReads(b);
  const pump = NativePump.start(streamFd(a)!, streamFd(b)!, onEnd);
  if (!pump) throw new Error('NativePump.start refused two TCP sockets (addon not built?)');
  return { a, aPeer, b, bPeer, pump };
}

describe('NativePump', () => {
  it('moves bytes both ways and counts them', async () => {
    const { aPeer, bPeer, pump } = await pumped();
    const ab = randomPayload(1 << 20);
    const ba = randomPayload(1 << 20);
    const atB = collect(bPeer, ab.length, 10_000);
    const atA = collect(aPeer, ba.length, 10_000);
    aPeer.write(ab);
    bPeer.write(ba);
    expect((await atB).equals(ab)).toBe(true);
    expect((await atA).equals(ba)).toBe(true);
    expect(pump.totals()).toEqual([ab.length, ba.length]);
    const r = pump.stop();
    expect([r.movedToB, r.movedToA, r.pendingToB.length, r.pendingToA.length, r.reason]).toEqual([ab.length, ba.length, 0, 0, '']);
    expect(() => pump.stop()).toThrow(/stopped twice/);
  });

  it('stopped while B does not read, hands back the bytes in flight; written on, nothing is lost', async () => {
    const { a, b, aPeer, bPeer, pump } = await pumped();
    bPeer.pause(); // kernel buffers fill, then the pump's own
    const data = randomPayload(24 << 20);
    aPeer.write(data);
    await sleep(300);
    const r = pump.stop();
    expect(r.pendingToB.length, 'the pump held bytes when stopped').toBeGreaterThan(0);
    // What the pump held goes out first, then JS reads of A take over: B gets every byte, in order.
    const atB = collect(bPeer, data.length, 20_000);
    b.write(r.pendingToB);
    a.pipe(b);
    releaseReads(a);
    bPeer.resume();
    expect((await atB).equals(data)).toBe(true);
  });

  it('reports EOF on B and leaves it for JS reads to see', async () => {
    let ended = 0;
    const { b, bPeer, pump } = await pumped(() => ended++);
    bPeer.end();
    for (let i = 0; i < 100 && !ended; i++) await sleep(20);
    expect(ended).toBe(1);
    const r = pump.stop();
    expect(r.reason).toBe('eof on B');
    const sawEnd = new Promise<void>((resolve) => b.once('end', () => resolve()));
    releaseReads(b);
    await sawEnd;
  });

  it('refuses a blocking fd rather than stall its thread', async () => {
    const [a] = await tcpPair();
    const fd = fs.openSync('/dev/null', 'r+');
    cleanups.push(() => fs.closeSync(fd));
    expect(NativePump.start(streamFd(a)!, fd, () => undefined)).toBeUndefined();
  });
});
