/**
 * A failed TLS dial to a bridge port in one line a console page can show. OpenSSL's own text is a
 * path through its source (`E0…:error:0A00045C:SSL routines::tlsv13 alert certificate required:
 * ../deps/openssl/…`); a person needs to know which side refused whose certificate.
 */
import { socketReason } from '../socket-reason.js';

/** The port's refusals of our client certificate, as the alert OpenSSL received names them. */
const REFUSED_OURS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the port requires a client certificate (allowed: bridgeTls cert and key)',
  ERR_SSL_TLSV1_ALERT_CERTIFICATE_REQUIRED: 'the port requires a client certificate (allowed: bridgeTls cert and key)',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the port refused our client certificate',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the port refused our client certificate (signed by a CA it does not trust)',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'the port refused our client certificate (expired)',
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: 'the port refused our client certificate (not on its allow list)',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'the port refused the handshake',
};

/** Node's verdicts on the port's certificate (tls.connect's `code`). */
const REFUSED_THEIRS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function tlsDialReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (REFUSED_OURS[code]) return `TLS: ${REFUSED_OURS[code]}`;
  // the altname message names the host and every name the certificate carries: its first sentence says it
  if (REFUSED_THEIRS.has(code)) return `TLS: the port's certificate is refused: ${err.message.split(/[.:]\s/)[0]!.toLowerCase()}`;
  const openssl = /SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1];
  if (openssl) return `TLS: ${openssl}`;
  return socketReason(err);
}
