/**
 * TLS terminated in C (native/tls.c): the same contract as TlsAccepter (a socket in; accepted with
 * the peer's identity, or refused with one reason in the same words), but the handshake and then
 * the session's bytes run on the addon's own thread. What JavaScript gets is the handshake's facts,
 * judged here by checkPeer, and after acceptance a plain socket over a socketpair carrying the
 * session's plaintext: nothing above needs to know TLS is involved.
 *
 * The listener uses it for bridge ports and rotators (src/listen/listener.ts). The raw socket must
 * come from a server made with `pauseOnConnect: true`: a byte Node read from it would be missing
 * from the handshake.
 */
import net from 'node:net';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { addon, type NativeTlsEnd, type NativeTlsEventKind, type NativeTlsReady } from '../native/addon.js';
import { LaplinkError } from '../errors.js';
import { handshakeReason, HANDSHAKE_TIMEOUT_MS, MAX_PENDING_HANDSHAKES, type AcceptLimits, type TlsServerFiles, type TlsState } from './accepter.js';
import { TlsFileError } from './files.js';
import type { PeerIdentity } from './identity.js';
import { checkPeer, type PeerPolicy } from './peer-check.js';
import { directEvent, nativeTlsProblem, registerNativeTlsSocket } from './native-direct.js';

export class NativeTlsUnavailableError extends LaplinkError {}

/** A session whose handshake passed the policy, relayed straight to a device: the peer's facts, and how it ended. */
export interface NativeTlsDeviceSession {
  peer: PeerIdentity | undefined;
  facts: NativeTlsReady;
  /** Resolves when the thread closed the session: why, and the plaintext bytes moved each way. */
  ended: Promise<NativeTlsEnd>;
}

/** A session whose handshake passed the policy, its plaintext on a socket. */
export interface NativeTlsSession extends NativeTlsDeviceSession {
  socket: net.Socket;
}

export interface Pending {
  event(kind: NativeTlsEventKind, facts: NativeTlsReady & NativeTlsEnd): void;
}

/** One dispatcher per process: the addon has one thread and one callback for every session. */
export const listeners = new Map<number, Pending>();
let started = false;

export function native(): Required<Pick<NonNullable<typeof addon>, 'tlsInit' | 'tlsContext' | 'tlsContextFree' | 'tlsAccept' | 'tlsRelay' | 'tlsClose'>> {
  const a = addon;
  const problem = nativeTlsProblem();
  if (problem || !a?.tlsInit || !a.tlsContext || !a.tlsContextFree || !a.tlsAccept || !a.tlsRelay || !a.tlsClose) throw new NativeTlsUnavailableError(`native TLS is not available: ${problem ?? 'the addon lacks its functions'}`);
  if (!started) {
    a.tlsInit((handle, kind, facts) => listeners.get(handle)?.event(kind, facts));
    started = true;
  }
  return a as ReturnType<typeof native>;
}

const clientCertMode = { none: 0, optional: 1, required: 2 } as const;

/**
 * The handshake facts as much of Node's PeerCertificate as checkPeer and peerIdentity read: the
 * leaf's DER, subject CN and validity dates.
 */
export function peerCertificateOf(facts: NativeTlsReady): PeerCertificate | undefined {
  const der = facts.chain[0];
  if (!der) return undefined;
  const x = new X509Certificate(der);
  const cn = /^CN=(.*)$/m.exec(x.subject)?.[1];
  return { raw: der, subject: { CN: cn }, valid_from: x.validFrom, valid_to: x.validTo } as unknown as PeerCertificate;
}

export class NativeTlsAccepter {
  private context: number;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  /** Handshakes started and not yet judged: past maxPending, a new connection is turned away at once. */
  private pending = 0;

  /** Reads the files now; a file OpenSSL cannot use is a TlsFileError naming it. */
  constructor(
    files: TlsServerFiles,
    private policy: PeerPolicy,
    limits: AcceptLimits = {},
  ) {
    this.context = NativeTlsAccepter.contextFor(files, policy.clientCert);
    this.timeoutMs = limits.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    this.maxPending = limits.maxPending ?? MAX_PENDING_HANDSHAKES;
  }

  private static contextFor(files: TlsServerFiles, clientCert: PeerPolicy['clientCert']): number {
    const tls = native();
    try {
      return tls.tlsContext(files.cert, files.key, files.ca ?? '', clientCertMode[clientCert]);
    } catch (err) {
      throw new TlsFileError((err as Error).message.replace(/^tls: /, ''));
    }
  }

  get clientCert(): PeerPolicy['clientCert'] {
    return this.policy.clientCert;
  }

  /**
   * The files read again and the allow list replaced, for the handshakes that start from now on
   * (sessions and handshakes already under way keep the context they began with: OpenSSL counts
   * its users). Whether client certificates are asked for stays, as with TlsAccepter.
   */
  replace(state: TlsState): void {
    const next = NativeTlsAccepter.contextFor(state.files, this.policy.clientCert);
    native().tlsContextFree(this.context);
    this.context = next;
    this.policy = { ...state.policy, clientCert: this.policy.clientCert };
  }

  /** Frees the context; sessions already accepted go on. */
  close(): void {
    native().tlsContextFree(this.context);
  }

  /** Runs the handshake on `raw` (which this takes over); exactly one of `accepted` or `refused` is called, once. */
  accept(raw: net.Socket, accepted: (session: NativeTlsSession) => void, refused: (reason: string) => void): void {
    this.handshake(raw, refused, (handle, facts, peer) => {
      const relayed = this.relay(handle, undefined, refused);
      if (!relayed) return;
      const socket = new net.Socket({ fd: relayed.fd, readable: true, writable: true, allowHalfOpen: true });
      registerNativeTlsSocket(socket, handle);
      accepted({ socket, peer, facts, ended: relayed.ended });
    });
  }

  /**
   * The same, but an accepted session's plaintext goes straight between the SSL session and
   * `deviceFd` (nonblocking; the caller keeps it open) on the thread, with no JavaScript in between.
   * The session ends with the client's end; a device has no half-close. The addon keeps the event
   * loop alive until `ended` (there is no socket to do it).
   */
  acceptToDevice(raw: net.Socket, deviceFd: number, accepted: (session: NativeTlsDeviceSession) => void, refused: (reason: string) => void): void {
    this.handshake(raw, refused, (handle, facts, peer) => {
      const relayed = this.relay(handle, deviceFd, refused);
      if (relayed) accepted({ peer, facts, ended: relayed.ended });
    });
  }

  private handshake(raw: net.Socket, refused: (reason: string) => void, passed: (handle: number, facts: NativeTlsReady, peer: PeerIdentity | undefined) => void): void {
    const tls = native();
    const fd = (raw as net.Socket & { _handle?: { fd?: number } })._handle?.fd;
    if (fd === undefined || fd < 0) return void raw.destroy();
    if (this.pending >= this.maxPending) {
      raw.destroy();
      return refused(`${this.maxPending} TLS handshakes already pending`);
    }
    const handle = tls.tlsAccept(this.context, fd);
    // The thread works on its own copy of the fd; Node's is closed without a shutdown.
    raw.destroy();
    if (handle < 0) return refused('too many TLS sessions');
    this.pending++;
    // The policy the handshake began under judges it, whatever a reload does meanwhile.
    const policy = this.policy;
    const settle = (): boolean => {
      if (listeners.get(handle) !== pending) return false;
      listeners.delete(handle);
      clearTimeout(timer);
      this.pending--;
      return true;
    };
    const refuse = (reason: string): void => {
      if (!settle()) return;
      tls.tlsClose(handle);
      refused(reason);
    };
    const pending: Pending = {
      event: (kind, facts) => {
        if (kind === 'failed') {
          if (settle()) refused(handshakeReason(Object.assign(new Error(facts.reason), { code: facts.code || undefined })));
          return;
        }
        if (kind !== 'ready') return;
        const verdict = checkPeer(policy, { cert: peerCertificateOf(facts), chainError: facts.verifyError || undefined, now: new Date() });
        if (!verdict.ok) return refuse(verdict.reason);
        if (settle()) passed(handle, facts, verdict.identity);
      },
    };
    listeners.set(handle, pending);
    const timer = setTimeout(() => refuse(`TLS handshake not finished within ${this.timeoutMs / 1000} s`), this.timeoutMs);
  }

  /** Starts the relay (to a new socketpair, or to `deviceFd`); undefined after refusing when it cannot. */
  private relay(handle: number, deviceFd: number | undefined, refused: (reason: string) => void): { fd: number; ended: Promise<NativeTlsEnd> } | undefined {
    const tls = native();
    let ended!: (end: NativeTlsEnd) => void;
    const endedPromise = new Promise<NativeTlsEnd>((resolve) => (ended = resolve));
    // Listening before the relay starts: its first pass may already end the session.
    listeners.set(handle, {
      event: (kind, end) => {
        if (kind === 'ready') return;
        directEvent(handle, kind, end.reason);
        if (kind === 'detach') return;
        listeners.delete(handle);
        ended(end);
      },
    });
    const fd = deviceFd === undefined ? tls.tlsRelay(handle) : tls.tlsRelay(handle, deviceFd);
    if (fd === undefined || fd < 0) {
      listeners.delete(handle);
      tls.tlsClose(handle);
      refused(`cannot relay the TLS session (errno ${fd === undefined ? 'none' : -fd})`);
      return undefined;
    }
    return { fd, ended: endedPromise };
  }
}
