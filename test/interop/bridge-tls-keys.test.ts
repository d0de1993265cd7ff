/**
 * Keys without pain, and their rotation: `bridge keygen` writes a key that is mode 0600 whatever the
 * umask and a self-signed certificate, printing the fingerprint openssl itself computes; SIGHUP makes
 * `bridge run` read renewed files under the same names: the session open before goes on, new
 * handshakes present the new certificate. Peers: openssl, socat OPENSSL.
 */
import { execa, type ResultPromise } from 'execa';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { bridgeRig, collect, laplink, startCli, waitUntil } from '../helpers/bridge.js';
import { fingerprintByOpenssl, keygen } from '../helpers/tls.js';

const rig = bridgeRig();
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'laplink-keys-'));
  dirs.push(d);
  return d;
};

describe('bridge keygen', () => {
  it('writes NAME.key mode 0600 even under umask 000, NAME.crt, and prints the fingerprint openssl computes', async () => {
    const dir = tempDir();
    const r = await execa('sh', ['-c', `umask 000 && exec node "$0" bridge keygen laptop --dir "$1"`, laplink, dir], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(statSync(join(dir, 'laptop.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'laptop.crt')).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir).sort()).toEqual(['laptop.crt', 'laptop.key']);
    const fp = await fingerprintByOpenssl(join(dir, 'laptop.crt'), dir);
    expect(r.stdout).toContain(`fingerprint  ${fp}`);
    expect(r.stdout).toContain(`--tls-allow ${fp}`);
    expect(r.stdout).not.toMatch(/PRIVATE KEY/);
    const subject = await execa('openssl', ['x509', '-in', join(dir, 'laptop.crt'), '-noout', '-subject', '-ext', 'subjectAltName']);
    expect(subject.stdout).toMatch(/CN ?= ?laptop/);
    expect(subject.stdout).toContain('DNS:laptop');
  });

  it('refuses to overwrite without --force, and names that would smuggle subject fields; leaves nothing behind', async () => {
    const dir = tempDir();
    await keygen(dir, 'port');
    const again = await execa('node', [laplink, 'bridge', 'keygen', 'port', '--dir', dir], { reject: false });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toBe(`laplink: ${join(dir, 'port.key')} exists (allowed: another NAME or --dir, or --force to replace it)`);
    const evil = await execa('node', [laplink, 'bridge', 'keygen', 'x/O=Evil', '--dir', dir], { reject: false });
    expect(evil.exitCode).toBe(2);
    expect(evil.stderr).toMatch(/^laplink: NAME: "x\/O=Evil" is not a host or client name/);
    expect(readdirSync(dir).sort()).toEqual(['port.crt', 'port.key']);
  });
});

/** socat as a TLS client trusting `cafile` (a self-signed certificate is its own CA), stdin/stdout as one Duplex. */
function socatClient(port: number, cafile: string): { proc: ResultPromise; io: Duplex; err: () => string } {
  const proc = execa('socat', ['-', `OPENSSL:127.0.0.1:${port},cafile=${cafile},commonname=localhost`], { reject: false, buffer: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', encoding: 'buffer' });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const io = Duplex.from({ readable: proc.stdout!, writable: proc.stdin! });
  io.on('error', () => undefined);
  rig.cleanups.push(async () => {
    proc.kill('SIGTERM');
    await proc;
  });
  return { proc, io, err: () => err };
}

/**
 * `bridge run` with one TLS port (two clients at most) on a pty pair, its key from `bridge keygen`,
 * a copy of the certificate as it was (a client's trust anchor), and what reached the device.
 */
async function reloadableTlsPort() {
  const dir = tempDir();
  const p = await rig.pair();
  const keys = await keygen(dir, 'localhost');
  const certCopy = join(dir, 'old.crt');
  copyFileSync(keys.cert, certCopy);
  const cfg = join(dir, 'bridge.yaml');
  writeFileSync(cfg, `lock: false\nports:\n  - name: tls0\n    device: ${p.a}\n    listen: 127.0.0.1:0\n    maxConnections: 2\n    tls:\n      cert: ${keys.cert}\n      key: ${keys.key}\n`);
  const run = await startCli(['bridge', 'run', cfg], /tls0: listening on 127\.0\.0\.1:(\d+) \(TLS\)\n/);
  rig.cleanups.push(async () => {
    run.proc.kill('SIGTERM');
    await run.proc;
  });
  const dev = rig.end(p.b);
  const seen: Buffer[] = [];
  dev.on('data', (c: Buffer) => seen.push(c));
  return { dir, keys, certCopy, run, port: Number(run.match[1]), dev, device: () => Buffer.concat(seen).toString() };
}

describe('SIGHUP with renewed certificate files', () => {
  it('keeps the session open before, and new handshakes get the new certificate', async () => {
    const { dir, keys: old, certCopy: oldCopy, run, port, dev, device } = await reloadableTlsPort();

    const before = socatClient(port, oldCopy);
    before.io.write('before\n');
    await waitUntil(() => device() === 'before\n', 'the first session’s bytes', 10_000, 20);

    const renewed = await keygen(dir, 'localhost', '--force');
    expect(renewed.fingerprint).not.toBe(old.fingerprint);
    run.proc.kill('SIGHUP');
    await waitUntil(() => run.stderr().includes('SIGHUP: reloaded'), 'the reload line', 10_000, 20);
    expect(run.stderr()).toMatch(/SIGHUP: reloaded .*: kept tls0; TLS files read again for tls0\n/);

    before.io.write('still here\n');
    await waitUntil(() => device() === 'before\nstill here\n', 'the session kept across the reload', 10_000, 20);

    const stale = socatClient(port, oldCopy);
    stale.io.write('STALE-LEAK\n');
    await stale.proc;
    expect(stale.err()).toMatch(/certificate verify failed|SSL_connect/);

    const fresh = socatClient(port, renewed.cert);
    fresh.io.write('after\n');
    await waitUntil(() => device().endsWith('after\n'), 'a new session with the renewed certificate', 10_000, 20);
    expect(device()).toBe('before\nstill here\nafter\n');
    const back = collect(before.io, 4);
    dev.write('both');
    expect((await back).toString()).toBe('both');
  });
});

describe('SIGHUP with a broken renewal', () => {
  it('keeps the files read before, says so in one line, and the port goes on with them', async () => {
    const { keys: k, certCopy, run, port, device } = await reloadableTlsPort();

    const open = socatClient(port, certCopy);
    open.io.write('open\n');
    await waitUntil(() => device() === 'open\n', 'the open session’s bytes', 10_000, 20);

    // A renewal that went wrong half-way: the key file is no key at all.
    writeFileSync(k.key, 'not a key\n');
    run.proc.kill('SIGHUP');
    await waitUntil(() => run.stderr().includes('keeping the TLS files read before'), 'the line saying the old files are kept', 10_000, 20);
    expect(run.stderr()).toContain(`tls0: keeping the TLS files read before: key ${k.key}: not a PEM private key`);

    open.io.write('still open\n');
    await waitUntil(() => device() === 'open\nstill open\n', 'the open session goes on', 10_000, 20);
    // New handshakes still get the certificate read before (its key is in memory, not in the file).
    const next = socatClient(port, certCopy);
    next.io.write('new\n');
    await waitUntil(() => device().endsWith('new\n'), 'a new session with the files read before', 10_000, 20);
  });
});

describe('TLS flag problems', () => {
  it('are one usage line (exit 2) before a device is opened or a pty made', async () => {
    const dir = tempDir();
    const k = await keygen(dir, 'port');
    const run = (...args: string[]) => execa('node', [laplink, 'bridge', ...args], { reject: false, input: '' });
    const cases: Array<[string[], string]> = [
      [['serve', '/dev/null', '--listen', '0', '--no-lock', '--tls-cert', k.cert, '--tls-key', k.key, '--tls-allow', 'CN=x'], 'laplink: --tls-allow: CN=x: a CN=NAME entry needs --tls-ca (allowed without one: sha256 fingerprints)'],
      [['serve', '/dev/null', '--listen', '0', '--no-lock', '--tls-cert', k.cert], 'laplink: --tls-cert and --tls-key: a TLS port needs both'],
      [['serve', '/dev/null', '--listen', '0', '--no-lock', '--tls-cert', k.cert, '--tls-key', join(dir, 'missing.key')], `laplink: /dev/null: key ${join(dir, 'missing.key')}: no such file`],
      [['connect', '127.0.0.1:1', '--pty', join(dir, 'link'), '--tls-pin', 'abc'], 'laplink: --tls-pin: "abc" is neither a SHA-256 fingerprint (sha256: and 64 hex digits) nor CN=NAME'],
      [['stdio', '127.0.0.1:1', '--tls-cert', k.cert], 'laplink: --tls-cert and --tls-key go together'],
    ];
    for (const [args, line] of cases) {
      const r = await run(...args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toBe(line);
    }
    expect(readdirSync(dir).sort()).toEqual(['port.crt', 'port.key']); // no pty link made
  });
});
