/**
 * A session in Node's TLS moves its bytes in JavaScript (the native pump would bypass TLS), so that
 * path must be set up for it: a bridge daemon starts with V8's optimizing compiler off, and its
 * first such session, served or dialed, turns it back on, while a plain raw session leaves it off;
 * and a port does not keep asking whether the pump could take it (a timer at every drain). A
 * session whose TLS is terminated natively is plaintext on a socketpair, to JavaScript as to the
 * pump: it is treated as a plain one.
 * In process, over in-memory lines (no fd, so the pump itself never starts); real loopback
 * sockets, certificates from openssl.
 */
import { readFileSync } from 'node:fs';
import { Duplex, PassThrough } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamLine } from '../../src/line/socket.js';
import { BridgePort } from '../../src/bridge/server.js';
import { runClient } from '../../src/bridge/client.js';
import { loadTlsState } from '../../src/tls/accepter.js';
import { deferOptimizer, optimizerDeferred, optimizerNeeded } from '../../src/runtime/optimizer.js';
import { collect, connectTcp, tcpServer, waitUntil } from '../helpers/bridge.js';
import { randomPayload } from '../helpers/driver.js';
import { testPki } from '../helpers/tls.js';

const pki = testPki();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  optimizerNeeded(); // whatever a test did, the worker goes on with the compiler on
});

function memoryLine(name: string) {
  const toBridge = new PassThrough();
  const written = new PassThrough();
  return { line: new StreamLine(name, Duplex.from({ readable: toBridge, writable: written })), toBridge, written };
}

/** `node`: TLS in Node, `native`: terminated on the addon's thread. */
type Transport = 'plain' | 'node' | 'native';

async function startPort(name: string, transport: Transport) {
  const device = memoryLine(name);
  const port = new BridgePort({
    name,
    open: async () => device.line,
    listen: { host: '127.0.0.1', port: 0 },
    ...(transport !== 'plain' ? { tls: await loadTlsState({ cert: pki.server.cert, key: pki.server.key }), nativeTls: transport === 'native' } : {}),
  });
  const { port: tcpPort } = await port.start();
  cleanups.push(() => port.stop());
  return { port, tcpPort, device };
}

describe('the optimizing compiler and TLS sessions', () => {
  it('a served TLS session turns the compiler on; a plain raw one, or one in native TLS, leaves it off', async () => {
    const plain = await startPort('plain0', 'plain');
    const secure = await startPort('tls0', 'node');
    const native = await startPort('native0', 'native');
    deferOptimizer();

    const client = await connectTcp(plain.tcpPort);
    cleanups.push(() => client.destroy());
    const atPlain = collect(plain.device.written, 5);
    client.write('plain');
    expect((await atPlain).toString()).toBe('plain');
    expect(optimizerDeferred()).toBe(true);

    const nativeClient = tlsConnect({ host: '127.0.0.1', port: native.tcpPort, ca: readFileSync(pki.ca), checkServerIdentity: () => undefined });
    cleanups.push(() => nativeClient.destroy());
    await waitUntil(() => native.port.sessions.size === 1, 'the native TLS session on the port', 10_000, 10);
    const atNative = collect(native.device.written, 6);
    nativeClient.write('native');
    expect((await atNative).toString()).toBe('native');
    expect(optimizerDeferred()).toBe(true);

    // The test's own client: it checks nothing about the server, only the port's side is under test.
    const tlsClient = tlsConnect({ host: '127.0.0.1', port: secure.tcpPort, ca: readFileSync(pki.ca), checkServerIdentity: () => undefined });
    cleanups.push(() => tlsClient.destroy());
    await waitUntil(() => secure.port.sessions.size === 1, 'the TLS session on the port', 10_000, 10);
    const atSecure = collect(secure.device.written, 6);
    tlsClient.write('secret');
    expect((await atSecure).toString()).toBe('secret');
    expect(optimizerDeferred()).toBe(false);
  });

  it('a session dialed with Node’s TLS turns the compiler on; a plain raw one leaves it off', async () => {
    const remote = await tcpServer(cleanups);
    const secure = await startPort('tls1', 'node');
    deferOptimizer();

    const plainLine = memoryLine('local-plain');
    const plainAbort = new AbortController();
    const plainDone = runClient({ host: '127.0.0.1', port: remote.port, line: plainLine.line, reconnect: true, signal: plainAbort.signal });
    cleanups.push(async () => {
      plainAbort.abort();
      await plainDone;
    });
    const accepted = await remote.next();
    cleanups.push(() => accepted.destroy());
    const atRemote = collect(accepted, 5);
    plainLine.toBridge.write('plain');
    expect((await atRemote).toString()).toBe('plain');
    expect(optimizerDeferred()).toBe(true);

    const tlsLine = memoryLine('local-tls');
    const tlsAbort = new AbortController();
    const tlsDone = runClient({
      host: '127.0.0.1',
      port: secure.tcpPort,
      line: tlsLine.line,
      reconnect: true,
      tls: { pin: [pki.server.fingerprint] },
      // TLS on the addon's thread leaves JS a plain socket (native-tls-client.test.ts)
      nativeTls: false,
      signal: tlsAbort.signal,
    });
    cleanups.push(async () => {
      tlsAbort.abort();
      await tlsDone;
    });
    await waitUntil(() => secure.port.sessions.size === 1, 'the dialed TLS session on the port', 10_000, 10);
    const atDevice = collect(secure.device.written, 6);
    tlsLine.toBridge.write('secret');
    expect((await atDevice).toString()).toBe('secret');
    expect(optimizerDeferred()).toBe(false);
  });

  it('a port never asks whether the pump could take a session in Node’s TLS, while bytes move both ways; a plain one, or one in native TLS, it asks', async () => {
    const asked = async (transport: Transport): Promise<number> => {
      const { port, tcpPort, device } = await startPort(`${transport}2`, transport);
      const tries = vi.spyOn(port as unknown as { pumpable: () => unknown }, 'pumpable');
      const client = transport !== 'plain' ? tlsConnect({ host: '127.0.0.1', port: tcpPort, ca: readFileSync(pki.ca), checkServerIdentity: () => undefined }) : await connectTcp(tcpPort);
      cleanups.push(() => client.destroy());
      await waitUntil(() => port.sessions.size === 1, 'the session on the port', 10_000, 10);
      // 1 MiB each way: far more than either side's buffers, so both drain many times.
      const payload = randomPayload(1024 * 1024);
      const atDevice = collect(device.written, payload.length);
      client.write(payload);
      expect((await atDevice).equals(payload)).toBe(true);
      const atClient = collect(client, payload.length);
      device.toBridge.write(payload);
      expect((await atClient).equals(payload)).toBe(true);
      // A pump try is a 0 ms timer armed before this one: it has run by the time this one fires.
      await new Promise((r) => setTimeout(r, 1));
      return tries.mock.calls.length;
    };
    expect(await asked('plain')).toBeGreaterThan(0);
    expect(await asked('native')).toBeGreaterThan(0);
    expect(await asked('node')).toBe(0);
  });
});
