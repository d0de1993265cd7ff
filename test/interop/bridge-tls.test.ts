/**
 * TLS on bridge ports against the anchors' own TLS peers, on socat pty pairs: socat `OPENSSL:` (with
 * and without a client certificate) and `openssl s_client` against our port; our `bridge connect`
 * against `socat OPENSSL-LISTEN … verify=1`; ser2net 4's `ssl` accepter under telnet(rfc2217) reached
 * by our TLS client, speed changes carried; gensio's `gensiot` against our port. Bytes exact both
 * ways (1 MiB of random data each where the peer is a byte pipe). Certificates are made at test time
 * by openssl (test/helpers/tls.ts).
 */
import { execa, type ResultPromise } from 'execa';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/bridge-processes.js';
import { connectTcp, openTty, randomPayload, receiveSha256, sha256 } from '../helpers/driver.js';
import { bothWays, bridgeRig, collect, laplink, linkUp, startCli, waitUntil } from '../helpers/bridge.js';
import { serveTlsPort, testPki } from '../helpers/tls.js';

const rig = bridgeRig();
const pki = testPki();

/** A peer process (socat, openssl, ser2net, gensiot), killed after the test. */
function peer(cmd: string, args: string[], input?: 'pipe'): ResultPromise {
  const p = execa(cmd, args, { reject: false, buffer: false, stdin: input ?? 'ignore', stdout: 'pipe', stderr: 'pipe', encoding: 'buffer' });
  let err = '';
  p.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
  (p as unknown as { errText: () => string }).errText = () => err;
  rig.cleanups.push(async () => {
    p.kill('SIGTERM');
    await p;
  });
  return p;
}

/** `bridge serve` on a TLS port, stopped after the test. */
const serveTls = (device: string, ...flags: string[]) => serveTlsPort(rig.cleanups, device, ...flags);

const serverFlags = () => ['--tls-cert', pki.server.cert, '--tls-key', pki.server.key];

async function exact(a: Duplex, b: Duplex, size: number, labels: [string, string]): Promise<void> {
  const ab = randomPayload(size);
  const ba = randomPayload(size);
  const [atB, atA] = await bothWays(a, b, ab, ba, 60_000);
  expect(atB, `${labels[0]} → ${labels[1]}, sha256`).toBe(sha256(ab));
  expect(atA, `${labels[1]} → ${labels[0]}, sha256`).toBe(sha256(ba));
}

/**
 * The same, one direction after the other: for a chain of socats whose tty writes block (socat's
 * FILE: address on a pty, and the pty pair's own socat). With both directions full at once, each
 * socat sits in a write the other must read, a deadlock of the rig that load made likely (1 run
 * in CI timed out at 60 s); our end pauses and resumes either way.
 */
async function exactInTurn(a: Duplex, b: Duplex, size: number, labels: [string, string]): Promise<void> {
  const ab = randomPayload(size);
  const ba = randomPayload(size);
  const atB = receiveSha256(b, ab.length, 60_000);
  a.write(ab);
  expect(await atB, `${labels[0]} → ${labels[1]}, sha256`).toBe(sha256(ab));
  const atA = receiveSha256(a, ba.length, 60_000);
  b.write(ba);
  expect(await atA, `${labels[1]} → ${labels[0]}, sha256`).toBe(sha256(ba));
}

describe('our TLS port, reached by the anchors’ TLS clients', () => {
  it('socat OPENSSL: with a client certificate the CA signed: 1 MiB each way, byte-exact; the log names the client', async () => {
    const p = await rig.pair();
    const { port, stderr } = await serveTls(p.a, ...serverFlags(), '--tls-ca', pki.ca);
    // socat terminates TLS as a client of our port and offers plain TCP to the test.
    const relay = await freePort();
    peer('socat', [`TCP-LISTEN:${relay},bind=127.0.0.1,reuseaddr`, `OPENSSL:127.0.0.1:${port},cert=${pki.client.cert},key=${pki.client.key},cafile=${pki.ca},commonname=localhost`]);
    await waitUntil(() => listening(relay), 'socat relay', 10_000, 25);
    const sock = await connectTcp(relay);
    rig.cleanups.push(() => void sock.destroy());
    const dev = rig.end(p.b);
    await linkUp(sock, dev, ['socat client', 'device']);
    await exact(sock, dev, 1 << 20, ['socat OPENSSL client', 'device']);
    expect(stderr()).toMatch(/connect from 127\.0\.0\.1:\d+ \(TLS, CN=laptop sha256:[0-9a-f]{16}…\)/);
  });

  it('socat OPENSSL: without a client certificate, on a port that asks for none: bytes exact both ways', async () => {
    const p = await rig.pair();
    const { port } = await serveTls(p.a, ...serverFlags());
    const socat = peer('socat', ['-', `OPENSSL:127.0.0.1:${port},cafile=${pki.ca},commonname=localhost`], 'pipe');
    const dev = rig.end(p.b);
    const up = randomPayload(64 * 1024);
    const down = randomPayload(64 * 1024);
    const atDev = receiveSha256(dev, up.length, 30_000);
    socat.stdin!.write(up);
    expect(await atDev).toBe(sha256(up));
    const atSocat = receiveSha256(duplexOf(socat), down.length, 30_000);
    dev.write(down);
    expect(await atSocat).toBe(sha256(down));
  });

  it('openssl s_client with a client certificate: a line each way', async () => {
    const p = await rig.pair();
    const { port } = await serveTls(p.a, ...serverFlags(), '--tls-ca', pki.ca, '--tls-client-cert', 'required');
    const dev = rig.end(p.b);
    const s = peer('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-cert', pki.client.cert, '-key', pki.client.key, '-CAfile', pki.ca, '-verify_return_error', '-quiet'], 'pipe');
    const fromClient = collect(dev, 'from s_client\n'.length);
    s.stdin!.write('from s_client\n');
    expect((await fromClient).toString()).toBe('from s_client\n');
    const toClient = collect(s.stdout! as NodeJS.ReadableStream, 'from the device\n'.length);
    dev.write('from the device\n');
    expect((await toClient).toString()).toBe('from the device\n');
  });

  it('gensiot (gensio ssl client with a certificate): 1 MiB each way, byte-exact', async () => {
    const p = await rig.pair();
    const { port } = await serveTls(p.a, ...serverFlags(), '--tls-ca', pki.ca);
    const g = peer('gensiot', ['-e', '-1', `ssl(CA=${pki.ca},cert=${pki.client.cert},key=${pki.client.key}),tcp,127.0.0.1,${port}`], 'pipe');
    const dev = rig.end(p.b);
    await linkUp(duplexOf(g), dev, ['gensiot', 'device']);
    await exact(duplexOf(g), dev, 1 << 20, ['gensiot', 'device']);
  });
});

describe('our TLS client against the anchors’ TLS servers', () => {
  it('bridge connect --tls-cert … against socat OPENSSL-LISTEN verify=1: 1 MiB each way between the pty link and the far device', async () => {
    const p = await rig.pair();
    const port = await freePort();
    peer('socat', [`OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,cert=${pki.server.cert},key=${pki.server.key},cafile=${pki.ca},verify=1`, `FILE:${p.a},raw,echo=0`]);
    await waitUntil(() => listening(port), 'socat OPENSSL-LISTEN', 10_000, 25);
    const link = join(p.dir, 'link');
    const conn = await startCli(
      ['bridge', 'connect', `127.0.0.1:${port}`, '--pty', link, '--tls-ca', pki.ca, '--tls-cert', pki.client.cert, '--tls-key', pki.client.key, '--tls-server-name', 'localhost'],
      /pty .* -> /,
    );
    rig.cleanups.push(async () => {
      conn.proc.kill('SIGTERM');
      await conn.proc;
    });
    await waitUntil(() => conn.stderr().includes('connected to'), 'bridge connect to finish its TLS handshake', 10_000, 25);
    expect(conn.stderr()).toContain(`connected to 127.0.0.1:${port} (TLS)`);
    const local = openTty(link);
    rig.cleanups.push(() => void local.destroy());
    const far = rig.end(p.b);
    await linkUp(local, far, ['LINK', 'socat device']);
    await exactInTurn(local, far, 1 << 20, ['LINK', 'socat device']);
  });

  it('bridge connect --protocol rfc2217 over TLS to ser2net 4’s ssl accepter: bytes exact, stty speed changes reach ser2net’s device', async () => {
    const p = await rig.pair();
    const port = await freePort();
    const cfg = join(p.dir, 'ser2net.yaml');
    writeFileSync(
      cfg,
      [
        '%YAML 1.1',
        '---',
        'connection: &tls0',
        `    accepter: telnet(rfc2217),ssl(key=${pki.server.key},cert=${pki.server.cert}),tcp,127.0.0.1,${port}`,
        '    enable: on',
        `    connector: serialdev,${p.a},115200n81,local`,
        '    options:',
        '      chardelay: false',
        '',
      ].join('\n'),
    );
    const s2n = peer('ser2net', ['-n', '-d', '-c', cfg]);
    await waitUntil(() => listening(port), `ser2net listening (${(s2n as unknown as { errText: () => string }).errText()})`, 10_000, 25);
    const link = join(p.dir, 'link');
    const conn = await startCli(['bridge', 'connect', `127.0.0.1:${port}`, '--pty', link, '--protocol', 'rfc2217', '--tls-ca', pki.ca, '--tls-server-name', 'localhost'], /pty .* -> /);
    rig.cleanups.push(async () => {
      conn.proc.kill('SIGTERM');
      await conn.proc;
    });
    expect(existsSync(link)).toBe(true);
    const local = openTty(link);
    rig.cleanups.push(() => void local.destroy());
    const far = rig.end(p.b);
    await linkUp(local, far, ['LINK', 'ser2net device']);
    await exact(local, far, 1 << 20, ['LINK', 'ser2net device']);
    expect(speedOf(p.a), 'precondition: not at 9600 yet').not.toBe(9600);
    execFileSync('stty', ['-F', link, '9600']);
    await waitUntil(() => speedOf(p.a) === 9600, 'ser2net’s device at 9600 after stty -F LINK 9600', 10_000, 50);
    await exact(local, far, 64 * 1024, ['LINK', 'ser2net device']);
  });
});

const speedOf = (device: string): number => Number(execFileSync('stty', ['-F', device, 'speed'], { encoding: 'utf8' }).trim());

async function listening(port: number): Promise<boolean> {
  const r = await execa('ss', ['-Hltn', `sport = :${port}`], { reject: false });
  return r.stdout.trim().length > 0;
}

/** A child's stdin and stdout as one Duplex for the byte checks. */
function duplexOf(p: ResultPromise): Duplex {
  const d = p as unknown as { duplexed?: Duplex };
  if (!d.duplexed) {
    d.duplexed = Duplex.from({ readable: p.stdout!, writable: p.stdin! });
    d.duplexed.on('error', () => undefined); // the peer is killed at the end of the test
  }
  return d.duplexed;
}

describe('bridge stdio over TLS (pppd’s pty program)', () => {
  it('reaches a TLS port with a client certificate and a pinned server key: 1 MiB each way, byte-exact; a wrong pin fails with one line', async () => {
    const p = await rig.pair();
    const served = await serveTls(p.a, ...serverFlags(), '--tls-allow', pki.client.fingerprint);
    const { port } = served;
    const stdio = peer('node', [laplink, 'bridge', 'stdio', `127.0.0.1:${port}`, '--tls-pin', pki.server.fingerprint, '--tls-cert', pki.client.cert, '--tls-key', pki.client.key], 'pipe');
    const dev = rig.end(p.b);
    // a marker that never arrives says where it stopped: both processes' own words
    await linkUp(duplexOf(stdio), dev, ['bridge stdio', 'device']).catch((err: Error) => {
      const status = stdio.exitCode ?? stdio.signalCode ?? 'running';
      throw new Error(`${err.message}\n--- bridge stdio (${status}):\n${(stdio as unknown as { errText: () => string }).errText()}\n--- bridge serve:\n${served.stderr()}`);
    });
    await exact(duplexOf(stdio), dev, 1 << 20, ['bridge stdio', 'device']);

    const wrong = await execa('node', [laplink, 'bridge', 'stdio', `127.0.0.1:${port}`, '--tls-pin', pki.client.fingerprint], { reject: false, input: 'WRONG-PIN-LEAK' });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toBe(`laplink: cannot connect to 127.0.0.1:${port}: server certificate ${pki.server.fingerprint} is not pinned (--tls-pin)`);
  });
});
