/**
 * The client side of TLS run in C (native/tls.c), with TlsDialer's decisions and words
 * (server-check.ts): JavaScript makes the TCP connection and hands its fd over before reading a
 * byte (nothing comes before our ClientHello); the addon's thread runs the handshake and reports
 * what the server showed; the server is judged here; an accepted session's plaintext then moves
 * on that thread between the SSL session and a socketpair whose other end the caller gets as a
 * plain socket (native-session.ts). The ciphertext's fd never reaches JavaScript, so the pump, or
 * the thread itself straight to the device (native-direct.ts), may carry that socket's bytes.
 */
import net from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { addon, type Addon, type NativeTlsReady } from '../native/addon.js';
import { HANDSHAKE_TIMEOUT_MS } from './accepter.js';
import { contextOptionsFrom } from './files.js';
import { awaitHandshake, nativeTls, NativeTlsUnavailableError, peerCertificateOf, relayToSocket, type RelayedSession } from './native-session.js';
import { serverNameOf, serverPolicyOf } from './dial.js';
import { dialFailure, SERVER } from './dial-failure.js';
import { serverRefusal, type ServerPolicy, type ServerVerifyError } from './server-check.js';
import type { TlsClientSettings } from './settings.js';
import { LaplinkError } from '../errors.js';
import { socketReason } from '../socket-reason.js';

/** A dial that did not give a session: the reason in the words TlsDialer's path uses. */
export class TlsDialError extends LaplinkError {}

export interface NativeTlsClientSession extends RelayedSession {
  facts: NativeTlsReady;
}

function clientFunctions(): Required<Pick<Addon, 'tlsClientContext' | 'tlsConnect'>> {
  nativeTls(); // the addon's TLS at all, Node's OpenSSL 3, the thread started
  const { tlsClientContext, tlsConnect } = addon!;
  if (!tlsClientContext || !tlsConnect) throw new NativeTlsUnavailableError('native TLS is not available as a client: the addon predates it (run npm run build)');
  return { tlsClientContext, tlsConnect };
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
    nativeTls().tlsContextFree(this.context);
  }

  /**
   * Connects to host:port and runs the handshake; resolves with the session once the server is the
   * one wanted, rejects with a TlsDialError saying why not (nothing was sent to it then).
   */
  async connect(host: string, port: number, signal?: AbortSignal): Promise<NativeTlsClientSession> {
    const raw = await connectedSocket(host, port, signal);
    const name = serverNameOf(this.settings, host);
    const fd = (raw as net.Socket & { _handle?: { fd?: number } })._handle?.fd;
    const handle = fd === undefined || fd < 0 ? undefined : clientFunctions().tlsConnect(this.context, fd, net.isIP(name) ? '' : name);
    // The thread works on its own copy of the fd; Node's is closed without a shutdown.
    raw.destroy();
    if (handle === undefined) throw new TlsDialError('closed by the remote end before the TLS handshake');
    if (handle < 0) throw new TlsDialError('too many TLS sessions');
    const verdict = await awaitHandshake(handle, {
      timeoutMs: this.timeoutMs,
      signal,
      judge: (facts) => {
        const cert = peerCertificateOf(facts);
        const refusal = serverRefusal(this.policy, { cert, verifyError: verifyErrorOf(facts, cert, name), now: new Date() });
        return refusal ? { ok: false, reason: refusal } : { ok: true, value: facts };
      },
      failure: (end) => dialFailure({ code: end.code || undefined, message: end.reason }, SERVER),
    });
    if (!verdict.ok) throw new TlsDialError(verdict.reason);
    const relayed = relayToSocket(handle, false);
    if (typeof relayed === 'string') throw new TlsDialError(relayed);
    return { ...relayed, facts: verdict.value };
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
