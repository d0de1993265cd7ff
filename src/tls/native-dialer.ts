/**
 * The client side of TLS run in C (native/tls.c), with TlsDialer's decisions and words
 * (server-check.ts): JavaScript makes the TCP connection and hands its fd over before reading a
 * byte (nothing comes before our ClientHello); the addon's thread runs the handshake and reports
 * what the server showed; the server is judged here; an accepted session's plaintext then moves
 * on that thread between the SSL session and either the caller's device (straight, as socat does)
 * or a socketpair whose other end the caller gets as a plain socket. The ciphertext's fd never
 * reaches JavaScript, so the native pump may carry that socket like any plain one.
 */
import net from 'node:net';
import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { addon, type Addon, type NativeTlsEnd, type NativeTlsReady } from '../native/addon.js';
import { HANDSHAKE_TIMEOUT_MS } from './accepter.js';
import { contextOptionsFrom } from './files.js';
import { listeners, native, NativeTlsUnavailableError, peerCertificateOf, type Pending } from './native-accepter.js';
import { serverNameOf, serverPolicyOf } from './dial.js';
import { dialFailure, serverRefusal, type ServerPolicy, type ServerVerifyError } from './server-check.js';
import type { TlsClientSettings } from './settings.js';
import { LaplinkError } from '../errors.js';
import { socketReason } from '../socket-reason.js';

/** A dial that did not give a session: the reason in the words TlsDialer's path uses. */
export class TlsDialError extends LaplinkError {}

export interface NativeTlsClientSession {
  /**
   * The session's plaintext (a socketpair end): a plain socket, carried by the pump if need be;
   * undefined when the thread relays straight to the device.
   */
  socket: net.Socket | undefined;
  facts: NativeTlsReady;
  /** Resolves when the thread closed the session: why, and the plaintext bytes moved each way. */
  ended: Promise<NativeTlsEnd>;
  /** Ends the session at once, without close_notify (a straight session has no socket to close). */
  close(): void;
}

function clientFunctions(): Required<Pick<Addon, 'tlsClientContext' | 'tlsConnect'>> {
  native(); // the addon's TLS at all, Node's OpenSSL 3, the thread started
  const { tlsClientContext, tlsConnect } = addon!;
  if (!tlsClientContext || !tlsConnect) throw new NativeTlsUnavailableError('native TLS is not available as a client: the addon predates it (run npm run build)');
  return { tlsClientContext, tlsConnect };
}

/** The leaf as much of Node's PeerCertificate as serverRefusal and checkServerIdentity read. */
function serverCertificateOf(facts: NativeTlsReady): PeerCertificate | undefined {
  const cert = peerCertificateOf(facts);
  return cert && { ...cert, subjectaltname: new X509Certificate(facts.chain[0]!).subjectAltName ?? '' };
}

/** What Node's TLS would have found: the chain's verdict first, then (only if it held) the name. */
function verifyErrorOf(facts: NativeTlsReady, cert: PeerCertificate | undefined, name: string): ServerVerifyError | undefined {
  if (facts.verifyError) return { code: facts.verifyError, message: facts.verifyText };
  const err = cert ? checkServerIdentity(name, cert) : undefined;
  return err ? { code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: err.message } : undefined;
}

export class NativeTlsDialer {
  private constructor(
    private readonly settings: TlsClientSettings,
    private readonly policy: ServerPolicy,
    private readonly context: number,
    private readonly timeoutMs: number,
  ) {}

  /**
   * The settings and files checked as TlsDialer checks them (the same usage errors, naming the
   * file), then a client context; NativeTlsUnavailableError when the addon cannot do TLS here.
   */
  static async create(s: TlsClientSettings, limits: { handshakeTimeoutMs?: number } = {}): Promise<NativeTlsDialer> {
    const policy = serverPolicyOf(s);
    const tls = clientFunctions();
    await contextOptionsFrom({ cert: s.cert, key: s.key, ca: s.ca });
    let context: number;
    try {
      context = tls.tlsClientContext(s.cert ?? '', s.key ?? '', s.ca ?? '');
    } catch (err) {
      throw new NativeTlsUnavailableError((err as Error).message.replace(/^tls: /, ''));
    }
    return new NativeTlsDialer(s, policy, context, limits.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
  }

  /** Frees the context; sessions already made go on. */
  close(): void {
    native().tlsContextFree(this.context);
  }

  /**
   * Connects to host:port and runs the handshake; resolves with the session once the server is the
   * one wanted, rejects with a TlsDialError saying why not (nothing was sent to it then). With
   * `deviceFd` (non-blocking, kept open by the caller, read by nobody else) the plaintext goes
   * straight between the SSL session and it on the thread, as socat does, one hop fewer than the
   * socketpair and the pump; a blocking fd falls back to the socketpair.
   */
  async connect(host: string, port: number, signal?: AbortSignal, deviceFd?: number): Promise<NativeTlsClientSession> {
    const raw = await connectedSocket(host, port, signal);
    const name = serverNameOf(this.settings, host);
    const fd = (raw as net.Socket & { _handle?: { fd?: number } })._handle?.fd;
    const handle = fd === undefined || fd < 0 ? undefined : clientFunctions().tlsConnect(this.context, fd, net.isIP(name) ? '' : name);
    // The thread works on its own copy of the fd; Node's is closed without a shutdown.
    raw.destroy();
    if (handle === undefined) throw new TlsDialError('closed by the remote end before the TLS handshake');
    if (handle < 0) throw new TlsDialError('too many TLS sessions');
    return this.handshake(handle, name, signal, deviceFd);
  }

  private handshake(handle: number, name: string, signal: AbortSignal | undefined, deviceFd: number | undefined): Promise<NativeTlsClientSession> {
    const tls = native();
    return new Promise((resolve, reject) => {
      const settle = (): boolean => {
        if (listeners.get(handle) !== pending) return false;
        listeners.delete(handle);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const refuse = (reason: string): void => {
        if (!settle()) return;
        tls.tlsClose(handle);
        reject(new TlsDialError(reason));
      };
      const onAbort = () => refuse('aborted');
      const pending: Pending = {
        event: (kind, facts) => {
          if (kind === 'failed') {
            if (settle()) reject(new TlsDialError(dialFailure({ code: facts.code || undefined, message: facts.reason })));
            return;
          }
          if (kind !== 'ready') return;
          const cert = serverCertificateOf(facts);
          const refusal = serverRefusal(this.policy, { cert, verifyError: verifyErrorOf(facts, cert, name), now: new Date() });
          if (refusal) return refuse(refusal);
          if (!settle()) return;
          const relayed = relay(handle, deviceFd);
          if (typeof relayed === 'string') reject(new TlsDialError(relayed));
          else resolve({ ...relayed, facts });
        },
      };
      listeners.set(handle, pending);
      const timer = setTimeout(() => refuse(`TLS handshake not finished within ${this.timeoutMs / 1000} s`), this.timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** A TCP connection whose socket has read nothing (paused before it connected). */
function connectedSocket(host: string, port: number, signal: AbortSignal | undefined): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host, port, noDelay: true });
    raw.pause();
    const done = (err?: Error) => {
      raw.off('connect', onConnect);
      raw.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (!err) return resolve(raw);
      raw.destroy();
      reject(err);
    };
    const onConnect = () => done();
    const onError = (err: NodeJS.ErrnoException) => done(new TlsDialError(socketReason(err)));
    const onAbort = () => done(new TlsDialError('aborted'));
    raw.once('connect', onConnect);
    raw.once('error', onError);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Starts the relay, to `deviceFd` or else to a new socketpair whose JavaScript end becomes a
 * socket; a reason when it cannot (the session is closed then). A session whose socket closed but
 * whose server never ends it is closed after a grace period, so that it does not hold a slot.
 */
function relay(handle: number, deviceFd: number | undefined): Omit<NativeTlsClientSession, 'facts'> | string {
  const tls = native();
  let ended!: (end: NativeTlsEnd) => void;
  const endedPromise = new Promise<NativeTlsEnd>((resolve) => (ended = resolve));
  let over = false;
  // Listening before the relay starts: its first pass may already end the session.
  listeners.set(handle, {
    event: (kind, end) => {
      if (kind === 'ready') return;
      listeners.delete(handle);
      over = true;
      ended(end);
    },
  });
  const close = () => {
    if (over) return;
    over = true;
    listeners.delete(handle);
    tls.tlsClose(handle);
  };
  if (deviceFd !== undefined) {
    try {
      const rc = tls.tlsRelay(handle, deviceFd);
      if (rc === 0) return { socket: undefined, ended: endedPromise, close };
    } catch {
      // a blocking device: the socketpair below, whose end JavaScript writes
    }
  }
  const fd = tls.tlsRelay(handle);
  if (fd === undefined || fd < 0) {
    listeners.delete(handle);
    tls.tlsClose(handle);
    return `cannot relay the TLS session (errno ${fd === undefined ? 'none' : -fd})`;
  }
  const socket = new net.Socket({ fd, readable: true, writable: true });
  socket.once('close', () => {
    if (over) return;
    // Our end gone: the thread sends close_notify and waits for the server's; a server that never
    // answers does not keep the session.
    const grace = setTimeout(() => {
      if (over) return;
      close();
      ended({ reason: 'closed (the server did not answer our close_notify)', code: '', toPlain: 0, toTls: 0 });
    }, HANDSHAKE_TIMEOUT_MS);
    grace.unref();
  });
  return { socket, ended: endedPromise, close };
}
