/**
 * A TLS port and a TLS client in one process over in-memory lines (StreamLine over PassThroughs
 * stands in for a device: no pty, no CLI, no stdout to wait for): the port's session stack is TLS
 * under raw, it names the client's certificate, and runClient's TLS dialer reaches it with a pin.
 * Real loopback sockets, certificates from openssl.
 */
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamLine } from '../../src/line/socket.js';
import { BridgePort } from '../../src/bridge/server.js';
import { runClient } from '../../src/bridge/client.js';
import { loadTlsState } from '../../src/tls/accepter.js';
import type { BridgeEvent } from '../../src/bridge/events.js';
import { collect, waitUntil } from '../helpers/bridge.js';
import { testPki } from '../helpers/tls.js';

const pki = testPki();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An in-memory device: what the bridge writes comes out of `written`; what is pushed to `toBridge` the bridge reads. */
function memoryLine(name: string) {
  const toBridge = new PassThrough();
  const written = new PassThrough();
  const line = new StreamLine(name, Duplex.from({ readable: toBridge, writable: written }));
  return { line, toBridge, written };
}

describe('TLS port and client in process', () => {
  it('carries bytes both ways between two in-memory lines over TLS, with a client certificate and a pinned server', async () => {
    const device = memoryLine('device');
    const events: BridgeEvent[] = [];
    const port = new BridgePort({
      name: 'mem0',
      open: async () => device.line,
      listen: { host: '127.0.0.1', port: 0 },
      tls: await loadTlsState({ cert: pki.server.cert, key: pki.server.key, allow: [pki.client.fingerprint] }),
      onEvent: (e) => events.push(e),
    });
    const { port: tcpPort } = await port.start();
    cleanups.push(() => port.stop());

    const local = memoryLine('local');
    const ac = new AbortController();
    const done = runClient({
      host: '127.0.0.1',
      port: tcpPort,
      line: local.line,
      reconnect: true,
      tls: { pin: [pki.server.fingerprint], cert: pki.client.cert, key: pki.client.key },
      signal: ac.signal,
    });
    cleanups.push(async () => {
      ac.abort();
      await done;
    });
    await waitUntil(() => port.sessions.size === 1, 'the client’s session on the port', 10_000, 10);
    const [session] = port.sessions;
    expect(session!.filters.map((f) => f.name)).toEqual(['tls', 'raw']);
    expect(session!.peer.identity?.fingerprint).toBe(pki.client.fingerprint);
    expect(events).toContainEqual(expect.objectContaining({ type: 'connect', port: 'mem0', tls: true, client: expect.stringMatching(/^CN=laptop sha256:/) }));

    const atDevice = collect(device.written, 11);
    local.toBridge.write('to device\r\n');
    expect((await atDevice).toString()).toBe('to device\r\n');
    const atLocal = collect(local.written, 10);
    device.toBridge.write('to local\r\n');
    expect((await atLocal).toString()).toBe('to local\r\n');
    expect(port.dataPath).toBe('javascript');
  });
});
