/**
 * TLS as a client run in C (src/tls/native-dialer.ts over native/tls.c), through runClient as
 * `bridge connect` and `bridge stdio` use it, against real TLS servers: socat `OPENSSL-LISTEN` with
 * verify=1 (our client certificate) on a pty pair, 1 MiB each way; `openssl s_server` for SNI and the
 * TLS 1.2 floor; each refusal in the same words as Node's TLS path (TlsDialer), with not one byte of
 * the line reaching the server; a server that never answers; and the native pump carrying the
 * session's plaintext socketpair, never the TCP socket. Certificates from openssl (test/helpers/tls.ts).
 */
import { execa, type ResultPromise } from 'execa';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runClient, type ClientOptions } from '../../src/bridge/client.js';
import { NativePump } from '../../src/native/pump.js';
import { NativeTlsDirect } from '../../src/tls/native-direct.js';
import { deferOptimizer, optimizerDeferred, optimizerNeeded } from '../../src/runtime/optimizer.js';
import { openSerialLine } from '../../src/line/serial.js';
import { StreamLine } from '../../src/line/socket.js';
import { addon, addonProblem } from '../../src/native/addon.js';
import { NativeTlsDialer } from '../../src/tls/native-dialer.js';
import { TlsDialer } from '../../src/tls/dial.js';
import { dialFailure, SERVER } from '../../src/tls/dial-failure.js';
import type { TlsClientSettings } from '../../src/tls/settings.js';
import { freePort } from '../helpers/bridge-processes.js';
import { collect, waitUntil } from '../helpers/bridge.js';
import { openTty, randomPayload, receiveSha256, sha256 } from '../helpers/driver.js';
import { startPtyPair, type PtyPair } from '../helpers/ptypair.js';
import { testPki, type Cert } from '../helpers/tls.js';

const pki = testPki();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});

function nativeTlsBuilt(): void {
  expect(addon?.tlsConnect, `the addon has no native TLS client (${addonProblem || 'built without libssl-dev?'}): run npm run build with libssl-dev installed`).toBeTypeOf('function');
}

/** A server process, killed after the test; its stderr and stdout kept (the last 8 KiB). */
function server(cmd: string, args: string[]): ResultPromise & { log: () => string } {
  const p = execa(cmd, args, { reject: false, buffer: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
  let log = '';
  for (const s of [p.stdout!, p.stderr!]) s.on('data', (c: Buffer) => (log = (log + c.toString('latin1')).slice(-8192)));
  cleanups.push(async () => {
    p.kill('SIGTERM');
    await p;
  });
  return Object.assign(p, { log: () => log });
}

async function listening(port: number): Promise<boolean> {
  const r = await execa('ss', ['-Hltn', `sport = :${port}`], { reject: false });
  return r.stdout.trim().length > 0;
}

function memoryLine() {
  const toBridge = new PassThrough();
  const written = new PassThrough();
  return { line: new StreamLine('mem', Duplex.from({ readable: toBridge, writable: written })), toBridge, written };
}

/** runClient in the background on `line`, stopped after the test. */
function client(port: number, line: ClientOptions['line'], tls: TlsClientSettings, more: Partial<ClientOptions> = {}): void {
  const ac = new AbortController();
  const done = runClient({ host: '127.0.0.1', port, line, reconnect: true, tls, signal: ac.signal, ...more });
  cleanups.push(async () => {
    ac.abort();
    await done;
  });
}

/** `bridge stdio`'s way: one session, whose failure is the error; its line has `LEAK` waiting to go. */
async function dialOnce(port: number, tls: TlsClientSettings, nativeTls: boolean): Promise<string> {
  const mem = memoryLine();
  mem.toBridge.write('LEAK\n');
  try {
    await runClient({ host: '127.0.0.1', port, line: mem.line, reconnect: false, tls, nativeTls });
    return 'no refusal';
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The local device of `bridge connect DEVICE`: one end of a pty pair opened as a serial line, the
 * other end (`local`) for the test. Not a new pty (--pty): its master is written with blocking
 * writes, which with the reader in this same process would deadlock a test.
 */
async function localDevice(): Promise<{ line: ClientOptions['line']; local: Duplex; pair: PtyPair }> {
  const pair = await startPtyPair();
  cleanups.push(() => pair.close());
  const line = await openSerialLine({ path: pair.a });
  cleanups.push(() => line.close());
  const local = openTty(pair.b);
  cleanups.push(() => void local.destroy());
  return { line, local, pair };
}

/** `size` random bytes local → far, then far → local, byte-exact: one direction after the other,
 *  as socat's FILE: writes block (see bridge-tls.test.ts). */
async function exactInTurn(local: Duplex, far: Duplex, size: number): Promise<void> {
  const up = randomPayload(size);
  const atFar = receiveSha256(far, up.length, 60_000);
  local.write(up);
  expect(await atFar, 'local device → socat’s device').toBe(sha256(up));
  const down = randomPayload(size);
  const atLocal = receiveSha256(local, down.length, 60_000);
  far.write(down);
  expect(await atLocal, 'socat’s device → local device').toBe(sha256(down));
}

/** socat OPENSSL-LISTEN serving `cert` to every client (fork), appending what each sends to a file. */
async function tlsServerWriting(cert: Cert): Promise<{ port: number; received: () => string }> {
  const port = await freePort();
  const pair = await startPtyPair(); // only for its temp dir, removed after the test
  cleanups.push(() => pair.close());
  const file = join(pair.dir, 'received');
  server('socat', [`OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,cert=${cert.cert},key=${cert.key},verify=0`, `OPEN:${file},creat,append`]);
  await waitUntil(() => listening(port), 'socat OPENSSL-LISTEN', 10_000, 25);
  return { port, received: () => (existsSync(file) ? readFileSync(file, 'latin1') : '') };
}

describe('native TLS client against socat OPENSSL-LISTEN verify=1', () => {
  it('with our client certificate: 1 MiB each way between the local device and the far end of socat’s device, byte-exact', async () => {
    nativeTlsBuilt();
    const pair = await startPtyPair();
    cleanups.push(() => pair.close());
    const port = await freePort();
    server('socat', [`OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,cert=${pki.server.cert},key=${pki.server.key},cafile=${pki.ca},verify=1`, `FILE:${pair.a},raw,echo=0`]);
    await waitUntil(() => listening(port), 'socat OPENSSL-LISTEN', 10_000, 25);
    const { line, local } = await localDevice();
    const events: string[] = [];
    client(port, line, { ca: pki.ca, cert: pki.client.cert, key: pki.client.key, serverName: 'localhost' }, { onEvent: (e) => void events.push(JSON.stringify(e)) });
    const far = openTty(pair.b);
    cleanups.push(() => void far.destroy());
    await exactInTurn(local, far, 1 << 20);
    expect(events).toContainEqual(JSON.stringify({ type: 'connect', port: `127.0.0.1:${port}`, remote: `127.0.0.1:${port}`, outgoing: true, tls: true }));
  });
});

describe('native TLS client, carried to the device, across sessions', () => {
  it('the server ending each session: the client reconnects and the device’s bytes reach the next session, none lost', async () => {
    nativeTlsBuilt();
    const port = await freePort();
    const pair = await startPtyPair(); // for its temp dir
    cleanups.push(() => pair.close());
    const file = join(pair.dir, 'received');
    // Each forked session ends soon by itself: the file side reads EOF at once, so socat sends its
    // close_notify and closes 0.5 s later, as a server going away would.
    server('socat', [`OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,cert=${pki.server.cert},key=${pki.server.key},verify=0`, `OPEN:${file},creat,append`]);
    await waitUntil(() => listening(port), 'socat OPENSSL-LISTEN', 10_000, 25);
    const received = () => (existsSync(file) ? readFileSync(file, 'latin1') : '');
    const { line, local } = await localDevice();
    const events: string[] = [];
    client(port, line, { ca: pki.ca }, { minDelay: 50, onEvent: (e) => void events.push(e.type) });
    await waitUntil(() => events.includes('connect'), 'the first session', 10_000, 10);
    local.write('one\n');
    await waitUntil(() => received() === 'one\n', 'the first line at the server', 10_000, 10);
    await waitUntil(() => events.filter((e) => e === 'connect').length === 2, 'the second session, after socat ended the first', 15_000, 20);
    expect(events.slice(0, 4)).toEqual(['connect', 'disconnect', 'retry', 'connect']);
    // Written between or during sessions, these bytes wait in the device and go out in the next.
    local.write('two\n');
    await waitUntil(() => received() === 'one\ntwo\n', 'the second line at the server', 10_000, 10);
  });
});

describe('native TLS client, carried to the device, the device gone', () => {
  it('a device that goes away during a session ends the client (line-gone), not a reconnect loop', async () => {
    nativeTlsBuilt();
    const s = await tlsServerWriting(pki.server);
    const { line, local, pair } = await localDevice();
    const events: string[] = [];
    const done = runClient({ host: '127.0.0.1', port: s.port, line, reconnect: true, minDelay: 50, tls: { ca: pki.ca }, onEvent: (e) => void events.push(e.type) });
    local.write('before\n');
    await waitUntil(() => s.received() === 'before\n', 'the line’s bytes at the server', 10_000, 10);
    await pair.hangup();
    expect(await done).toBe('line-gone');
  });
});

describe('native TLS client and the optimizing compiler', () => {
  it('a natively dialed TLS session leaves the compiler off, as a plain raw one does: JS sees plaintext only', async () => {
    nativeTlsBuilt();
    const s = await tlsServerWriting(pki.server);
    deferOptimizer();
    cleanups.push(() => optimizerNeeded());
    const mem = memoryLine();
    client(s.port, mem.line, { ca: pki.ca });
    mem.toBridge.write('secret\n');
    await waitUntil(() => s.received() === 'secret\n', 'the line’s bytes at the server', 10_000, 20);
    expect(optimizerDeferred()).toBe(true);
  });
});

describe('native TLS client against openssl s_server', () => {
  async function sServer(...flags: string[]): Promise<{ port: number; log: () => string }> {
    const port = await freePort();
    const s = server('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', pki.server.cert, '-key', pki.server.key, ...flags]);
    await waitUntil(() => listening(port), `openssl s_server (${s.log()})`, 10_000, 25);
    return { port, log: s.log };
  }

  it('sends the server name as SNI (s_server logs it), and none for an address', async () => {
    nativeTlsBuilt();
    // -servername with a second certificate installs s_server's SNI callback, which logs the name.
    const named = await sServer('-servername', 'localhost', '-cert2', pki.server.cert, '-key2', pki.server.key);
    const mem = memoryLine();
    client(named.port, mem.line, { ca: pki.ca, serverName: 'localhost' });
    const atServer = waitUntil(() => named.log().includes('hello over TLS'), 'our bytes at s_server', 10_000, 20);
    mem.toBridge.write('hello over TLS\n');
    await atServer;
    expect(named.log()).toContain('Hostname in TLS extension: "localhost"');

    const bare = await sServer('-servername', 'localhost', '-cert2', pki.server.cert, '-key2', pki.server.key);
    const mem2 = memoryLine();
    client(bare.port, mem2.line, { ca: pki.ca }); // the certificate carries IP:127.0.0.1
    const atBare = waitUntil(() => bare.log().includes('by address'), 'our bytes at the second s_server', 10_000, 20);
    mem2.toBridge.write('by address\n');
    await atBare;
    expect(bare.log()).not.toContain('Hostname in TLS extension');
  });

  it('a server offering only TLS 1.2 is reached', async () => {
    nativeTlsBuilt();
    const tls12 = await sServer('-tls1_2');
    const mem = memoryLine();
    client(tls12.port, mem.line, { ca: pki.ca });
    const atServer = waitUntil(() => tls12.log().includes('over TLS 1.2'), 'our bytes at s_server', 10_000, 20);
    mem.toBridge.write('over TLS 1.2\n');
    await atServer;
  });

  it('a server offering only TLS 1.1 is refused with the reason, in both paths alike', async () => {
    nativeTlsBuilt();
    // SECLEVEL=0: else s_server itself would not offer TLS 1.1.
    const old = await sServer('-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0');
    expect(await dialOnce(old.port, { ca: pki.ca }, true)).toBe(`cannot connect to 127.0.0.1:${old.port}: TLS version below 1.2 (the server offers nothing newer)`);
    expect(await dialOnce(old.port, { ca: pki.ca }, false)).toBe(`cannot connect to 127.0.0.1:${old.port}: TLS version below 1.2 (the server offers nothing newer)`);
  });
});

describe('native TLS client refusals: TlsDialer’s decisions and words, nothing sent', () => {
  const cases: Array<{ what: string; cert: () => Cert; tls: () => TlsClientSettings; reason: () => string | RegExp }> = [
    { what: 'a server certificate from another CA', cert: () => pki.wrongCaClient, tls: () => ({ ca: pki.ca, serverName: 'stranger' }), reason: () => "the server's certificate is refused: unable to verify the first certificate" },
    {
      what: 'a name the certificate does not carry',
      cert: () => pki.server,
      tls: () => ({ ca: pki.ca, serverName: 'bridge.example' }),
      reason: () => "the server's certificate is refused: hostname/IP does not match certificate's altnames: Host: bridge.example. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1",
    },
    { what: 'a key not pinned', cert: () => pki.server, tls: () => ({ pin: [pki.client.fingerprint] }), reason: () => `server certificate ${pki.server.fingerprint} is not pinned (--tls-pin)` },
    { what: 'an expired certificate', cert: () => pki.expiredClient, tls: () => ({ ca: pki.ca, serverName: 'expired' }), reason: () => "the server's certificate is refused: certificate has expired" },
    { what: 'an expired certificate, pinned', cert: () => pki.expiredClient, tls: () => ({ pin: [pki.expiredClient.fingerprint] }), reason: () => 'server certificate expired 2020-02-01T00:00:00.000Z' },
    { what: 'a pinned key whose certificate the CA did not sign', cert: () => pki.wrongCaClient, tls: () => ({ pin: [pki.wrongCaClient.fingerprint], ca: pki.ca }), reason: () => 'server certificate: UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    { what: 'a pinned key under another name, with the CA', cert: () => pki.server, tls: () => ({ pin: [pki.server.fingerprint], ca: pki.ca, serverName: 'bridge.example' }), reason: () => 'server certificate: ERR_TLS_CERT_ALTNAME_INVALID' },
  ];
  for (const c of cases) {
    it(`${c.what}: refused, the same words as Node’s TLS, zero bytes to the server`, async () => {
      nativeTlsBuilt();
      const s = await tlsServerWriting(c.cert());
      const expected = `cannot connect to 127.0.0.1:${s.port}: ${c.reason() as string}`;
      expect(await dialOnce(s.port, c.tls(), true), 'native').toBe(expected);
      expect(await dialOnce(s.port, c.tls(), false), 'Node’s TLS').toBe(expected);
      // socat's children have ended (their client closed); what reached the server's side:
      await new Promise((r) => setTimeout(r, 100));
      expect(s.received()).toBe('');
    });
  }

  it('the pinned key and the CA agreeing: accepted (the control case of the refusals above)', async () => {
    nativeTlsBuilt();
    const s = await tlsServerWriting(pki.server);
    const mem = memoryLine();
    client(s.port, mem.line, { pin: [pki.server.fingerprint], ca: pki.ca, serverName: 'localhost' });
    mem.toBridge.write('accepted\n');
    await waitUntil(() => s.received() === 'accepted\n', 'the line’s bytes at the server', 10_000, 20);
  });

  it('a server that accepts TCP and never answers: the handshake timeout ends it, saying so; only the ClientHello went out', async () => {
    nativeTlsBuilt();
    const got: Buffer[] = [];
    const silent = net.createServer((s) => s.on('data', (c: Buffer) => got.push(c)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const closed: Array<Promise<unknown>> = [];
    silent.on('connection', (s) => closed.push(new Promise((r) => s.on('close', r))));
    cleanups.push(() => new Promise((r) => silent.close(r)));
    const dialer = await NativeTlsDialer.create({ ca: pki.ca }, { handshakeTimeoutMs: 300 });
    cleanups.push(() => dialer.close());
    await expect(dialer.connect('127.0.0.1', (silent.address() as net.AddressInfo).port)).rejects.toThrow(/^TLS handshake not finished within 0\.3 s$/);
    await Promise.all(closed); // our end closed the connection
    const sent = Buffer.concat(got);
    expect(sent[0], 'a TLS handshake record').toBe(0x16);
    expect(sent.length, 'one ClientHello record and nothing after it').toBe(5 + sent.readUInt16BE(3));
  });
});

describe('Node’s TLS client (the fallback) and a server that never answers', () => {
  it('the handshake timeout ends the dial, saying so: the native path’s words', async () => {
    // It reads (so that it sees our end) and never writes.
    const silent = net.createServer((s) => s.on('error', () => undefined).resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const closed: Array<Promise<unknown>> = [];
    silent.on('connection', (s) => closed.push(new Promise((r) => s.on('close', r))));
    cleanups.push(() => new Promise((r) => silent.close(r)));
    const dialer = await TlsDialer.create({ ca: pki.ca }, { handshakeTimeoutMs: 300 });
    const socket = dialer.connect('127.0.0.1', (silent.address() as net.AddressInfo).port);
    const failed = await new Promise<Error>((resolve) => socket.once('error', resolve));
    expect(dialFailure(failed, SERVER)).toBe('TLS handshake not finished within 0.3 s');
    await Promise.all(closed); // our end closed the connection
  });
});

describe('what carries a native TLS session', () => {
  /** What an fd is: `socket:[INODE]` with the table (/proc/net/unix or tcp) holding it, or the file. */
  function whatIs(fd: number): string {
    const link = readlinkSync(`/proc/self/fd/${fd}`);
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (!inode) return link;
    const holds = (table: string) => readFileSync(`/proc/net/${table}`, 'latin1').split('\n').some((l) => l.trim().split(/\s+/).includes(inode));
    return holds('unix') ? 'unix socket' : holds('tcp') || holds('tcp6') ? 'TCP socket' : link;
  }

  /** What carried a session natively (the pump, or the TLS thread directed to the device), and whether JS was reading the device when the bytes had moved. */
  async function carriedBy(more: Partial<ClientOptions>): Promise<{ pumped: string[][]; directed: string[][]; jsReadsDevice: boolean }> {
    const pumped: string[][] = [];
    const directed: string[][] = [];
    const start = NativePump.start.bind(NativePump);
    vi.spyOn(NativePump, 'start').mockImplementation((a, b, onEnd) => {
      const fds = [whatIs(a), whatIs(b)];
      const pump = start(a, b, onEnd);
      if (pump) pumped.push(fds);
      return pump;
    });
    const direct = NativeTlsDirect.start.bind(NativeTlsDirect);
    vi.spyOn(NativeTlsDirect, 'start').mockImplementation((deviceFd, socket, socketFd, onEnd) => {
      const fds = [whatIs(deviceFd), whatIs(socketFd)];
      const carrier = direct(deviceFd, socket, socketFd, onEnd);
      if (carrier) directed.push(fds);
      return carrier;
    });
    const pair = await startPtyPair();
    cleanups.push(() => pair.close());
    const port = await freePort();
    server('socat', [`OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,cert=${pki.server.cert},key=${pki.server.key},verify=0`, `FILE:${pair.a},raw,echo=0`]);
    await waitUntil(() => listening(port), 'socat OPENSSL-LISTEN', 10_000, 25);
    const { line, local } = await localDevice();
    client(port, line, { ca: pki.ca }, more);
    const far = openTty(pair.b);
    cleanups.push(() => void far.destroy());
    const first = collect(far, 6);
    local.write('first\n');
    expect((await first).toString()).toBe('first\n');
    if (more.nativeTls !== false && more.nativePump !== false) await waitUntil(() => directed.length > 0, 'the TLS thread to take the idle session', 10_000, 10);
    else await new Promise((r) => setTimeout(r, 200)); // it would have been taken by now (see above)
    // Bytes still exact whoever carries them: a carrier moving TLS records would hand over ciphertext.
    await exactInTurn(local, far, 64 * 1024);
    return { pumped, directed, jsReadsDevice: (line.stream as unknown as { _handle: { reading?: boolean } })._handle.reading === true };
  }

  it('a lone raw session goes from the TLS thread straight to the device (the socketpair set aside), never through the pump or the TCP socket', async () => {
    nativeTlsBuilt();
    const { pumped, directed, jsReadsDevice } = await carriedBy({});
    expect(pumped).toEqual([]);
    expect(directed).toHaveLength(1);
    expect(directed[0]![0], 'the local device').toMatch(/^\/dev\/pts\/\d+$/);
    expect(directed[0]![1], 'the session’s socket handed over').toBe('unix socket');
    expect(jsReadsDevice, 'JS reading the device (the TLS thread is its one reader)').toBe(false);
  });

  it('nativePump: false (--no-native-pump) keeps every byte in JavaScript, TLS included: Node’s TLS dials', async () => {
    const dialed = vi.spyOn(NativeTlsDialer, 'create');
    const { pumped, directed } = await carriedBy({ nativePump: false });
    expect(dialed).not.toHaveBeenCalled();
    expect(pumped).toEqual([]);
    expect(directed).toEqual([]);
  });

  it('with Node’s TLS (nativeTls: false) nothing native carries it: that socket’s fd holds ciphertext', async () => {
    const { pumped, directed } = await carriedBy({ nativeTls: false });
    expect(pumped).toEqual([]);
    expect(directed).toEqual([]);
  });
});
