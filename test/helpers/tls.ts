/**
 * Certificates for the TLS tests, made at test time by the system's openssl in a temp dir: a CA and
 * certificates it signs (server, client, one expired, one not yet valid), a second CA with a client
 * of its own (the wrong CA), and self-signed ones made by `laplink bridge keygen` itself.
 * openssl 3.0's `req -x509` cannot date a certificate in the past; `openssl ca -startdate/-enddate` can.
 */
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { laplink, startCli } from './bridge.js';

export interface Cert {
  cert: string;
  key: string;
  /** sha256:HEX of the public key, computed by openssl (not by the code under test). */
  fingerprint: string;
}

export interface TestPki {
  dir: string;
  ca: string;
  otherCa: string;
  server: Cert;
  client: Cert;
  expiredClient: Cert;
  futureClient: Cert;
  wrongCaClient: Cert;
  remove(): void;
}

async function openssl(args: string[], cwd: string): Promise<string> {
  const r = await execa('openssl', args, { cwd, reject: false });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(' ')} failed (is the openssl package installed?): ${r.stderr}`);
  return r.stdout;
}

export async function fingerprintByOpenssl(cert: string, cwd: string): Promise<string> {
  const pub = await openssl(['x509', '-in', cert, '-pubkey', '-noout'], cwd);
  const der = await execa('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub, encoding: 'buffer' });
  const dgst = await execa('openssl', ['dgst', '-sha256', '-r'], { input: der.stdout });
  return `sha256:${dgst.stdout.split(' ')[0]}`;
}

async function newCa(dir: string, name: string): Promise<{ cert: string; key: string; dir: string }> {
  const d = join(dir, name);
  mkdirSync(join(d, 'new'), { recursive: true });
  writeFileSync(join(d, 'index.txt'), '');
  writeFileSync(join(d, 'serial'), '1000\n');
  writeFileSync(
    join(d, 'ca.cnf'),
    ['[ca]', 'default_ca = d', '[d]', `dir = ${d}`, `database = ${d}/index.txt`, `new_certs_dir = ${d}/new`, `serial = ${d}/serial`, 'default_md = sha256', 'policy = p', 'unique_subject = no', 'copy_extensions = copy', '[p]', 'commonName = supplied', ''].join('\n'),
  );
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${d}/ca.key`, '-out', `${d}/ca.crt`, '-subj', `/CN=${name}`, '-days', '3'], dir);
  return { cert: `${d}/ca.crt`, key: `${d}/ca.key`, dir: d };
}

/** A certificate signed by `ca`, valid from `start` to `end` (openssl ca's YYYYMMDDHHMMSSZ), or for two days from now. */
async function signed(dir: string, ca: { cert: string; key: string; dir: string }, name: string, dates?: { start: string; end: string }, san?: string): Promise<Cert> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = san ? ['-addext', `subjectAltName=${san}`] : [];
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`, ...ext], dir);
  const when = dates ? ['-startdate', dates.start, '-enddate', dates.end] : ['-days', '2'];
  await openssl(['ca', '-batch', '-notext', '-config', join(ca.dir, 'ca.cnf'), '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert, ...when], dir);
  return { cert, key, fingerprint: await fingerprintByOpenssl(cert, dir) };
}

export async function makePki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'laplink-pki-'));
  const ca = await newCa(dir, 'test-ca');
  const other = await newCa(dir, 'other-ca');
  const server = await signed(dir, ca, 'localhost', undefined, 'DNS:localhost,IP:127.0.0.1');
  const client = await signed(dir, ca, 'laptop');
  const expiredClient = await signed(dir, ca, 'expired', { start: '20200101000000Z', end: '20200201000000Z' });
  const futureClient = await signed(dir, ca, 'future', { start: '20990101000000Z', end: '20991231000000Z' });
  const wrongCaClient = await signed(dir, other, 'stranger');
  return { dir, ca: ca.cert, otherCa: other.cert, server, client, expiredClient, futureClient, wrongCaClient, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `laplink bridge keygen NAME --dir DIR`: the self-signed pair and the fingerprint it printed. */
export async function keygen(dir: string, name: string, ...flags: string[]): Promise<Cert & { printed: string }> {
  const r = await execa('node', [laplink, 'bridge', 'keygen', name, '--dir', dir, ...flags], { reject: false });
  if (r.exitCode !== 0) throw new Error(`bridge keygen ${name} exited ${r.exitCode}: ${r.stderr}`);
  const printed = /^fingerprint\s+(\S+)$/m.exec(r.stdout)?.[1] ?? '';
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`), fingerprint: await fingerprintByOpenssl(join(dir, `${name}.crt`), dir), printed };
}

export const pem = (file: string): Buffer => readFileSync(file);

/** `bridge serve DEVICE` on a free loopback TLS port (no lock); stopped by `cleanups`. Resolves with its port and stderr. */
export async function serveTlsPort(cleanups: Array<() => unknown>, device: string, ...flags: string[]): Promise<{ port: number; stderr: () => string }> {
  const r = await startCli(['bridge', 'serve', device, '--listen', '127.0.0.1:0', '--no-lock', ...flags], /listening on 127\.0\.0\.1:(\d+) \(TLS\)\n/);
  cleanups.push(async () => {
    r.proc.kill('SIGTERM');
    await r.proc;
  });
  return { port: Number(r.match[1]), stderr: r.stderr };
}

/** The test file's certificates: made before its first test, removed after its last. */
export function testPki(): TestPki {
  const pki = {} as TestPki;
  beforeAll(async () => {
    Object.assign(pki, await makePki());
  }, 60_000);
  afterAll(() => pki.remove?.());
  return pki;
}
