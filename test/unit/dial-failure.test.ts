/**
 * One wording for a failed TLS dial, whichever client dialed: the codes Node's TLS and the addon
 * report (the addon spells OpenSSL's reasons as Node does), each said naming the far end.
 */
import { describe, expect, it } from 'vitest';
import { dialFailure } from '../../src/tls/dial-failure.js';

const port = { who: 'the port', certificateHint: 'allowed: bridgeTls cert and key' };
const server = { who: 'the server' };

describe('dialFailure', () => {
  it.each([
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number', server, 'the server does not speak TLS (a plain port?)'],
    ['ERR_SSL_PACKET_LENGTH_TOO_LONG', 'packet length too long', port, 'the port does not speak TLS (a plain port?)'],
    ['ERR_SSL_UNEXPECTED_EOF_WHILE_READING', 'unexpected eof while reading', server, 'closed by the server during the TLS handshake'],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'tlsv1 alert protocol version', server, 'TLS version below 1.2 (the server offers nothing newer)'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required', port, 'the port requires a client certificate (allowed: bridgeTls cert and key)'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required', server, 'the server requires a client certificate'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'tlsv1 alert unknown ca', server, 'the server refused our client certificate (signed by a CA it does not trust)'],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'sslv3 alert certificate expired', port, 'the port refused our client certificate (expired)'],
    ['ERR_SSL_TLSV1_ALERT_ACCESS_DENIED', 'tlsv1 alert access denied', server, 'the server refused our client certificate (not on its allow list)'],
    ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'sslv3 alert handshake failure', server, 'the server refused the TLS handshake: handshake failure'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain', server, "the server's certificate is refused: self-signed certificate in certificate chain"],
    ['CERT_HAS_EXPIRED', 'certificate has expired', port, "the port's certificate is refused: certificate has expired"],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: Host: x. is not in the cert's altnames: DNS:y", server, "the server's certificate is refused: hostname/IP does not match certificate's altnames: Host: x. is not in the cert's altnames: DNS:y"],
    ['ECONNRESET', 'read ECONNRESET', server, 'connection reset during the TLS handshake'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1', server, 'connection refused'],
    ['ERR_SSL_BAD_ECPOINT', 'error:0A000000:SSL routines:tls_process_ske:bad ecpoint:../deps/openssl/ssl.c:1', server, 'TLS handshake failed: bad ecpoint'],
  ])('%s (%s)', (code, message, who, said) => {
    expect(dialFailure({ code, message }, who)).toBe(said);
  });

  it('a failure with no code (the handshake timer) is said by its message', () => {
    expect(dialFailure({ message: 'TLS handshake not finished within 10 s' }, server)).toBe('TLS handshake not finished within 10 s');
  });
});
