/** Reading certificate, key and CA files, with errors that name the file and what is wrong with it. */
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { UsageError } from '../errors.js';

/** TLS 1.0 and 1.1 are broken; nothing on a Debian of this decade needs them. */
export const MIN_TLS_VERSION = 'TLSv1.2';

export class TlsFileError extends UsageError {}

export async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new TlsFileError(`${what} ${file}: ${why}`);
  }
}

export interface PemFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

/**
 * Reads the files into context options (TLS ≥ 1.2), checked by building a context once, so that a
 * mismatched key or a broken file is an error naming it now rather than a failed handshake later.
 */
export async function contextOptionsFrom(files: PemFiles): Promise<SecureContextOptions> {
  const [cert, key, ca] = await Promise.all([
    files.cert ? readPem(files.cert, 'certificate') : undefined,
    files.key ? readPem(files.key, 'key') : undefined,
    files.ca ? readPem(files.ca, 'CA file') : undefined,
  ]);
  if (cert) certificateOf(cert, files.cert!, 'certificate');
  if (ca) certificateOf(ca, files.ca!, 'CA file');
  const options: SecureContextOptions = { cert, key, ca, minVersion: MIN_TLS_VERSION };
  try {
    createSecureContext(options);
    return options;
  } catch (err) {
    const msg = (err as Error).message;
    if (/key values mismatch/i.test(msg)) throw new TlsFileError(`key ${files.key} does not belong to certificate ${files.cert}`);
    if (/PEM|DECODER|no start line|bad decrypt|bad base64/i.test(msg)) throw new TlsFileError(`key ${files.key}: not a PEM private key without a passphrase (${msg})`);
    throw new TlsFileError(`${files.cert ?? files.ca}: ${msg}`);
  }
}

function certificateOf(pem: Buffer, file: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new TlsFileError(`${what} ${file}: not a PEM certificate`);
  }
}

/** A certificate this close to its end is worth a warning: renewal takes a person. */
export const EXPIRY_WARNING_DAYS = 30;

export interface TlsFileFinding {
  level: 'ok' | 'warn' | 'FAIL';
  detail: string;
}

/**
 * What `check` says of a set of TLS files: each readable and of the right kind, the key the
 * certificate's own, and every certificate inside its dates (a warning within EXPIRY_WARNING_DAYS).
 */
export async function tlsFileFindings(files: PemFiles, now = new Date()): Promise<TlsFileFinding[]> {
  try {
    await contextOptionsFrom(files);
  } catch (err) {
    if (err instanceof TlsFileError) return [{ level: 'FAIL', detail: err.message }];
    throw err;
  }
  const out: TlsFileFinding[] = [];
  const dated = [
    ['certificate', files.cert],
    ['CA file', files.ca],
  ] as const;
  for (const [what, file] of dated) {
    if (!file) continue;
    const cert = certificateOf(await readPem(file, what), file, what);
    const from = new Date(cert.validFrom);
    const to = new Date(cert.validTo);
    const days = Math.floor((to.getTime() - now.getTime()) / 86_400_000);
    if (now < from) out.push({ level: 'FAIL', detail: `${what} ${file} is not valid before ${from.toISOString()}` });
    else if (now > to) out.push({ level: 'FAIL', detail: `${what} ${file} expired ${to.toISOString()}` });
    else if (days < EXPIRY_WARNING_DAYS) out.push({ level: 'warn', detail: `${what} ${file} expires in ${days} days (${to.toISOString()})` });
    else out.push({ level: 'ok', detail: `${what} ${file} valid until ${to.toISOString().slice(0, 10)}${files.key && what === 'certificate' ? `, key ${files.key} matches` : ''}` });
  }
  return out;
}
