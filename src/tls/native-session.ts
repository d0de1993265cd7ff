/**
 * The addon's TLS thread (native/tls.c) as JavaScript sees it, for both sides (native-accepter.ts,
 * native-dialer.ts): one event dispatcher per process, a handshake awaited and judged here, and
 * then the session's plaintext on a plain socket over a socketpair. That socket is registered with
 * native-direct.ts, so that the handover may send a lone session straight to its device.
 */
import net from 'node:net';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { addon, type Addon, type NativeTlsEnd, type NativeTlsEventKind, type NativeTlsReady } from '../native/addon.js';
import { LaplinkError } from '../errors.js';
import { HANDSHAKE_TIMEOUT_MS } from './accepter.js';
import { directEvent, nativeTlsProblem, registerNativeTlsSocket } from './native-direct.js';

export class NativeTlsUnavailableError extends LaplinkError {}

interface Pending {
  event(kind: NativeTlsEventKind, facts: NativeTlsReady & NativeTlsEnd): void;
}

/** One dispatcher per process: the addon has one thread and one callback for every session. */
const listeners = new Map<number, Pending>();
let started = false;

type NativeTls = Required<Pick<Addon, 'tlsInit' | 'tlsContext' | 'tlsContextFree' | 'tlsAccept' | 'tlsRelay' | 'tlsClose'>>;

/** The addon's TLS functions, its thread started; NativeTlsUnavailableError when this process has none. */
export function nativeTls(): NativeTls {
  const a = addon;
  const problem = nativeTlsProblem();
  if (problem || !a?.tlsInit || !a.tlsContext || !a.tlsContextFree || !a.tlsAccept || !a.tlsRelay || !a.tlsClose) throw new NativeTlsUnavailableError(`native TLS is not available: ${problem ?? 'the addon lacks its functions'}`);
  if (!started) {
    a.tlsInit((handle, kind, facts) => listeners.get(handle)?.event(kind, facts));
    started = true;
  }
  return a as NativeTls;
}

/**
 * The handshake facts as much of Node's PeerCertificate as checkPeer, peerIdentity and
 * checkServerIdentity read: the leaf's DER, subject CN, names and validity dates.
 */
export function peerCertificateOf(facts: NativeTlsReady): PeerCertificate | undefined {
  const der = facts.chain[0];
  if (!der) return undefined;
  const x = new X509Certificate(der);
  const cn = /^CN=(.*)$/m.exec(x.subject)?.[1];
  return { raw: der, subject: { CN: cn }, subjectaltname: x.subjectAltName ?? '', valid_from: x.validFrom, valid_to: x.validTo } as unknown as PeerCertificate;
}

export type Verdict<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface HandshakeJudge<T> {
  timeoutMs: number;
  /** Whether the peer shown may have the session, and what the caller keeps of it. */
  judge(facts: NativeTlsReady): Verdict<T>;
  /** The words for a handshake OpenSSL failed. */
  failure(end: NativeTlsEnd): string;
  signal?: AbortSignal;
}

/**
 * Waits for session `handle`'s handshake and judges the peer. Refused, timed out or aborted, the
 * session is closed; accepted, it waits for relayToSocket.
 */
export function awaitHandshake<T>(handle: number, o: HandshakeJudge<T>): Promise<Verdict<T>> {
  const tls = nativeTls();
  return new Promise((resolve) => {
    const settle = (): boolean => {
      if (listeners.get(handle) !== pending) return false;
      listeners.delete(handle);
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const refuse = (reason: string): void => {
      if (!settle()) return;
      tls.tlsClose(handle);
      resolve({ ok: false, reason });
    };
    const onAbort = () => refuse('aborted');
    const pending: Pending = {
      event: (kind, facts) => {
        if (kind === 'failed') {
          if (settle()) resolve({ ok: false, reason: o.failure(facts) });
          return;
        }
        if (kind !== 'ready') return;
        const verdict = o.judge(facts);
        if (!verdict.ok) return refuse(verdict.reason);
        if (settle()) resolve(verdict);
      },
    };
    listeners.set(handle, pending);
    const timer = setTimeout(() => refuse(`TLS handshake not finished within ${o.timeoutMs / 1000} s`), o.timeoutMs);
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RelayedSession {
  /** The session's plaintext (a socketpair end): a plain socket, which the pump may carry. */
  socket: net.Socket;
  /** Resolves when the thread closed the session: why, and the plaintext bytes moved each way. */
  ended: Promise<NativeTlsEnd>;
}

/**
 * Starts the relay of an accepted session to a new socketpair whose JavaScript end becomes a
 * socket; a reason when it cannot (the session is closed then). Once that socket is closed the
 * thread sends close_notify and waits for the peer's: a peer that never answers is closed after
 * HANDSHAKE_TIMEOUT_MS, so that it does not hold a slot.
 */
export function relayToSocket(handle: number, allowHalfOpen: boolean): RelayedSession | string {
  const tls = nativeTls();
  let ended!: (end: NativeTlsEnd) => void;
  const endedPromise = new Promise<NativeTlsEnd>((resolve) => (ended = resolve));
  let over = false;
  // Listening before the relay starts: its first pass may already end the session.
  listeners.set(handle, {
    event: (kind, end) => {
      if (kind === 'ready') return;
      directEvent(handle, kind, end.reason);
      if (kind === 'detach') return;
      listeners.delete(handle);
      over = true;
      ended(end);
    },
  });
  const fd = tls.tlsRelay(handle);
  if (fd === undefined || fd < 0) {
    listeners.delete(handle);
    tls.tlsClose(handle);
    return `cannot relay the TLS session (errno ${fd === undefined ? 'none' : -fd})`;
  }
  const socket = new net.Socket({ fd, readable: true, writable: true, allowHalfOpen });
  registerNativeTlsSocket(socket, handle);
  socket.once('close', () => {
    if (over) return;
    const grace = setTimeout(() => {
      if (over) return;
      over = true;
      listeners.delete(handle);
      directEvent(handle, 'ended', 'closed');
      tls.tlsClose(handle);
      ended({ reason: 'closed (the peer did not answer our close_notify)', code: '', toPlain: 0, toTls: 0 });
    }, HANDSHAKE_TIMEOUT_MS);
    grace.unref();
  });
  return { socket, ended: endedPromise };
}
