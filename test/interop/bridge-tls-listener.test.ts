/**
 * The TLS listener in process, over real loopback sockets (the bounds are options here so that the
 * test need not wait the daemon's 10 s): a peer that never finishes its handshake is dropped with one
 * refusal, a flood of half-open handshakes is bounded (the excess refused at once, each with one
 * line), nothing of theirs is handed on, and a session already open goes on meanwhile.
 */
import net from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { Listener } from '../../src/listen/listener.js';
import { loadTlsState } from '../../src/tls/accepter.js';
import { streamFd } from '../../src/bridge/pump.js';
import { nativePumpMayCarry, rawCodec, transportFilter } from '../../src/bridge/codec.js';
import { collect, waitUntil } from '../helpers/bridge.js';
import { pem, testPki } from '../helpers/tls.js';

const pki = testPki();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function echoListener(limits: { maxPending: number; handshakeTimeoutMs: number }) {
  const clients: net.Socket[] = [];
  const refused: Array<{ remote: string; reason: string }> = [];
  const listener = await Listener.open({
    name: 'test',
    address: { host: '127.0.0.1', port: 0 },
    tls: await loadTlsState({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca }),
    tlsLimits: limits,
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

describe('TLS listener bounds', () => {
  it('drops a peer that connects and never says a word, with one refusal naming it; hands nothing on', async () => {
    const { port, clients, refused } = await echoListener({ maxPending: 4, handshakeTimeoutMs: 300 });
    const s = await silent(port);
    const local = s.localPort;
    await new Promise<void>((r) => s.once('close', () => r()));
    expect(refused).toEqual([{ remote: `127.0.0.1:${local}`, reason: 'TLS handshake not finished within 0.3 s' }]);
    expect(clients).toHaveLength(0);
  });

  it('bounds a flood of half-open handshakes: the excess is refused at once, the open session echoes throughout, a good client gets in once they time out', async () => {
    const { port, clients, refused } = await echoListener({ maxPending: 3, handshakeTimeoutMs: 1500 });
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
    expect(nativePumpMayCarry([transportFilter(true), rawCodec])).toBe(false);
    expect(nativePumpMayCarry([transportFilter(false), rawCodec])).toBe(true);
  });
});
