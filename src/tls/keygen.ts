/**
 * `laplink bridge keygen NAME`: a private key and a self-signed certificate for one end of a TLS
 * bridge, made by the system's `openssl` (no hand-written ASN.1), and the fingerprint the other end
 * pastes into its allow list (or pins). The key is created with mode 0600 from its first byte: it is
 * written to a new file opened with that mode (umask can only take bits away), then renamed into
 * place, so no moment exists where it is world-readable or half-written.
 */
import { execa } from 'execa';
import { constants } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { LaplinkError, UsageError } from '../errors.js';
import { certificateFingerprint } from './identity.js';

export interface KeygenOptions {
  /** The certificate's CN and the files' base name; a host name when the key is for a port. */
  name: string;
  dir: string;
  days: number;
  /** Replace existing files (default: refuse). */
  force?: boolean;
  signal?: AbortSignal;
}

export interface KeygenResult {
  key: string;
  cert: string;
  fingerprint: string;
  notAfter: Date;
}

export class KeygenError extends LaplinkError {}

/** A name that cannot smuggle another subject field (`/O=…`) or an option into openssl's argv. */
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;

export async function keygen(o: KeygenOptions): Promise<KeygenResult> {
  if (!NAME.test(o.name) && !isIP(o.name)) throw new UsageError(`NAME: "${o.name}" is not a host or client name (allowed: letters, digits, . _ -, at most 64, starting and ending with a letter or digit)`);
  if (!Number.isInteger(o.days) || o.days < 1 || o.days > 36500) throw new UsageError(`--days: "${o.days}" is not a whole number of days from 1 to 36500`);
  const key = join(o.dir, `${o.name}.key`);
  const cert = join(o.dir, `${o.name}.crt`);
  if (!o.force) for (const f of [key, cert]) if (await exists(f)) throw new UsageError(`${f} exists (allowed: another NAME or --dir, or --force to replace it)`);
  const keyPem = await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], undefined, o.signal);
  await writeNew(key, keyPem, 0o600);
  try {
    const san = isIP(o.name) ? `IP:${o.name}` : `DNS:${o.name}`;
    const certPem = await openssl(['req', '-new', '-x509', '-key', key, '-subj', `/CN=${o.name}`, '-days', String(o.days), '-sha256', '-addext', `subjectAltName=${san}`], undefined, o.signal);
    await writeNew(cert, certPem, 0o644);
    const { X509Certificate } = await import('node:crypto');
    return { key, cert, fingerprint: certificateFingerprint(certPem), notAfter: new Date(new X509Certificate(certPem).validTo) };
  } catch (err) {
    await rm(key, { force: true }); // a key without its certificate is half a result
    throw err;
  }
}

async function openssl(args: string[], input: string | undefined, signal: AbortSignal | undefined): Promise<string> {
  try {
    const r = await execa('openssl', args, { input, cancelSignal: signal, stripFinalNewline: false });
    return r.stdout;
  } catch (err) {
    const e = err as { code?: string; stderr?: string; shortMessage?: string };
    if (e.code === 'ENOENT') throw new KeygenError('openssl not found (Debian package: openssl)');
    throw new KeygenError(`openssl ${args[0]} failed: ${(e.stderr ?? e.shortMessage ?? '').trim().split('\n')[0]}`);
  }
}

/** Writes `text` to a new temp file with `mode` from creation, syncs it, and renames it to `file`. */
async function writeNew(file: string, text: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  let fh;
  try {
    fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (err) {
    throw new KeygenError(`cannot create ${temp}: ${(err as Error).message}`);
  }
  try {
    await fh.chmod(mode); // the mode asked for, not less, whatever the umask
    await fh.writeFile(text);
    await fh.sync();
    await fh.close();
    await rename(temp, file);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw new KeygenError(`cannot write ${file}: ${(err as Error).message}`);
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
