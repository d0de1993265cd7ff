/**
 * The TLS listener in process, over real loopback sockets (the bounds are options here so that the
 * test need not wait the daemon's 10 s): a peer that never finishes its handshake is dropped with one
 * refusal, a flood of half-open handshakes is bounded (the excess refused at once, each with one
 * line), nothing of theirs is handed on, and a session already open goes on meanwhile.
 */
import net from 'node:net';
import { readFileSync, readlinkSync } from 'node:fs';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { Listener } from '../../src/listen/listener.js';
import { loadTlsState } from '../../src/tls/accepter.js';
import { streamFd } from '../../src/native/pump.js';
import { nativePumpMayCarry, rawCodec, transportFilter } from '../../src/bridge/codec.js';
import { collect, waitUntil } from '../helpers/bridge.js';
import { pem, testPki } from '../helpers/tls.js';

const pki = testPki();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function echoListener(limits: { maxPending: number; handshakeTimeoutMs: number }, nativeTls = false) {
  const clients: net.Socket[] = [];
  const refused: Array<{ remote: string; reason: string }> = [];
  const listener = await Listener.open({
    name: 'test',
    address: { host: '127.0.0.1', port: 0 },
    tls: await loadTlsState({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca }),
    tlsLimits: limits,
    nativeTls,
    onClient: (socket) => {
      clients.push(socket);
      socket.on('error', () => undefined);
      socket.pipe(socket); // an echo stands in for the device: every byte handed on comes back
    },
    onRefused: (remote, reason) => refused.push({ remote, reason }),
  });
  cleanups.push(() => listener.close());
  cleanups.push(() => clients.forEach((c) => c.destroy()));
  return { listener, port: listener.address.port, clients, refused };
}

function goodClient(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: pem(pki.ca), cert: pem(pki.client.cert), key: pem(pki.client.key), servername: 'localhost' }, () => resolve(s));
    s.once('error', reject);
    cleanups.push(() => void s.destroy());
  });
}

function silent(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', () => undefined);
    cleanups.push(() => void s.destroy());
  });
}

describe.each([
  ['Node', false],
  ['native', true],
])('TLS listener bounds (%s TLS)', (_, nativeTls) => {
  it('drops a peer that connects and never says a word, with one refusal naming it; hands nothing on', async () => {
    const { port, clients, refused } = await echoListener({ maxPending: 4, handshakeTimeoutMs: 300 }, nativeTls);
    const s = await silent(port);
    const local = s.localPort;
    await new Promise<void>((r) => s.once('close', () => r()));
    expect(refused).toEqual([{ remote: `127.0.0.1:${local}`, reason: 'TLS handshake not finished within 0.3 s' }]);
    expect(clients).toHaveLength(0);
  });

  it('bounds a flood of half-open handshakes: the excess is refused at once, the open session echoes throughout, a good client gets in once they time out', async () => {
    const { port, clients, refused } = await echoListener({ maxPending: 3, handshakeTimeoutMs: 1500 }, nativeTls);
    const open = await goodClient(port);
    await waitUntil(() => clients.length === 1, 'the first client handed on', 5000, 10);
    await Promise.all(Array.from({ length: 8 }, () => silent(port)));
    await waitUntil(() => refused.length >= 5, 'five of eight half-open connections refused at once', 5000, 10);
    expect(refused.slice(0, 5).map((r) => r.reason)).toEqual(Array(5).fill('3 TLS handshakes already pending'));
    // The session opened before the flood is untouched by it.
    const echoed = collect(open, 5);
    open.write('hello');
    expect((await echoed).toString()).toBe('hello');
    await waitUntil(() => refused.length === 8, 'the three pending handshakes timed out', 10_000, 10);
    expect(new Set(refused.map((r) => r.remote)).size).toBe(8);
    expect(clients).toHaveLength(1);
    await goodClient(port);
    await waitUntil(() => clients.length === 2, 'a good client after the flood', 5000, 10);
  });

  it('never offers a TLS socket’s fd to the native pump: its fd carries ciphertext', async () => {
    const { clients, port } = await echoListener({ maxPending: 4, handshakeTimeoutMs: 2000 });
    const client = await goodClient(port);
    await waitUntil(() => clients.length === 1, 'the client handed on', 5000, 10);
    const raw = (client as unknown as { _handle?: { fd?: number } })._handle?.fd;
    expect(raw, 'precondition: the TLS socket has a real fd underneath').toBeGreaterThan(0);
    expect(streamFd(clients[0]!)).toBeUndefined();
    expect(streamFd(client)).toBeUndefined();
    expect(nativePumpMayCarry([transportFilter({ tls: true }), rawCodec])).toBe(false);
    expect(nativePumpMayCarry([transportFilter({ tls: false }), rawCodec])).toBe(true);
  });
});

/** The kernel's inode of the socket behind one of our fds, and which table (unix, tcp) lists it. */
function socketKind(fd: number): { inode: string; kind: 'unix' | 'tcp' | 'other' } {
  const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
  if (!inode) throw new Error(`fd ${fd} is not a socket`);
  const listed = (table: string) => readFileSync(`/proc/self/net/${table}`, 'utf8').split('\n').some((l) => l.trim().split(/\s+/).includes(inode));
  return { inode, kind: listed('unix') ? 'unix' : listed('tcp') || listed('tcp6') ? 'tcp' : 'other' };
}

describe('natively terminated TLS', () => {
  it('hands on a socketpair of plaintext, which the pump may carry: never the TCP connection’s fd', async () => {
    const { clients, port, listener } = await echoListener({ maxPending: 4, handshakeTimeoutMs: 2000 }, true);
    expect(listener.tls).toBe(true);
    const client = await goodClient(port);
    await waitUntil(() => clients.length === 1, 'the client handed on', 5000, 10);
    const fd = streamFd(clients[0]!);
    expect(fd, 'the socket handed on has an fd the pump could take').toBeGreaterThan(0);
    // What the pump would move is a unix socketpair, not the TCP connection (which carries ciphertext).
    expect(socketKind(fd!).kind).toBe('unix');
    expect(nativePumpMayCarry([transportFilter({ tls: true, tlsNative: true }), rawCodec])).toBe(true);
    // And it carries the plaintext: the echo behind it sends back what the TLS client wrote.
    const echoed = collect(client, 11);
    client.write('hello plain');
    expect((await echoed).toString()).toBe('hello plain');
  });
});
