/**
 * Where every bridge connection comes from: ports, rotators and the control port all listen through
 * this one class, so they bind the same way, fail with the same words (`NAME: cannot listen on
 * HOST:PORT: address already in use`) and take TLS the same way. A listener hands on only clients
 * it accepted: with TLS, after the handshake and the certificate check; every refusal is reported
 * once, naming the peer and the reason.
 */
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { LaplinkError } from '../errors.js';
import { socketReason } from '../socket-reason.js';
import { LogLimiter } from '../bridge/log-limit.js';
import type { PeerIdentity } from '../tls/identity.js';
import type { AcceptLimits, TlsAccepter, TlsState } from '../tls/accepter.js';
import type { NativeTlsAccepter } from '../tls/native-accepter.js';
import { formatAddress, type HostPort } from './address.js';

export class ListenError extends LaplinkError {}

/** What a listener knows of a client it hands on. */
export interface Peer {
  /** `address:port` of the TCP peer. */
  remote: string;
  /** The peer's IP address alone (what allow-lists judge): the socket handed on may have none. */
  address: string;
  /** The client's certificate identity (TLS ports with client certificates). */
  identity?: PeerIdentity;
  /** The client came over TLS. */
  tls: boolean;
  /**
   * TLS was terminated on the addon's thread (native/tls.c): the socket handed on is one end of a
   * socketpair carrying the session's plaintext, which the native pump may carry. Without it, a TLS
   * socket's fd carries ciphertext and only JavaScript may read and write it.
   */
  tlsNative?: boolean;
}

export interface ListenerOptions {
  /** Who listens, for errors: a port name, a rotator's name, `control`. */
  name: string;
  address: HostPort;
  /** TLS under everything this listener hands on (loaded files and policy). */
  tls?: TlsState;
  tlsLimits?: AcceptLimits;
  /**
   * Terminate TLS on the addon's thread when the addon can (bridge ports and rotators: their bytes
   * then never cross the event loop). Falls back to Node's TLS when the addon has no TLS.
   */
  nativeTls?: boolean;
  onClient: (socket: net.Socket | TLSSocket, peer: Peer) => void;
  /** Why an address may not even start (a TLS handshake costs CPU and a pending slot); undefined: go on. */
  screen?: (address: string) => string | undefined;
  /** A connection turned away before it became a client (TLS handshake or certificate), for the
   *  log: past 10 of a kind in 10 s, one summary line stands for the rest. */
  onRefused?: (remote: string, reason: string) => void;
  /** Every refusal, as it happens, none summarised (counters). */
  countRefusal?: (reason: string) => void;
}

export class Listener {
  private readonly server: net.Server;
  private accepter: TlsAccepter | undefined;
  private nativeAccepter: NativeTlsAccepter | undefined;
  /** A flood of refused handshakes must not flood the log: at most 10 lines of a kind per 10 s. */
  private readonly refusals: LogLimiter<{ remote: string; reason: string }>;

  private constructor(private readonly o: ListenerOptions) {
    this.refusals = new LogLimiter(
      (e) => o.onRefused?.(e.remote, e.reason),
      (n, first, many) => ({ remote: '*', reason: `… ${n} more refusals ${many ? 'of other kinds' : `like "${first.reason}"`} suppressed` }),
    );
    // Paused on connect for native TLS: a byte Node read would be missing from the handshake.
    this.server = net.createServer({ highWaterMark: 64 * 1024, noDelay: true, pauseOnConnect: o.tls !== undefined && o.nativeTls === true }, (s) => this.connection(s));
  }

  /** Binds and resolves once listening; rejects with ListenError in the one wording. */
  static async open(o: ListenerOptions): Promise<Listener> {
    const l = new Listener(o);
    if (o.tls && o.nativeTls) l.nativeAccepter = await nativeAccepterFor(o.tls, o.tlsLimits);
    if (o.tls && !l.nativeAccepter) {
      const { TlsAccepter } = await import('../tls/accepter.js');
      l.accepter = new TlsAccepter(o.tls, o.tlsLimits);
    }
    await new Promise<void>((resolve, reject) => {
      l.server.once('error', reject);
      l.server.listen(o.address.port, o.address.host, () => {
        l.server.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      throw new ListenError(`${o.name}: cannot listen on ${formatAddress(o.address)}: ${socketReason(err)}`);
    });
    return l;
  }

  /** Where it listens, read once (a getsockname per call was a third of a 64-port showport). */
  get address(): HostPort {
    if (!this.bound) {
      const a = this.server.address() as net.AddressInfo;
      this.bound = { host: a.address, port: a.port };
    }
    return this.bound;
  }
  private bound: HostPort | undefined;

  get tls(): boolean {
    return this.accepter !== undefined || this.nativeAccepter !== undefined;
  }

  /** `required` / `optional` / `none` for a TLS listener; undefined for plain TCP. */
  get clientCert(): string | undefined {
    return (this.nativeAccepter ?? this.accepter)?.clientCert;
  }

  /** New certificate files and allow list for the handshakes from now on; sessions already open go on. */
  replaceTls(state: TlsState): void {
    (this.nativeAccepter ?? this.accepter)?.replace(state);
  }

  async close(): Promise<void> {
    this.refusals.flush();
    await new Promise<void>((r) => this.server.close(() => r()));
    this.nativeAccepter?.close();
    this.nativeAccepter = undefined;
  }

  private connection(raw: net.Socket): void {
    const address = raw.remoteAddress ?? '';
    const remote = `${address}:${raw.remotePort}`;
    const screened = this.tls && this.o.screen?.(address);
    if (screened) {
      raw.on('error', () => undefined);
      raw.destroy();
      this.o.countRefusal?.(screened);
      return this.refusals.log(screened, { remote, reason: screened });
    }
    const refused = (reason: string) => (this.o.countRefusal?.(reason), this.refusals.log(reason, { remote, reason }));
    if (this.nativeAccepter)
      return this.nativeAccepter.accept(raw, (session) => this.o.onClient(session.socket, { remote, address, identity: session.peer, tls: true, tlsNative: true }), refused);
    if (!this.accepter) return this.o.onClient(raw, { remote, address, tls: false });
    this.accepter.accept(raw, (socket, identity) => this.o.onClient(socket, { remote, address, identity, tls: true }), refused);
  }
}

/** Native TLS for this listener, or undefined when the addon cannot (built without OpenSSL's headers). */
async function nativeAccepterFor(state: TlsState, limits: AcceptLimits | undefined): Promise<NativeTlsAccepter | undefined> {
  const [{ NativeTlsAccepter }, { NativeTlsUnavailableError }] = await Promise.all([import('../tls/native-accepter.js'), import('../tls/native-session.js')]);
  try {
    return new NativeTlsAccepter(state.files, state.policy, limits);
  } catch (err) {
    if (err instanceof NativeTlsUnavailableError) return undefined;
    throw err;
  }
}
