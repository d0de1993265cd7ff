/**
 * Who is at the other end of a TLS session: the SHA-256 fingerprint of the certificate's public key
 * (SubjectPublicKeyInfo, DER; it survives a certificate renewed with the same key) and its subject
 * CN. Allow-lists and pins name peers the same way, so the fingerprint printed by `bridge keygen`
 * is the one pasted into the other side's config.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { UsageError } from '../errors.js';

export interface PeerIdentity {
  /** `sha256:` and 64 lowercase hex digits. */
  fingerprint: string;
  cn: string | undefined;
}

/** One allow-list or pin entry. */
export type PeerPattern = { kind: 'fingerprint'; fingerprint: string } | { kind: 'cn'; name: string };

export function fingerprintOf(spkiDer: Buffer): string {
  return `sha256:${createHash('sha256').update(spkiDer).digest('hex')}`;
}

/** The fingerprint of a certificate, PEM or DER (what keygen prints, and `openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256`). */
export function certificateFingerprint(cert: string | Buffer): string {
  return fingerprintOf(new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' }));
}

/**
 * A peer's identity from getPeerCertificate(); undefined when it sent no certificate. The
 * fingerprint is taken from the DER certificate (`raw`): the `pubkey` field is the bare EC point
 * for EC keys, not the SubjectPublicKeyInfo that openssl and keygen hash.
 */
export function peerIdentity(cert: PeerCertificate | undefined): PeerIdentity | undefined {
  if (!cert?.raw) return undefined;
  const cn = cert.subject?.CN;
  return { fingerprint: certificateFingerprint(cert.raw), cn: Array.isArray(cn) ? cn[0] : cn };
}

/** How logs and showport name a peer: `CN=laptop sha256:1f2e…` (the fingerprint shortened to 16 digits). */
export function describePeer(id: PeerIdentity): string {
  const short = `${id.fingerprint.slice(0, 7 + 16)}…`;
  return id.cn ? `CN=${id.cn} ${short}` : short;
}

/**
 * Reads `sha256:HEX`, bare HEX (64 digits, colons allowed, as `openssl dgst` or `openssl x509
 * -fingerprint` print them) or `CN=NAME`. `field` names the flag or config key in the error.
 */
export function parsePeerPattern(text: string, field: string): PeerPattern {
  if (/^CN=/i.test(text)) {
    const name = text.slice(3);
    if (!name) throw new UsageError(`${field}: "${text}" has an empty name (allowed: CN=NAME)`);
    return { kind: 'cn', name };
  }
  const hex = text.replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new UsageError(`${field}: "${text}" is neither a SHA-256 fingerprint (sha256: and 64 hex digits) nor CN=NAME`);
  return { kind: 'fingerprint', fingerprint: `sha256:${hex}` };
}

export function matchesPattern(id: PeerIdentity, p: PeerPattern): boolean {
  return p.kind === 'fingerprint' ? id.fingerprint === p.fingerprint : id.cn === p.name;
}
