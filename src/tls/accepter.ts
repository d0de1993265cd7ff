/**
 * The TLS layer of a listener: turns an accepted TCP socket into an authenticated TLSSocket, or
 * refuses it with one reason. Nothing above sees a client before its handshake finished and its
 * certificate passed the port's policy, so no byte of an unauthenticated peer reaches a device (and
 * a port that opens its device on connect does not even open it). Half-open handshakes are bounded
 * in number and in time; the certificate, key, CA and allow list can be replaced while running
 * (reload), and apply to the next handshake.
 */
import type net from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { parsePeerPattern, type PeerIdentity } from './identity.js';
import { secureContextFrom } from './files.js';
import { checkPeer, type PeerPolicy } from './peer-check.js';
import { clientCertPolicy, type TlsServerSettings } from './settings.js';

/** Handshakes in progress per port before new connections are turned away at once. */
export const MAX_PENDING_HANDSHAKES = 32;
/** A handshake not finished by then is dropped (a client that connects and says nothing). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface AcceptLimits {
  maxPending?: number;
  handshakeTimeoutMs?: number;
}

export interface TlsState {
  context: SecureContext;
  policy: PeerPolicy;
}

/** Reads the files and the allow list of one port's `tls:` settings. */
export async function loadTlsState(s: TlsServerSettings): Promise<TlsState> {
  const context = await secureContextFrom({ cert: s.cert, key: s.key, ca: s.ca });
  const allow = (s.allow ?? []).map((a) => parsePeerPattern(a, 'tls.allow'));
  return { context, policy: { clientCert: clientCertPolicy(s), verifiesChain: s.ca !== undefined, allow } };
}

export class TlsAccepter {
  private pending = 0;
  private readonly maxPending: number;
  private readonly timeoutMs: number;

  constructor(
    private state: TlsState,
    limits: AcceptLimits = {},
  ) {
    this.maxPending = limits.maxPending ?? MAX_PENDING_HANDSHAKES;
    this.timeoutMs = limits.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  }

  /** New files and allow list for the handshakes that start from now on. */
  replace(state: TlsState): void {
    this.state = state;
  }

  get clientCert(): PeerPolicy['clientCert'] {
    return this.state.policy.clientCert;
  }

  /** Runs the handshake on `raw`; exactly one of `accepted` or `refused` is called, once. */
  accept(raw: net.Socket, accepted: (socket: TLSSocket, peer: PeerIdentity | undefined) => void, refused: (reason: string) => void): void {
    raw.on('error', () => undefined);
    if (this.pending >= this.maxPending) {
      raw.destroy();
      return refused(`${this.maxPending} TLS handshakes already pending`);
    }
    this.pending++;
    const { context, policy } = this.state;
    const socket = new TLSSocket(raw, { isServer: true, secureContext: context, requestCert: policy.clientCert !== 'none', rejectUnauthorized: false });
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      this.pending--;
      clearTimeout(timer);
      return true;
    };
    const fail = (reason: string) => {
      if (!settle()) return;
      socket.destroy();
      raw.destroy();
      refused(reason);
    };
    const timer = setTimeout(() => fail(`TLS handshake not finished within ${this.timeoutMs / 1000} s`), this.timeoutMs);
    timer.unref();
    socket.on('error', (err) => fail(handshakeReason(err)));
    raw.on('close', () => fail('closed during the TLS handshake'));
    socket.once('secure', () => {
      const verdict = checkPeer(policy, {
        cert: socket.getPeerCertificate(true),
        chainError: (socket as TLSSocket & { authorizationError?: Error | string }).authorizationError?.toString(),
        now: new Date(),
      });
      if (!verdict.ok) return fail(verdict.reason);
      if (!settle()) return;
      socket.removeAllListeners('error');
      accepted(socket, verdict.identity);
    });
  }
}

/** OpenSSL's words for what went wrong, as the log says them. */
function handshakeReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (/WRONG_VERSION_NUMBER|HTTP_REQUEST|UNKNOWN_PROTOCOL|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE/.test(code) || /wrong version number|http request|packet length too long/i.test(err.message))
    return 'not a TLS client (plaintext on a TLS port?)';
  if (/UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|TLSV1_ALERT_PROTOCOL_VERSION/.test(code)) return 'TLS version below 1.2';
  const alert = /SSLV3_ALERT_(\w+)|TLSV1_ALERT_(\w+)/.exec(code);
  if (alert) return `client aborted the TLS handshake: ${(alert[1] ?? alert[2])!.toLowerCase().replace(/_/g, ' ')}`;
  if (code === 'ECONNRESET') return 'connection reset during the TLS handshake';
  return `TLS handshake failed: ${err.message.replace(/^.*routines:/, '').replace(/:\.\.\/.*$/, '')}`;
}
