/**
 * The client side of TLS in Node (`bridge connect`, `bridge stdio` without the native addon, the
 * control port's and the web consoles' clients): connects and, once the handshake is done, says
 * whether the server is the one wanted (server-check.ts, whose rules and words native-dialer.ts
 * shares).
 */
import { isIP } from 'node:net';
import { checkServerIdentity, connect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { LaplinkError, UsageError } from '../errors.js';
import { HANDSHAKE_TIMEOUT_MS } from './accepter.js';
import { contextOptionsFrom } from './files.js';
import { parsePeerPattern } from './identity.js';
import { serverRefusal, type ServerPolicy } from './server-check.js';
import { tlsClientProblems, type TlsClientSettings } from './settings.js';

/** The settings checked (a UsageError naming the flag) and the pins as `sha256:` fingerprints. */
export function serverPolicyOf(s: TlsClientSettings): ServerPolicy {
  const [problem] = tlsClientProblems(s);
  if (problem) throw new UsageError(problem);
  const pins = (s.pin ?? []).map((p) => {
    const pattern = parsePeerPattern(p, '--tls-pin');
    return pattern.kind === 'fingerprint' ? pattern.fingerprint : '';
  });
  return { pins, verifiesChain: s.ca !== undefined };
}

/** The name the server's certificate must carry: --tls-server-name, else the host dialed. */
export const serverNameOf = (s: TlsClientSettings, host: string): string => s.serverName ?? host;

/** A server that took the connection and did not finish the handshake in time. */
export class TlsHandshakeTimeoutError extends LaplinkError {}

export class TlsDialer {
  private constructor(
    private readonly settings: TlsClientSettings,
    private readonly context: SecureContext,
    private readonly policy: ServerPolicy,
    private readonly timeoutMs: number,
  ) {}

  static async create(s: TlsClientSettings, limits: { handshakeTimeoutMs?: number } = {}): Promise<TlsDialer> {
    const policy = serverPolicyOf(s);
    // No CA file: the system's store (secureContextFrom leaves Node's default roots in place).
    return new TlsDialer(s, createSecureContext(await contextOptionsFrom({ cert: s.cert, key: s.key, ca: s.ca })), policy, limits.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
  }

  /**
   * Starts a connection; the caller waits for 'secureConnect', then asks `refusal`. A handshake not
   * finished in time ends with an 'error' saying so (a server that accepts and never answers would
   * otherwise hold `bridge stdio`, and pppd behind it, for ever).
   */
  connect(host: string, port: number): TLSSocket {
    const name = serverNameOf(this.settings, host);
    const pinned = this.policy.pins.length > 0;
    const socket = connect({
      host,
      port,
      secureContext: this.context,
      servername: isIP(name) ? undefined : name,
      // Pinned: the key decides, so OpenSSL's chain verdict is read below rather than enforced.
      rejectUnauthorized: !pinned,
      // The name checked is the server name even when it is an address (Node would check the host
      // then); pinned without a CA, the key is the identity, whatever names the certificate carries.
      checkServerIdentity: pinned && !this.settings.ca ? () => undefined : (_host, cert) => checkServerIdentity(name, cert),
    });
    socket.setNoDelay(true);
    const timer = setTimeout(() => socket.destroy(new TlsHandshakeTimeoutError(`TLS handshake not finished within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    const settled = () => clearTimeout(timer);
    socket.once('secureConnect', settled);
    socket.once('close', settled);
    return socket;
  }

  /** Why the server just met must not have this session, or undefined when it is the one wanted. */
  refusal(socket: TLSSocket): string | undefined {
    // Not pinned: Node refused a server whose chain or name failed, with OpenSSL's or its own words, before 'secureConnect'.
    if (!this.policy.pins.length) return undefined;
    const code = socket.authorized ? undefined : String(socket.authorizationError);
    return serverRefusal(this.policy, { cert: socket.getPeerCertificate(), verifyError: code === undefined ? undefined : { code, message: code }, now: new Date() });
  }
}
