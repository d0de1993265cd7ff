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
import type net from 'node:net';
import type { NativeTlsReady } from '../native/addon.js';
import { handshakeReason, HANDSHAKE_TIMEOUT_MS, MAX_PENDING_HANDSHAKES, type AcceptLimits, type TlsServerFiles, type TlsState } from './accepter.js';
import { TlsFileError } from './files.js';
import type { PeerIdentity } from './identity.js';
import { checkPeer, type PeerPolicy } from './peer-check.js';
import { awaitHandshake, nativeTls, peerCertificateOf, relayToSocket, type RelayedSession } from './native-session.js';

/** A session whose handshake passed the policy, its plaintext on a socket. */
export interface NativeTlsSession extends RelayedSession {
  peer: PeerIdentity | undefined;
  facts: NativeTlsReady;
}

const clientCertMode = { none: 0, optional: 1, required: 2 } as const;

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
    const tls = nativeTls();
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
    nativeTls().tlsContextFree(this.context);
    this.context = next;
    this.policy = { ...state.policy, clientCert: this.policy.clientCert };
  }

  /** Frees the context; sessions already accepted go on. */
  close(): void {
    nativeTls().tlsContextFree(this.context);
  }

  /** Runs the handshake on `raw` (which this takes over); exactly one of `accepted` or `refused` is called, once. */
  accept(raw: net.Socket, accepted: (session: NativeTlsSession) => void, refused: (reason: string) => void): void {
    const tls = nativeTls();
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
    void awaitHandshake(handle, {
      timeoutMs: this.timeoutMs,
      judge: (facts) => {
        const verdict = checkPeer(policy, { cert: peerCertificateOf(facts), chainError: facts.verifyError || undefined, now: new Date() });
        return verdict.ok ? { ok: true, value: { peer: verdict.identity, facts } } : verdict;
      },
      failure: (end) => handshakeReason(Object.assign(new Error(end.reason), { code: end.code || undefined })),
    }).then((verdict) => {
      this.pending--;
      if (!verdict.ok) return refused(verdict.reason);
      // Half-open: a client's close_notify ends what it sends, and device output may still reach it.
      const relayed = relayToSocket(handle, true);
      if (typeof relayed === 'string') return refused(relayed);
      accepted({ ...relayed, ...verdict.value });
    });
  }
}
