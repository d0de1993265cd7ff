/**
 * The TLS layer of a listener: turns an accepted TCP socket into an authenticated TLSSocket, or
 * refuses it with one reason. Nothing above sees a client before its handshake finished and its
 * certificate passed the port's policy, so no byte of an unauthenticated peer reaches a device.
 * Half-open handshakes are bounded in number and in time; the certificate, key, CA and allow list
 * can be replaced while running (reload) and apply to the next handshake.
 *
 * The handshake runs in a tls.Server that never listens (the listener hands it each socket): it is
 * the part of Node that records OpenSSL's verdict on a client certificate (`authorizationError`),
 * and `setSecureContext` swaps the files for new connections while open sessions go on.
 */
import type net from 'node:net';
import { createServer, type SecureContextOptions, type Server, type TLSSocket } from 'node:tls';
import { parsePeerPattern, type PeerIdentity } from './identity.js';
import { contextOptionsFrom } from './files.js';
import { checkPeer, NO_CLIENT_CERTIFICATE, type PeerPolicy } from './peer-check.js';
import { clientCertPolicy, type TlsServerSettings } from './settings.js';

/** Handshakes in progress per listener before new connections are turned away at once. */
export const MAX_PENDING_HANDSHAKES = 32;
/** A handshake not finished by then is dropped (a client that connects and says nothing). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface AcceptLimits {
  maxPending?: number;
  handshakeTimeoutMs?: number;
}

export interface TlsState {
  context: SecureContextOptions;
  policy: PeerPolicy;
  /** Where the context came from: native TLS (native/tls.c) reads the same files itself. */
  files: TlsServerFiles;
}

export interface TlsServerFiles {
  cert: string;
  key: string;
  ca?: string;
}

/** Reads the files and the allow list of one listener's `tls:` settings. */
export async function loadTlsState(s: TlsServerSettings): Promise<TlsState> {
  const context = await contextOptionsFrom({ cert: s.cert, key: s.key, ca: s.ca });
  const allow = (s.allow ?? []).map((a) => parsePeerPattern(a, 'tls.allow'));
  return { context, files: { cert: s.cert, key: s.key, ca: s.ca }, policy: { clientCert: clientCertPolicy(s), verifiesChain: s.ca !== undefined, allow } };
}

interface Handshake {
  secure(socket: TLSSocket): void;
  fail(reason: string): void;
}

const peerKey = (s: { remoteAddress?: string; remotePort?: number }) => `${s.remoteAddress}|${s.remotePort}`;

export class TlsAccepter {
  private readonly pending = new Map<string, Handshake>();
  private readonly maxPending: number;
  private readonly timeoutMs: number;
  private readonly server: Server;
  private policy: PeerPolicy;

  constructor(state: TlsState, limits: AcceptLimits = {}) {
    this.maxPending = limits.maxPending ?? MAX_PENDING_HANDSHAKES;
    this.timeoutMs = limits.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    this.policy = state.policy;
    // Every certificate is let through the handshake (rejectUnauthorized false) so that the
    // refusal can say why; checkPeer decides before anything else sees the socket.
    this.server = createServer({ ...state.context, requestCert: state.policy.clientCert !== 'none', rejectUnauthorized: false, handshakeTimeout: this.timeoutMs });
    this.server.on('secureConnection', (socket: TLSSocket) => this.pending.get(peerKey(socket))?.secure(socket));
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => this.pending.get(peerKey(socket))?.fail(handshakeReason(err)));
  }

  /**
   * The files read again (renewed certificate, key or CA under the same names) for the handshakes
   * that start from now on. Whether client certificates are asked for stays: a changed policy is a
   * changed port, which a reload restarts.
   */
  replace(state: TlsState): void {
    this.server.setSecureContext(state.context);
    this.policy = { ...state.policy, clientCert: this.policy.clientCert };
  }

  get clientCert(): PeerPolicy['clientCert'] {
    return this.policy.clientCert;
  }

  /** Runs the handshake on `raw`; exactly one of `accepted` or `refused` is called, once. */
  accept(raw: net.Socket, accepted: (socket: TLSSocket, peer: PeerIdentity | undefined) => void, refused: (reason: string) => void): void {
    raw.on('error', () => undefined);
    if (this.pending.size >= this.maxPending) {
      raw.destroy();
      return refused(`${this.maxPending} TLS handshakes already pending`);
    }
    // The handshake is found again by the peer's address (the tls.Server's events carry the TLS
    // socket, not ours): a socket already closed has none, and nothing to refuse either.
    if (raw.remoteAddress === undefined || raw.remotePort === undefined) return void raw.destroy();
    const key = peerKey(raw);
    const policy = this.policy;
    let tlsSocket: TLSSocket | undefined;
    const settle = () => {
      if (this.pending.get(key) !== handshake) return false;
      this.pending.delete(key);
      clearTimeout(timer);
      return true;
    };
    const handshake: Handshake = {
      fail: (reason) => {
        if (!settle()) return;
        tlsSocket?.destroy();
        raw.destroy();
        refused(reason);
      },
      secure: (socket) => {
        tlsSocket = socket;
        const verdict = checkPeer(policy, {
          cert: socket.getPeerCertificate(true),
          chainError: (socket as TLSSocket & { authorizationError?: Error | string }).authorizationError?.toString(),
          now: new Date(),
        });
        if (!verdict.ok) return handshake.fail(verdict.reason);
        if (!settle()) return;
        accepted(socket, verdict.identity);
      },
    };
    this.pending.set(key, handshake);
    // Our own timer as well as the server's: it covers a peer that never even sends a ClientHello.
    const timer = setTimeout(() => handshake.fail(`TLS handshake not finished within ${this.timeoutMs / 1000} s`), this.timeoutMs);
    timer.unref();
    raw.on('close', () => handshake.fail('closed during the TLS handshake'));
    this.server.emit('connection', raw);
  }
}

/** OpenSSL's words for what went wrong, as the log says them. */
export function handshakeReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'TLS handshake timed out';
  if (/WRONG_VERSION_NUMBER|HTTP_REQUEST|UNKNOWN_PROTOCOL|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE/.test(code) || /wrong version number|http request|packet length too long/i.test(err.message))
    return 'not a TLS client (plaintext on a TLS port?)';
  // Native TLS asks OpenSSL to insist on a client certificate (SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE/.test(code)) return NO_CLIENT_CERTIFICATE;
  if (/UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|TLSV1_ALERT_PROTOCOL_VERSION/.test(code)) return 'TLS version below 1.2';
  const alert = /SSLV3_ALERT_(\w+)|TLSV1_ALERT_(\w+)/.exec(code);
  if (alert) return `client aborted the TLS handshake: ${(alert[1] ?? alert[2])!.toLowerCase().replace(/_/g, ' ')}`;
  if (code === 'ECONNRESET') return 'connection reset during the TLS handshake';
  return `TLS handshake failed: ${err.message.replace(/^.*routines:/, '').replace(/:\.\.\/.*$/, '')}`;
}
