/**
 * Never in clear by accident: every client a TLS port must turn away is turned away with one log
 * line naming the peer and the reason, and not one of its bytes reaches the device, while a session
 * already open goes on. The peers are real: plain TCP and `openssl s_client` with each kind of bad
 * certificate (made by openssl at test time), each of which sends data as soon as it thinks the
 * handshake is done. And a TLS session's pump, when TLS is terminated natively, carries plaintext only.
 */
import { execa, type ResultPromise } from 'execa';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/bridge-processes.js';
import { connectTcp, randomPayload, sha256 } from '../helpers/driver.js';
import { pumpAvailable } from '../../src/native/pump.js';
import { addonProblem } from '../../src/native/addon.js';
import { ask, bothWays, bridgeRig, collect, openControl, startCli, waitUntil } from '../helpers/bridge.js';
import { serveTlsPort, testPki, type Cert } from '../helpers/tls.js';

const rig = bridgeRig();
const pki = testPki();

/** `bridge serve` on a TLS port, stopped after the test. */
const serveTls = (device: string, ...flags: string[]) => serveTlsPort(rig.cleanups, device, ...flags);

/** `openssl s_client` with `cert` (or none), sending `text` as soon as it can; killed after the test. */
function sClient(port: number, cert: Cert | undefined, text: string): ResultPromise {
  const who = cert ? ['-cert', cert.cert, '-key', cert.key] : [];
  const p = execa('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...who, '-CAfile', pki.ca, '-quiet'], { reject: false, buffer: false, stdin: 'pipe', stdout: 'pipe', stderr: 'ignore' });
  p.stdin!.write(text);
  rig.cleanups.push(async () => {
    p.kill('SIGTERM');
    await p;
  });
  return p;
}

const refusals = (log: string): string[] => log.split('\n').filter((l) => / refused /.test(l));

describe('a TLS port refuses', () => {
  it('plaintext, no certificate, a wrong CA, expired, not yet valid, not on the allow list: one line each, zero bytes to the device, the open session unaffected', async () => {
    const p = await rig.pair();
    const { port, stderr } = await serveTls(p.a, '--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--tls-ca', pki.ca, '--tls-allow', 'CN=laptop', '--max-connections', '2');
    const dev = rig.end(p.b);
    const seen: Buffer[] = [];
    dev.on('data', (c: Buffer) => seen.push(c));
    const device = () => Buffer.concat(seen).toString('latin1');

    const good = sClient(port, pki.client, 'first from laptop\n');
    await waitUntil(() => device() === 'first from laptop\n', 'the allowed client’s first line on the device', 10_000, 20);

    const cases: Array<{ what: string; start: () => Promise<unknown> | unknown; reason: RegExp }> = [
      {
        what: 'plaintext client',
        start: async () => {
          const s = await connectTcp(port);
          rig.cleanups.push(() => void s.destroy());
          s.on('error', () => undefined);
          s.write('PLAINTEXT-LEAK\r\n');
        },
        reason: /\(not a TLS client \(plaintext on a TLS port\?\)\)$/,
      },
      { what: 'no certificate', start: () => sClient(port, undefined, 'NOCERT-LEAK\n'), reason: /\(no client certificate\)$/ },
      { what: 'wrong CA', start: () => sClient(port, pki.wrongCaClient, 'WRONGCA-LEAK\n'), reason: /\(client certificate CN=stranger sha256:[0-9a-f]{64}: certificate not signed by the CA\)$/ },
      { what: 'expired', start: () => sClient(port, pki.expiredClient, 'EXPIRED-LEAK\n'), reason: /\(client certificate CN=expired sha256:[0-9a-f]{64} expired 2020-02-01T00:00:00\.000Z\)$/ },
      { what: 'not yet valid', start: () => sClient(port, pki.futureClient, 'FUTURE-LEAK\n'), reason: /\(client certificate CN=future sha256:[0-9a-f]{64} not valid before 2099-01-01T00:00:00\.000Z\)$/ },
      { what: 'not on the allow list', start: () => sClient(port, pki.server, 'NOTALLOWED-LEAK\n'), reason: /\(client certificate CN=localhost sha256:[0-9a-f]{64} not on the allow list\)$/ },
    ];
    for (const [i, c] of cases.entries()) {
      await c.start();
      await waitUntil(() => refusals(stderr()).length > i, `the refusal of the ${c.what}`, 15_000, 20);
      const line = refusals(stderr())[i]!;
      expect(line, c.what).toMatch(new RegExp(`^laplink bridge: ${p.a.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: refused 127\\.0\\.0\\.1:\\d+ `));
      expect(line, c.what).toMatch(c.reason);
    }

    good.stdin!.write('second from laptop\n');
    await waitUntil(() => device().endsWith('second from laptop\n'), 'the allowed client’s second line', 10_000, 20);
    // Exactly the allowed client's bytes, nothing of the six refused peers (each sent its line).
    expect(device()).toBe('first from laptop\nsecond from laptop\n');
    expect(refusals(stderr())).toHaveLength(cases.length);
    expect(stderr()).not.toMatch(/connect from .*CN=(stranger|expired|future|localhost)/);
    const toGood = collect(good.stdout!, 'to laptop\n'.length);
    dev.write('to laptop\n');
    expect((await toGood).toString()).toBe('to laptop\n');
  });
});

/**
 * A CA that may sign end certificates only (pathlen:0), an intermediate CA it signed anyway, and a
 * client certificate of that intermediate: OpenSSL's verdict on the chain is PATH_LENGTH_EXCEEDED,
 * a code off the short list of usual ones.
 */
async function pathLengthChain(dir: string): Promise<{ ca: string; cert: string; key: string; chain: string }> {
  const run = (args: string[]) => execa('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run(['req', '-x509', ...ec, '-keyout', 'root.key', '-out', 'root.crt', '-subj', '/CN=leaf-only-ca', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign']);
  writeFileSync(`${dir}/ca.ext`, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n');
  await run(['req', '-new', ...ec, '-keyout', 'mid.key', '-out', 'mid.csr', '-subj', '/CN=sub-ca']);
  await run(['x509', '-req', '-in', 'mid.csr', '-CA', 'root.crt', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'mid.crt', '-days', '2', '-extfile', 'ca.ext']);
  await run(['req', '-new', ...ec, '-keyout', 'deep.key', '-out', 'deep.csr', '-subj', '/CN=deep']);
  await run(['x509', '-req', '-in', 'deep.csr', '-CA', 'mid.crt', '-CAkey', 'mid.key', '-CAcreateserial', '-out', 'deep.crt', '-days', '2']);
  return { ca: `${dir}/root.crt`, cert: `${dir}/deep.crt`, key: `${dir}/deep.key`, chain: `${dir}/mid.crt` };
}

describe('a chain error off the usual list', () => {
  it.each([
    ['native TLS', [] as string[]],
    ["Node's TLS", ['--no-native-pump']],
  ])('is named the same by %s (PATH_LENGTH_EXCEEDED: "path length exceeded"), and nothing reaches the device', async (_terminator, flags) => {
    const p = await rig.pair();
    const chain = await pathLengthChain(p.dir);
    const { port, stderr } = await serveTls(p.a, '--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--tls-ca', chain.ca, '--tls-client-cert', 'required', ...flags);
    const dev = rig.end(p.b);
    const seen: Buffer[] = [];
    dev.on('data', (c: Buffer) => seen.push(c));
    const c = execa('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-cert', chain.cert, '-key', chain.key, '-cert_chain', chain.chain, '-CAfile', pki.ca, '-quiet'], { reject: false, buffer: false, stdin: 'pipe', stdout: 'ignore', stderr: 'ignore' });
    rig.cleanups.push(async () => {
      c.kill('SIGTERM');
      await c;
    });
    c.stdin!.write('DEEP-LEAK\n');
    await waitUntil(() => refusals(stderr()).length > 0, 'the refusal of the too-deep chain', 15_000, 20);
    expect(refusals(stderr())[0]).toMatch(/\(client certificate CN=deep sha256:[0-9a-f]{64}: path length exceeded\)$/);
    expect(Buffer.concat(seen).length).toBe(0);
  });
});

describe('the address allow-list on a TLS port', () => {
  it('turns an outside address away before any TLS handshake (no certificate shown, no handshake slot taken)', async () => {
    const p = await rig.pair();
    const { port, stderr } = await serveTls(p.a, '--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--allow', '10.0.0.0/8');
    const r = await execa('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', pki.ca], { reject: false, input: '' });
    expect(r.stdout).toContain('no peer certificate available');
    expect(r.stdout).not.toContain('BEGIN CERTIFICATE');
    await waitUntil(() => / refused 127\.0\.0\.1:\d+ \(not in allow-list\)/.test(stderr()), 'the refusal line', 10_000, 20);
  });
});

describe('refusals are counted, each one', () => {
  it('a flood of plaintext clients on a TLS port: the log summarises them, showport counts every one', async () => {
    const p = await rig.pair();
    const srv = await startCli(['bridge', 'serve', p.a, '--listen', '127.0.0.1:0', '--no-lock', '--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--control', '127.0.0.1:0'],
      /^(?=[\s\S]*listening on 127\.0\.0\.1:(\d+) \(TLS\)\n)(?=[\s\S]*control: listening on 127\.0\.0\.1:(\d+)\n)/);
    rig.cleanups.push(async () => {
      srv.proc.kill('SIGTERM');
      await srv.proc;
    });
    const port = Number(srv.match[1]);
    const FLOOD = 40;
    // each plaintext client is refused at its first bytes (not a TLS client); one at a time, so
    // the count cannot depend on how many handshakes run at once
    for (let i = 0; i < FLOOD; i++) {
      const s = await connectTcp(port);
      s.on('error', () => undefined);
      s.write('PLAINTEXT\r\n');
      await new Promise((r) => s.once('close', r));
    }
    const ctl = await openControl(Number(srv.match[2]));
    rig.cleanups.push(() => void ctl.destroy());
    const shown = await ask(ctl, 'showport');
    expect(shown).toMatch(new RegExp(`refused: .*tls=${FLOOD}\\b`));
    expect(shown).toContain(`tls handshakes: ok=0 refused=${FLOOD}`);
    // the log did not print forty lines: a count that came from it would have been short
    expect(refusals(srv.stderr()).length).toBeLessThan(FLOOD);
  });
});

describe('the native pump and TLS', () => {
  it('carries a session whose TLS is terminated natively, bytes exact both ways before and after it takes over (socat OPENSSL:)', async () => {
    expect(pumpAvailable, `the native pump did not load (${addonProblem}): this test needs it to show the difference`).toBe(true);
    const p = await rig.pair();
    const control = await freePort();
    const served = await startCli(
      ['bridge', 'serve', p.a, '--listen', '127.0.0.1:0', '--no-lock', '--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--control', `127.0.0.1:${control}`],
      /listening on 127\.0\.0\.1:(\d+) \(TLS\)\ncontrol: listening/,
    );
    rig.cleanups.push(async () => {
      served.proc.kill('SIGTERM');
      await served.proc;
    });
    const port = Number(served.match[1]);
    const ctl = await openControl(control);
    rig.cleanups.push(() => void ctl.destroy());
    const dev = rig.end(p.b);
    const s = execa('socat', ['-', `OPENSSL:127.0.0.1:${port},cafile=${pki.ca},commonname=localhost`], { reject: false, buffer: false, stdin: 'pipe', stdout: 'pipe', stderr: 'ignore', encoding: 'buffer' });
    rig.cleanups.push(async () => {
      s.kill('SIGTERM');
      await s;
    });
    const { Duplex } = await import('node:stream');
    const client = Duplex.from({ readable: s.stdout!, writable: s.stdin! });
    client.on('error', () => undefined); // socat is killed at the end of the test
    const up = randomPayload(256 * 1024);
    const down = randomPayload(256 * 1024);
    const [atDev, atClient] = await bothWays(client, dev, up, down);
    expect(atDev).toBe(sha256(up));
    expect(atClient).toBe(sha256(down));
    // TLS is terminated on the addon's thread, which takes the idle lone session straight to the
    // device, as the pump takes a plain one: the plaintext leaves OpenSSL only for the device.
    await waitUntil(async () => (await ask(ctl, `showport ${port}`)).includes('data path: native TLS'), 'native TLS to carry the session straight to the device', 10_000, 20);
    const show = await ask(ctl, `showport ${port}`);
    expect(show).toMatch(/connected to: 127\.0\.0\.1:\d+\r\n/);
    expect(show).toContain('tls: on, client certificates none');
    // Bytes still arrive exact both ways: a pump moving TLS records would hand the device ciphertext
    // and the client plaintext its TLS would reject.
    const up2 = randomPayload(256 * 1024);
    const down2 = randomPayload(256 * 1024);
    const [atDev2, atClient2] = await bothWays(client, dev, up2, down2);
    expect(atDev2).toBe(sha256(up2));
    expect(atClient2).toBe(sha256(down2));
    expect(await ask(ctl, `showport ${port}`)).toContain('data path: native TLS');
  });
});

describe('TLS on a rotator and on the control port (bridge run)', () => {
  it('the rotator hands an authenticated client to a port; the control port answers only an allowed operator', async () => {
    const p = await rig.pair();
    const cfg = `${p.dir}/bridge.yaml`;
    const tls = (allow: string) => `{ cert: ${pki.server.cert}, key: ${pki.server.key}, ca: ${pki.ca}, allow: [${allow}] }`;
    writeFileSync(
      cfg,
      [
        'lock: false',
        `control: { listen: 127.0.0.1:0, tls: ${tls('CN=laptop')} }`,
        'ports:',
        `  - { name: lab0, device: ${p.a} }`,
        'rotators:',
        `  - { name: any, listen: 127.0.0.1:0, ports: [lab0], tls: ${tls('CN=laptop')} }`,
        '',
      ].join('\n'),
    );
    const run = await startCli(['bridge', 'run', cfg], /any: listening on 127\.0\.0\.1:(\d+) \(TLS\)\ncontrol: listening on 127\.0\.0\.1:(\d+) \(TLS\)\n/);
    rig.cleanups.push(async () => {
      run.proc.kill('SIGTERM');
      await run.proc;
    });
    const [rotator, control] = [Number(run.match[1]), Number(run.match[2])];
    const dev = rig.end(p.b);
    const seen: Buffer[] = [];
    dev.on('data', (c: Buffer) => seen.push(c));

    sClient(rotator, pki.wrongCaClient, 'ROTATOR-LEAK\n');
    await waitUntil(() => / any: refused 127\.0\.0\.1:\d+ \(client certificate CN=stranger/.test(run.stderr()), 'the rotator’s refusal', 15_000, 20);
    const good = sClient(rotator, pki.client, 'through the rotator\n');
    await waitUntil(() => Buffer.concat(seen).toString() === 'through the rotator\n', 'the rotator’s client on the device', 10_000, 20);
    expect(run.stderr()).toMatch(/lab0: connect from 127\.0\.0\.1:\d+ \(TLS, CN=laptop sha256:/);
    void good;

    const plain = await connectTcp(control);
    rig.cleanups.push(() => void plain.destroy());
    plain.on('error', () => undefined);
    plain.write('showport\r\n');
    await waitUntil(() => / control: refused 127\.0\.0\.1:\d+ \(not a TLS client/.test(run.stderr()), 'the control port’s refusal of plaintext', 15_000, 20);
    const operator = sClient(control, pki.client, 'showport lab0\r\n');
    const answer = await collect(operator.stdout! as NodeJS.ReadableStream, 200);
    expect(answer.toString()).toMatch(/TCP port lab0[^]*connected to: 127\.0\.0\.1:\d+ \(CN=laptop sha256:[0-9a-f]{16}…\)/);
    expect(Buffer.concat(seen).toString()).toBe('through the rotator\n');
  });
});
