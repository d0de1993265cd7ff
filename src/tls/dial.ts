/**
 * The client side of TLS (`bridge connect`, `bridge stdio`): connects and, once the handshake is
 * done, says whether the server is the one wanted. Without pins the server's certificate must
 * verify against the CA file (or the system's CAs) and carry the server name; with pins, its public
 * key must be one of them (a self-signed certificate is then fine, as with ssh's known hosts), and
 * with a CA file as well, both must hold.
 */
import { isIP } from 'node:net';
import { connect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { UsageError } from '../errors.js';
import { contextOptionsFrom } from './files.js';
import { peerIdentity, parsePeerPattern } from './identity.js';
import { tlsClientProblems, type TlsClientSettings } from './settings.js';

export class TlsDialer {
  private constructor(
    private readonly settings: TlsClientSettings,
    private readonly context: SecureContext,
    private readonly pins: string[],
  ) {}

  static async create(s: TlsClientSettings): Promise<TlsDialer> {
    const [problem] = tlsClientProblems(s);
    if (problem) throw new UsageError(problem);
    const pins = (s.pin ?? []).map((p) => {
      const pattern = parsePeerPattern(p, '--tls-pin');
      return pattern.kind === 'fingerprint' ? pattern.fingerprint : '';
    });
    // No CA file: the system's store (secureContextFrom leaves Node's default roots in place).
    return new TlsDialer(s, createSecureContext(await contextOptionsFrom({ cert: s.cert, key: s.key, ca: s.ca })), pins);
  }

  /** Starts a connection; the caller waits for 'secureConnect', then asks `refusal`. */
  connect(host: string, port: number): TLSSocket {
    const name = this.settings.serverName ?? host;
    const socket = connect({
      host,
      port,
      secureContext: this.context,
      servername: isIP(name) ? undefined : name,
      // Pinned: the key decides, so OpenSSL's chain verdict is read below rather than enforced.
      rejectUnauthorized: this.pins.length === 0,
      // Pinned without a CA: the key is the identity, whatever names the certificate carries.
      ...(this.pins.length && !this.settings.ca ? { checkServerIdentity: () => undefined } : {}),
    });
    socket.setNoDelay(true);
    return socket;
  }

  /** Why the server just met must not have this session, or undefined when it is the one wanted. */
  refusal(socket: TLSSocket): string | undefined {
    if (!this.pins.length) return undefined; // OpenSSL and Node verified chain and name already
    const cert = socket.getPeerCertificate();
    const id = peerIdentity(cert);
    if (!id) return 'server sent no certificate';
    if (!this.pins.includes(id.fingerprint)) return `server certificate ${id.fingerprint} is not pinned (--tls-pin)`;
    const now = new Date();
    if (now < new Date(cert.valid_from)) return `server certificate not valid before ${new Date(cert.valid_from).toISOString()}`;
    if (now > new Date(cert.valid_to)) return `server certificate expired ${new Date(cert.valid_to).toISOString()}`;
    if (this.settings.ca && !socket.authorized) return `server certificate: ${String(socket.authorizationError)}`;
    return undefined;
  }
}
