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
