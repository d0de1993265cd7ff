/**
 * Whether the server a TLS client just met is the one wanted, and how a failed dial is said: pure
 * functions of what the handshake showed, shared by both dialers (Node's TLS in dial.ts, OpenSSL on
 * the addon's thread in native-dialer.ts) so that they decide alike and refuse in the same words.
 * Without pins the chain must verify (CA file or the system's CAs) and the certificate carry the
 * server name; with pins the public key decides (a self-signed certificate is then fine, as with
 * ssh's known hosts), the dates must hold, and with a CA file as well the chain and name must too.
 */
import type { PeerCertificate } from 'node:tls';
import { socketReason } from '../socket-reason.js';
import { peerIdentity } from './identity.js';

export interface ServerPolicy {
  /** `sha256:` fingerprints accepted; none: the chain and the name decide. */
  pins: readonly string[];
  /** A CA file was given: with pins, its verdict counts as well. */
  verifiesChain: boolean;
}

/** Why the chain or the name did not hold, as Node's TLS reports it. */
export interface ServerVerifyError {
  /** The X509_V_ERR_ name without its prefix (`CERT_HAS_EXPIRED`), or `ERR_TLS_CERT_ALTNAME_INVALID`. */
  code: string;
  /** OpenSSL's text for the chain (`certificate has expired`), Node's for the name. */
  message: string;
}

export interface ServerFacts {
  cert: PeerCertificate | undefined;
  /** Undefined when the chain verified and the certificate carries the name. */
  verifyError: ServerVerifyError | undefined;
  now: Date;
}

/** Why this server must not have the session, or undefined when it is the one wanted. */
export function serverRefusal(policy: ServerPolicy, facts: ServerFacts): string | undefined {
  if (!policy.pins.length) return facts.verifyError?.message;
  const id = peerIdentity(facts.cert);
  if (!id || !facts.cert) return 'server sent no certificate';
  if (!policy.pins.includes(id.fingerprint)) return `server certificate ${id.fingerprint} is not pinned (--tls-pin)`;
  if (facts.now < new Date(facts.cert.valid_from)) return `server certificate not valid before ${new Date(facts.cert.valid_from).toISOString()}`;
  if (facts.now > new Date(facts.cert.valid_to)) return `server certificate expired ${new Date(facts.cert.valid_to).toISOString()}`;
  if (policy.verifiesChain && facts.verifyError) return `server certificate: ${facts.verifyError.code}`;
  return undefined;
}

/**
 * A dial that failed before the server could be judged, in a person's words: TLS failures by
 * OpenSSL's reason (`ERR_SSL_…` codes, the same from Node and from the addon), the rest (a refused
 * connection, a chain Node turned away) as the socket says it.
 */
export function dialFailure(err: { code?: string; message: string }): string {
  const code = err.code ?? '';
  if (code === 'ECONNRESET') return 'connection reset during the TLS handshake';
  if (!code.startsWith('ERR_SSL_')) return socketReason(err as NodeJS.ErrnoException);
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE/.test(code)) return 'not a TLS server (a plain port?)';
  if (/UNEXPECTED_EOF/.test(code)) return 'closed by the server during the TLS handshake';
  if (/UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|TLSV1_ALERT_PROTOCOL_VERSION/.test(code)) return 'TLS version below 1.2 (the server offers nothing newer)';
  const alert = /(?:SSLV3|TLSV1|TLSV13)_ALERT_(\w+)$/.exec(code);
  if (alert) return `server refused the TLS handshake: ${alert[1]!.toLowerCase().replace(/_/g, ' ')}`;
  return `TLS handshake failed: ${err.message.replace(/^.*routines:[^:]*:/, '').replace(/:\.\.\/.*$/, '')}`;
}
