/**
 * TLS terminated in C (src/tls/native-accepter.ts over native/tls.c) against socat `OPENSSL:` as the
 * client: the handshake on the addon's thread, the peer judged in JavaScript by checkPeer, then the
 * plaintext relayed to a socketpair that JavaScript reads as a plain socket. 1 MiB of random data
 * each way, byte-exact; the peer's chain as the client sent it; the refusals in TlsAccepter's words.
 * Certificates are made at test time by openssl (test/helpers/tls.ts).
 */
import { execa } from 'execa';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { randomPayload, sha256 } from '../helpers/driver.js';
import { testPki } from '../helpers/tls.js';
import { certificateFingerprint } from '../../src/tls/identity.js';
import { NativeTlsAccepter, type NativeTlsSession } from '../../src/tls/native-accepter.js';
import { TlsFileError } from '../../src/tls/files.js';
import type { PeerPolicy } from '../../src/tls/peer-check.js';

const pki = testPki();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Terminator {
  port: number;
  sessions: NativeTlsSession[];
  refusals: string[];
  refused: Promise<string>;
}

/** A loopback port whose connections go to a NativeTlsAccepter; `onSession` gets each accepted session. */
async function terminator(policy: PeerPolicy, onSession: (s: NativeTlsSession) => void, handshakeTimeoutMs?: number): Promise<Terminator> {
  const accepter = new NativeTlsAccepter({ cert: pki.server.cert, key: pki.server.key, ca: policy.verifiesChain ? pki.ca : undefined }, policy, { handshakeTimeoutMs });
  const sessions: NativeTlsSession[] = [];
  const refusals: string[] = [];
  let firstRefusal!: (r: string) => void;
  const refused = new Promise<string>((resolve) => (firstRefusal = resolve));
  // pauseOnConnect: Node must not read the ClientHello before the thread does.
  const server = net.createServer({ pauseOnConnect: true }, (raw) =>
    accepter.accept(
      raw,
      (s) => {
        sessions.push(s);
        onSession(s);
      },
      (reason) => {
        refusals.push(reason);
        firstRefusal(reason);
      },
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const s of sessions) s.socket.destroy();
    accepter.close();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as net.AddressInfo).port, sessions, refusals, refused };
}

/** socat OPENSSL: with `input` on its stdin; resolves with what it wrote to stdout. */
async function socatClient(port: number, input: Buffer, clientCert?: { cert: string; key: string }): Promise<{ out: Buffer; stderr: string; exitCode: number | undefined }> {
  const certOpts = clientCert ? `,cert=${clientCert.cert},key=${clientCert.key}` : '';
  // -t 30: after its stdin ends, socat waits for the server's end instead of quitting after 0.5 s.
  const r = await execa('socat', ['-t', '30', '-', `OPENSSL:127.0.0.1:${port},cafile=${pki.ca},commonname=localhost${certOpts}`], { input, encoding: 'buffer', reject: false, timeout: 50_000 });
  return { out: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr).toString(), exitCode: r.exitCode };
}

/** The server side of a session: keeps every byte received, sends `reply` and ends, at once or once the client's end arrived. */
function replyAndKeep(reply: Buffer, received: Buffer[], when: 'at once' | 'after the client ends'): (s: NativeTlsSession) => void {
  return (s) => {
    s.socket.on('data', (c: Buffer) => received.push(c));
    if (when === 'at once') s.socket.end(reply);
    else s.socket.on('end', () => s.socket.end(reply));
  };
}

/**
 * python3's ssl module as the client, which (unlike socat) tells a close_notify from a bare TCP
 * close: sends `ping`, reads to the end, prints what it read and `clean` or `ragged`, then closes
 * its socket without a close_notify of its own.
 */
const PY_CLIENT = `
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20), server_hostname="localhost", suppress_ragged_eofs=False)
s.sendall(b"ping")
got = b""
try:
    while True:
        c = s.recv(65536)
        if not c:
            end = "clean"
            break
        got += c
except ssl.SSLEOFError:
    end = "ragged"
print(got.decode(), end)
socket.socket.close(s)
`;

const required: PeerPolicy = { clientCert: 'required', verifiesChain: true, allow: [] };
const none: PeerPolicy = { clientCert: 'none', verifiesChain: false, allow: [] };

describe('native TLS termination, socat OPENSSL: as the client', () => {
  it('with a client certificate the CA signed: 1 MiB up, then (after the client’s end reached the socket) 1 MiB down, byte-exact; the chain is the client’s; a clean end', async () => {
    const up = randomPayload(1 << 20);
    const down = randomPayload(1 << 20);
    const received: Buffer[] = [];
    const t = await terminator(required, replyAndKeep(down, received, 'after the client ends'));
    const client = await socatClient(t.port, up, pki.client);
    expect(client.exitCode, client.stderr).toBe(0);
    expect(sha256(client.out), 'server → client').toBe(sha256(down));
    expect(t.sessions).toHaveLength(1);
    const s = t.sessions[0]!;
    const end = await s.ended;
    expect(sha256(Buffer.concat(received)), 'client → server').toBe(sha256(up));
    expect(end).toMatchObject({ reason: 'closed', toPlain: up.length, toTls: down.length });
    expect(certificateFingerprint(s.facts.chain[0]!)).toBe(pki.client.fingerprint);
    expect(s.peer).toEqual({ fingerprint: pki.client.fingerprint, cn: 'laptop' });
    expect(s.facts).toMatchObject({ verifyCode: 0, verifyError: '', protocol: expect.stringMatching(/^TLSv1\.[23]$/) });
    expect(s.facts.cipher).not.toBe('');
    expect(t.refusals).toEqual([]);
  });

  it('without a client certificate, on a port that asks for none: 1 MiB each way at once, byte-exact; no peer', async () => {
    const up = randomPayload(1 << 20);
    const down = randomPayload(1 << 20);
    const received: Buffer[] = [];
    const t = await terminator(none, replyAndKeep(down, received, 'at once'));
    const client = await socatClient(t.port, up);
    expect(client.exitCode, client.stderr).toBe(0);
    expect(sha256(client.out), 'server → client').toBe(sha256(down));
    const s = t.sessions[0]!;
    await s.ended;
    expect(sha256(Buffer.concat(received)), 'client → server').toBe(sha256(up));
    expect(s.peer).toBeUndefined();
    expect(s.facts.chain).toEqual([]);
  });

  it('our end sends close_notify (python3 ssl sees a clean end); a client closing without one is reported as such', async () => {
    const received: Buffer[] = [];
    const t = await terminator(none, replyAndKeep(Buffer.from('pong'), received, 'at once'));
    const r = await execa('python3', ['-c', PY_CLIENT, String(t.port), pki.ca], { reject: false, timeout: 30_000 });
    expect(r.stdout, r.stderr).toBe('pong clean');
    const end = await t.sessions[0]!.ended;
    expect(Buffer.concat(received).toString()).toBe('ping');
    expect(end).toMatchObject({ reason: 'peer closed without close_notify', toPlain: 4, toTls: 4 });
  });

  it('a client certificate from another CA is refused by checkPeer: nothing relayed either way', async () => {
    const t = await terminator(required, () => undefined);
    const client = await socatClient(t.port, randomPayload(64 * 1024), pki.wrongCaClient);
    expect(await t.refused).toMatch(/^client certificate CN=stranger sha256:[0-9a-f]{64}: certificate not signed by the CA$/);
    expect(t.sessions).toEqual([]);
    expect(client.out.length).toBe(0);
  });

  it('a port that requires a certificate: a client without one fails the handshake, and says so', async () => {
    const t = await terminator(required, () => undefined);
    await socatClient(t.port, Buffer.from('hello'));
    expect(await t.refused).toBe('no client certificate');
    expect(t.sessions).toEqual([]);
  });

  it('a TLS 1.1 client (openssl s_client -tls1_1) is refused: TLS 1.2 at least', async () => {
    const t = await terminator(none, () => undefined);
    // SECLEVEL=0: else the client itself refuses to offer TLS 1.1 and never reaches us.
    const r = await execa('openssl', ['s_client', '-connect', `127.0.0.1:${t.port}`, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], { input: '', reject: false, timeout: 30_000 });
    expect(await t.refused, r.stderr).toBe('TLS version below 1.2');
    expect(t.sessions).toEqual([]);
  });

  it('a plaintext client is refused as one', async () => {
    const t = await terminator(none, () => undefined);
    const sock = net.connect(t.port, '127.0.0.1');
    sock.on('error', () => undefined);
    sock.write('ATDT5551234\r\n');
    expect(await t.refused).toBe('not a TLS client (plaintext on a TLS port?)');
    sock.destroy();
  });

  it('a client that never finishes its handshake is ended by the timeout, its connection closed', async () => {
    const t = await terminator(none, () => undefined, 300);
    const sock = net.connect(t.port, '127.0.0.1');
    sock.on('error', () => undefined);
    const closed = new Promise((resolve) => sock.on('close', resolve));
    sock.on('data', () => undefined);
    expect(await t.refused).toBe('TLS handshake not finished within 0.3 s');
    await closed;
    expect(t.sessions).toEqual([]);
  });

  it('a key file OpenSSL cannot use is an error naming it', () => {
    expect(() => new NativeTlsAccepter({ cert: pki.server.cert, key: `${pki.dir}/missing.key` }, none)).toThrow(TlsFileError);
    expect(() => new NativeTlsAccepter({ cert: pki.server.cert, key: `${pki.dir}/missing.key` }, none)).toThrow(`cannot use the key ${pki.dir}/missing.key`);
    expect(() => new NativeTlsAccepter({ cert: pki.server.cert, key: pki.client.key }, none)).toThrow(/cannot use the key .*laptop\.key: key values mismatch$/);
  });
});
