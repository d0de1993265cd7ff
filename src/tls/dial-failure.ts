/**
 * A TLS dial that failed, in one line a person can act on: which side refused whose certificate, or
 * that the far end is not TLS at all. OpenSSL's own text is a path through its source
 * (`E0…:error:0A00045C:SSL routines::tlsv13 alert certificate required:../deps/openssl/…`). One
 * wording for every TLS client we have: `bridge connect` and `bridge stdio` (Node's TLS and the
 * addon's, which report OpenSSL's reasons under the same `ERR_SSL_…` codes), the control-port
 * client and the web consoles; each names the far end its own way ("the server", "the control port").
 */
import { socketReason } from '../socket-reason.js';

/** The alerts by which a server refuses our client certificate, and what each means. */
const OUR_CERTIFICATE_REFUSED: Record<string, string> = {
  CERTIFICATE_REQUIRED: 'requires a client certificate',
  BAD_CERTIFICATE: 'refused our client certificate',
  UNKNOWN_CA: 'refused our client certificate (signed by a CA it does not trust)',
  CERTIFICATE_EXPIRED: 'refused our client certificate (expired)',
  CERTIFICATE_UNKNOWN: 'refused our client certificate',
  ACCESS_DENIED: 'refused our client certificate (not on its allow list)',
};

/** OpenSSL's chain verdicts (as Node's `tls.connect` codes them) and Node's own on the name. */
const THEIR_CERTIFICATE = /^(ERR_TLS_CERT_ALTNAME_INVALID|[A-Z_]*(CERT|CRL|SIGNATURE|ISSUER|CA|PURPOSE|PATH_LENGTH|HOSTNAME)[A-Z_]*)$/;

export interface DialFailureOptions {
  /** The far end as the sentence names it: "the server", "the control port", "the port". */
  who: string;
  /** Added when the far end wants a client certificate we did not give (where to give one). */
  certificateHint?: string;
}

/** How `bridge connect` and `bridge stdio` name the far end. */
export const SERVER: DialFailureOptions = { who: 'the server' };

/** Whether the failure is TLS's own (OpenSSL's, a certificate's, a reset mid-handshake), not the socket's. */
export function isTlsFailure(err: { code?: string }): boolean {
  const code = err.code ?? '';
  return code === 'ECONNRESET' || code.startsWith('ERR_SSL_') || THEIR_CERTIFICATE.test(code);
}

export function dialFailure(err: { code?: string; message: string }, { who, certificateHint }: DialFailureOptions): string {
  const code = err.code ?? '';
  if (!isTlsFailure(err)) return socketReason(err as NodeJS.ErrnoException);
  if (code === 'ECONNRESET') return 'connection reset during the TLS handshake';
  if (!code.startsWith('ERR_SSL_')) return `${who}'s certificate is refused: ${err.message.charAt(0).toLowerCase()}${err.message.slice(1)}`;
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE|HTTP_REQUEST/.test(code)) return `${who} does not speak TLS (a plain port?)`;
  if (/UNEXPECTED_EOF/.test(code)) return `closed by ${who} during the TLS handshake`;
  if (/UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|TLSV1_ALERT_PROTOCOL_VERSION/.test(code)) return `TLS version below 1.2 (${who} offers nothing newer)`;
  const alert = /(?:SSLV3|TLSV1|TLSV13)_ALERT_(\w+)$/.exec(code)?.[1];
  if (alert && OUR_CERTIFICATE_REFUSED[alert]) {
    const hint = alert === 'CERTIFICATE_REQUIRED' && certificateHint ? ` (${certificateHint})` : '';
    return `${who} ${OUR_CERTIFICATE_REFUSED[alert]}${hint}`;
  }
  if (alert) return `${who} refused the TLS handshake: ${alert.toLowerCase().replace(/_/g, ' ')}`;
  return `TLS handshake failed: ${err.message.replace(/^.*routines:[^:]*:/, '').replace(/:\.\.\/.*$/, '')}`;
}
