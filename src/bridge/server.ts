/**
 * One device served on one TCP port (ser2net's "connection", remserial's -p). Device output goes to
 * every client, input comes from all; every client has a bounded buffer and a full one either pauses
 * the device (`pause`: the device is never read faster than the slowest client) or drops that client
 * (`drop`). TCP input that the device cannot take yet pauses the socket. Nothing buffers unboundedly.
 */
import type net from 'node:net';
import type { Line, LineSettings } from '../line/line.js';
import { Listener, type Peer } from '../listen/listener.js';
import type { HostPort } from '../listen/address.js';
import type { TlsState } from '../tls/accepter.js';
import { describePeer } from '../tls/identity.js';
import { nativePumpMayCarry, rawCodec, transportFilter, type Codec, type CodecHost, type Filter } from './codec.js';
import type { EventSink } from './events.js';
import { AllowList } from './allow.js';
import { PumpHandover, type PumpCandidate } from './handover.js';
import { Tracer, type TraceOptions } from './trace.js';
import { optimizerNeeded } from '../runtime/optimizer.js';
import { REFUSALS } from './refusals.js';
import { LogLimiter, suppressedText } from './log-limit.js';
import { PortStats } from './port-stats.js';
import { lineFailureReason } from './line-failures.js';

import type { Protocol, SlowClientPolicy } from './port-options.js';
export type { Protocol, SlowClientPolicy } from './port-options.js';

export interface PortOptions {
  /** Name used in events, traces and the control port (e.g. the device path or the TCP port). */
  name: string;
  /** The device's path, as showport says it (the name may be a word of the config's). */
  device?: string;
  /** Opens (and re-opens after loss) the device. */
  open: () => Promise<Line>;
  /** Where to listen; undefined = no listener of its own (a rotator hands clients over). */
  listen?: HostPort;
  /** TLS under every session of this port (loaded certificate, key, CA and client policy). */
  tls?: TlsState;
  protocol?: Protocol;
  maxConnections?: number;
  kickOld?: boolean;
  slowClient?: SlowClientPolicy;
  /** Bytes queued for one client before the slow-client policy applies. */
  clientBuffer?: number;
  allow?: string[];
  banner?: string;
  /** Sent to the device when a client connects / disconnects (ser2net openstr/closestr). */
  openString?: string;
  closeString?: string;
  /** Seconds without traffic before a client is disconnected; 0 = never. */
  idleTimeout?: number;
  /** Milliseconds between device re-open attempts after loss (doubles up to 5 s). */
  reopenDelay?: number;
  /** Builds the codec for telnet/rfc2217 sessions (kept out of here so raw stays lean). */
  codecFor?: (protocol: Protocol, host: CodecHost) => Codec;
  trace?: TraceOptions;
  /** Let the native pump move a lone raw session's bytes (default true; false keeps them in JS). */
  nativePump?: boolean;
  /** Terminate TLS on the addon's thread when it can (default: as nativePump); false: Node's TLS. */
  nativeTls?: boolean;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

export interface Session {
  readonly id: number;
  readonly remote: string;
  /** Who the client is: its address and, on a TLS port with client certificates, its certificate. */
  readonly peer: Peer;
  readonly socket: net.Socket;
  readonly codec: Codec;
  /** The session's byte path, transport first: the native pump carries it only if every layer lets it. */
  readonly filters: readonly Filter[];
  readonly since: Date;
  bytesIn: number;
  bytesOut: number;
  /** Who is behind this client, as the control port's setclientlabel named them (the web's pages). */
  label?: string;
  /** The client's buffer is full and the device is paused for it. */
  blocked: boolean;
  /** Never pump this session again: the pump met its end (EOF, error, hangup), which JS reads must
   * now see, or had no free slot. */
  jsOnly?: boolean;
}

let nextSessionId = 1;

/** Protocol requests (RFC 2217) waiting to be applied before a client's socket is no longer read. */
const MAX_REQUEST_BACKLOG = 256;

export class BridgePort {
  readonly sessions = new Set<Session>();
  line: Line | undefined;
  protocol: Protocol;
  enabled = true;
  /** Clients refused and dropped by kind, client bytes and TLS handshakes since start (showport). */
  readonly stats = new PortStats();
  /** Bytes read from / written to the device since start (control port statistics). */
  deviceIn = 0;
  deviceOut = 0;
  idleTimeout: number;
  private listener: Listener | undefined;
  private readonly writeWaiters = new Set<net.Socket>();
  private readonly allowList: AllowList | undefined;
  private stopped = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  /** The line's settings when the device was lost (its configuration plus setportconfig's and RFC
   *  2217's changes): the reopened device gets them back, as a ser2net port keeps its configuration. */
  private lostSettings: LineSettings | undefined;
  private readonly monitors = new Set<(dir: 'read' | 'write', bytes: Buffer) => void>();
  /** Lends a lone raw session to the native pump, and takes it back whenever JS needs the bytes. */
  private readonly pump: PumpHandover<Session>;
  /** Why a client's socket is not read besides a busy device: its replies wait unread, or its
   * requests wait to be applied (protocol requests are paused like data, never queued unbounded). */
  private readonly held = new WeakMap<net.Socket, Set<'replies' | 'requests'>>();
  /** Protocol messages (telnet/RFC 2217 oddities a client can cause at will), rate-limited per port. */
  private readonly protocolLog = new LogLimiter<Parameters<EventSink>[0]>(
    (e) => this.emit(e),
    (n, first, many) => ({ ...first, remote: '*', message: suppressedText(n, first.type === 'protocol' ? first.message : '', many) }),
  );

  constructor(readonly options: PortOptions) {
    this.protocol = options.protocol ?? 'raw';
    this.idleTimeout = options.idleTimeout ?? 0;
    this.allowList = options.allow?.length ? new AllowList(options.allow) : undefined;
    this.pump = new PumpHandover<Session>(
      {
        pumpable: () => this.pumpable(),
        moved: (s, toSocket, toDevice) => this.countPumped(s, toSocket, toDevice),
        returned: (s, inFlight, ended) => this.fromPump(s, inFlight, ended),
      },
      options.nativePump !== false,
    );
    const tracer = options.trace ? new Tracer(options.trace) : undefined;
    if (tracer?.active) {
      optimizerNeeded(); // a trace formats every byte in JS
      this.tracer = tracer;
      this.monitor((dir, bytes) => tracer.data(dir, bytes));
    }
  }

  private tracer: Tracer | undefined;

  /** Who moves the bytes right now (control port `showport`). */
  get dataPath(): 'native pump' | 'native TLS' | 'javascript' {
    return this.pump.carrier ?? 'javascript';
  }

  get address(): HostPort | undefined {
    return this.listener?.address;
  }

  /** `required` / `optional` / `none` when the port is TLS; undefined for plain TCP (showport). */
  get tlsClientCert(): string | undefined {
    return this.listener?.clientCert;
  }

  /** TLS terminated natively: its bytes then never cross the event loop; --no-native-pump keeps them in JS. */
  get nativeTls(): boolean {
    return this.options.nativeTls ?? this.options.nativePump !== false;
  }

  /** New certificate files and allow list: handshakes from now on use them, sessions go on. */
  replaceTls(state: TlsState): void {
    this.listener?.replaceTls(state);
  }

  /** Opens the device, then listens. Rejects with LineError / ListenError; nothing left running. */
  async start(): Promise<HostPort> {
    await this.attach(await this.options.open());
    this.options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
    if (this.options.listen === undefined) return { host: '', port: 0 };
    try {
      this.listener = await Listener.open({
        name: this.options.name,
        address: this.options.listen,
        tls: this.options.tls,
        nativeTls: this.nativeTls,
        onClient: (socket, peer) => this.adopt(socket, peer),
        // The address allow-list before any TLS handshake: outsiders get no handshake slot to fill.
        screen: (address) => (this.allowList && !this.allowList.allows(address) ? 'not in allow-list' : undefined),
        // counted for every refusal; the log line (and its event) is rate-limited into summaries
        countRefusal: (reason) => this.stats.refusal(reason, true),
        onRefused: (remote, reason) => this.emit({ type: 'refused', port: this.options.name, remote, reason }),
      });
    } catch (err) {
      await this.stop();
      throw err;
    }
    const addr = this.listener.address;
    this.emit({ type: 'listening', port: this.options.name, host: addr.host, tcpPort: addr.port, tls: this.listener.tls });
    return addr;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reopenTimer);
    this.pump.cancel();
    for (const s of this.sessions) this.drop(s, 'server stopping');
    const closing = this.listener?.close() ?? Promise.resolve();
    await this.line?.close();
    await closing;
    await this.tracer?.close();
    this.protocolLog.flush();
  }

  /** Reopens this port's trace files by name (SIGHUP after logrotate); false when it has none. */
  reopenTrace(): boolean {
    this.tracer?.reopen();
    return this.tracer !== undefined;
  }

  /** Observe every byte (control-port monitor, trace files). Returns the unsubscribe function. */
  monitor(fn: (dir: 'read' | 'write', bytes: Buffer) => void): () => void {
    this.pump.stop();
    this.monitors.add(fn);
    return () => {
      this.monitors.delete(fn);
      this.schedulePump();
    };
  }

  disconnect(id: number, reason = 'disconnected by control port'): boolean {
    for (const s of this.sessions) if (s.id === id) return this.drop(s, reason), true;
    return false;
  }

  // ---- device side ----------------------------------------------------------------------------

  /** Gives a reopened device the settings the lost one had; why not, when it refuses them. */
  private async restoreSettings(line: Line): Promise<string | undefined> {
    const settings = this.lostSettings;
    this.lostSettings = undefined;
    if (!settings) return undefined;
    try {
      await line.apply(settings);
      return undefined;
    } catch (err) {
      return `kept its configured settings: ${lineFailureReason(err)}`;
    }
  }

  private async attach(line: Line, detail?: string): Promise<void> {
    this.line = line;
    const stream = line.stream;
    stream.on('data', (chunk: Buffer) => this.fromDevice(chunk));
    stream.on('drain', () => {
      for (const s of this.writeWaiters) if (!this.held.get(s)?.size) s.resume();
      this.writeWaiters.clear();
      this.schedulePump();
    });
    if (this.sessions.size === 0) stream.pause(); // let data wait in the tty until someone listens
    this.emit({ type: 'device', port: this.options.name, state: 'open', ...(detail ? { detail } : {}) });
    void line.closed.then((why) => {
      if (why !== 'closed' && !this.stopped) this.lost(why);
    });
  }

  private lost(why: string): void {
    this.pump.stop();
    this.lostSettings = this.line?.settings;
    this.line = undefined;
    this.writeWaiters.clear();
    this.emit({ type: 'device', port: this.options.name, state: 'gone', detail: why });
    for (const s of this.sessions) {
      if (this.options.closeString) s.socket.write(this.options.closeString);
      this.drop(s, 'device gone');
    }
    this.scheduleReopen(this.options.reopenDelay ?? 100);
  }

  private scheduleReopen(delay: number): void {
    if (this.stopped) return;
    this.reopenTimer = setTimeout(async () => {
      try {
        const line = await this.options.open();
        if (this.stopped) return void line.close();
        const kept = await this.restoreSettings(line);
        await this.attach(line, kept);
      } catch (err) {
        this.emit({ type: 'device', port: this.options.name, state: 'reopen-failed', detail: (err as Error).message });
        this.scheduleReopen(Math.min(delay * 2, 5000));
      }
    }, delay);
    this.reopenTimer.unref?.();
  }

  private fromDevice(chunk: Buffer): void {
    this.deviceIn += chunk.length;
    if (this.monitors.size) for (const m of this.monitors) m('read', chunk);
    const limit = this.options.clientBuffer ?? 64 * 1024;
    const pausePolicy = (this.options.slowClient ?? 'pause') === 'pause';
    for (const s of this.sessions) {
      const out = s.codec === rawCodec ? chunk : s.codec.encode(chunk);
      s.bytesOut += chunk.length;
      const ok = s.socket.write(out);
      if (pausePolicy) {
        if (!ok && !s.blocked) this.block(s);
      } else if (s.socket.writableLength > limit) {
        this.drop(s, `client too slow (${s.socket.writableLength} bytes queued)`);
      }
    }
  }

  private block(s: Session): void {
    s.blocked = true;
    this.line?.stream.pause();
    s.socket.once('drain', () => {
      s.blocked = false;
      this.maybeResume();
    });
  }

  private maybeResume(): void {
    if (!this.line || this.sessions.size === 0) return;
    for (const s of this.sessions) if (s.blocked || s.codec.suspended?.()) return;
    this.line.stream.resume();
    this.schedulePump();
  }

  // ---- native pump ----------------------------------------------------------------------------
  // A lone raw session with nobody watching is socat's job: a read and a write per chunk. The
  // native pump does that on its own thread; everything else (several clients, telnet and RFC
  // 2217, monitors, traces, idle timeouts, slow-client drop) needs the bytes in JS, and
  // whatever brings one of those about stops the pump first, synchronously, losing nothing.

  /**
   * Tries the pump soon, unless the lone session is one it may never carry (TLS, a codec, or the
   * pump already gave it back for good): the try would only find that out again, on a timer armed
   * at every drain, thousands of times a second under bulk data.
   */
  private schedulePump(): void {
    const [s] = this.sessions;
    if (this.sessions.size === 1 && (s!.jsOnly || !nativePumpMayCarry(s!.filters))) return;
    this.pump.schedule();
  }

  /** The session the pump may carry now (see PumpHost.pumpable). */
  private pumpable(): PumpCandidate<Session> | 'later' | undefined {
    const line = this.line;
    const [s] = this.sessions;
    if (this.stopped || !line || !s || this.sessions.size !== 1) return undefined;
    // `drop` must see the client's queue grow to drop it; the pump would just hold the device back.
    const dropsSlowClients = this.options.slowClient === 'drop';
    if (s.jsOnly || !nativePumpMayCarry(s.filters) || this.monitors.size || this.idleTimeout > 0 || dropsSlowClients) return undefined;
    if (s.blocked || this.writeWaiters.size) return 'later'; // a side held back would be overtaken
    return { session: s, device: line.stream, socket: s.socket };
  }

  private countPumped(s: Session, toSocket: number, toDevice: number): void {
    this.deviceIn += toSocket;
    s.bytesOut += toSocket;
    this.deviceOut += toDevice;
    s.bytesIn += toDevice;
  }

  /** Brings the statistics up to date while the pump runs (control port). */
  refreshCounters(): void {
    this.pump.refresh();
  }

  /** The session is back from the pump: its bytes in flight go on first, then the device resumes. */
  private fromPump(s: Session, inFlight: { toDevice: Buffer; toSocket: Buffer }, ended: boolean): void {
    if (ended) s.jsOnly = true;
    if (inFlight.toDevice.length) this.toDevice(s, inFlight.toDevice);
    if (inFlight.toSocket.length) this.fromDevice(inFlight.toSocket);
    this.maybeResume();
  }

  // ---- client side ----------------------------------------------------------------------------

  /** Can take one more client right now (rotators pick the first such port). */
  get free(): boolean {
    return this.enabled && this.line !== undefined && this.sessions.size < (this.options.maxConnections ?? 1);
  }

  /** Serves an accepted client socket (from our listener or a rotator's), already through its TLS layer if any. */
  adopt(socket: net.Socket, peer: Peer): void {
    const remote = peer.remote;
    const refuse = (reason: string, text?: string) => {
      this.stats.refusal(reason, false);
      this.emit({ type: 'refused', port: this.options.name, remote, reason });
      socket.on('error', () => undefined);
      if (!text) return void socket.destroy();
      // Discard whatever the client already sent: unread input would keep 'end' from ever firing
      // and the socket (an fd) would live forever. Destroy anyway if the client never closes.
      socket.resume();
      socket.on('end', () => socket.destroy());
      socket.end(text);
      setTimeout(() => socket.destroy(), 2000).unref();
    };
    if (this.allowList && !this.allowList.allows(peer.address)) return refuse('not in allow-list');
    if (!this.enabled) return refuse('port disabled', REFUSALS.disabled);
    if (!this.line) return refuse('device unavailable', REFUSALS.unavailable);
    const max = this.options.maxConnections ?? 1;
    if (this.sessions.size >= max) {
      if (!this.options.kickOld) return refuse('port in use', REFUSALS.inUse);
      const oldest = this.sessions.values().next().value as Session;
      this.pump.stop(); // the kick message goes after the bytes in flight
      oldest.socket.write('kicked off, new user is coming\r\n');
      this.drop(oldest, 'kicked by a new user');
    }
    this.pump.stop(); // a second session: device output must reach both from now on
    socket.setNoDelay(true);
    // Replies made while one chunk is decoded go out as one write (a flood of DO requests would
    // otherwise queue one write request per 3-byte reply); replies count against the client's buffer.
    let batch: Buffer[] | undefined;
    const host: CodecHost = {
      reply: (b) => {
        if (batch) return void batch.push(b);
        socket.write(b);
        this.afterReply(s);
      },
      line: () => this.line,
      settled: () => this.release(s, 'requests'),
      log: (message) => this.protocolLog.log(message, { type: 'protocol', port: this.options.name, remote, message }),
      flow: (suspend) => (suspend ? this.line?.stream.pause() : this.maybeResume()),
    };
    const codec = this.protocol === 'raw' || !this.options.codecFor ? rawCodec : this.options.codecFor(this.protocol, host);
    const filters = [transportFilter(peer), codec];
    // Bytes the pump may never carry go through JS chunk by chunk (telnet and RFC 2217 look at every
    // byte; TLS en- and decrypts every record there): unoptimized, Node's stream code on that path
    // added about 40 µs to a TLS round trip (p50 145 µs against 106 µs, measured on a pty pair).
    if (!nativePumpMayCarry(filters)) optimizerNeeded();
    const s: Session = { id: nextSessionId++, remote, peer, socket, codec, filters, since: new Date(), bytesIn: 0, bytesOut: 0, blocked: false };
    this.sessions.add(s);
    if (peer.tls) this.stats.tlsAccepted++;
    const client = peer.identity ? describePeer(peer.identity) : undefined;
    this.emit({ type: 'connect', port: this.options.name, remote, tls: peer.tls, client });
    this.tracer?.event(`OPEN (${remote}${client ? ` ${client}` : ''})`);
    const greet = codec.greeting();
    if (greet.length) socket.write(greet);
    if (this.options.banner) socket.write(this.options.banner);
    if (this.options.openString) this.toDevice(s, Buffer.from(this.options.openString));
    if (this.idleTimeout > 0) {
      socket.setTimeout(this.idleTimeout * 1000);
      socket.on('timeout', () => this.drop(s, 'idle timeout'));
    }
    socket.on('data', (chunk: Buffer) => {
      if (codec === rawCodec) return this.toDevice(s, chunk);
      batch = [];
      const data = codec.decode(chunk);
      const replies = batch;
      batch = undefined;
      if (replies.length) {
        socket.write(replies.length === 1 ? replies[0]! : Buffer.concat(replies));
        this.afterReply(s);
      }
      if ((codec.backlog?.() ?? 0) > MAX_REQUEST_BACKLOG) this.hold(s, 'requests');
      if (data.length && this.sessions.has(s)) this.toDevice(s, data);
    });
    socket.on('end', () => this.drop(s, 'client closed'));
    socket.on('error', (err) => this.drop(s, `socket error: ${err.message}`));
    socket.on('close', () => this.drop(s, 'client closed'));
    this.maybeResume();
  }

  /**
   * A client that does not read its replies is a slow client: with `pause` its requests are no
   * longer read until it drains them, with `drop` it goes once more than clientBuffer bytes wait.
   */
  private afterReply(s: Session): void {
    if (!this.sessions.has(s)) return;
    const socket = s.socket;
    if (this.options.slowClient === 'drop') {
      const limit = this.options.clientBuffer ?? 64 * 1024;
      if (socket.writableLength > limit) this.drop(s, `client too slow (${socket.writableLength} bytes of replies queued)`);
      return;
    }
    if (!socket.writableNeedDrain || this.held.get(socket)?.has('replies')) return;
    this.hold(s, 'replies');
    socket.once('drain', () => this.release(s, 'replies'));
  }

  private hold(s: Session, why: 'replies' | 'requests'): void {
    let reasons = this.held.get(s.socket);
    if (!reasons) this.held.set(s.socket, (reasons = new Set()));
    reasons.add(why);
    s.socket.pause();
  }

  private release(s: Session, why: 'replies' | 'requests'): void {
    const reasons = this.held.get(s.socket);
    if (!reasons?.delete(why) || reasons.size || !this.sessions.has(s) || this.writeWaiters.has(s.socket)) return;
    s.socket.resume();
  }

  private toDevice(s: Session, data: Buffer): void {
    const line = this.line;
    if (!line) return;
    s.bytesIn += data.length;
    this.deviceOut += data.length;
    if (this.monitors.size) for (const m of this.monitors) m('write', data);
    if (!line.stream.write(data)) {
      s.socket.pause();
      this.writeWaiters.add(s.socket);
    }
  }

  /** Ends one session; idempotent. */
  drop(s: Session, reason: string): void {
    if (!this.sessions.has(s)) return;
    this.pump.stop();
    this.sessions.delete(s);
    this.stats.ended(reason, s.bytesIn, s.bytesOut);
    this.writeWaiters.delete(s.socket);
    s.codec.dispose?.();
    this.emit({ type: 'disconnect', port: this.options.name, remote: s.remote, reason });
    this.tracer?.event(`CLOSE (${s.remote}): ${reason}`);
    // ser2net sends closestr only when the last client has gone.
    if (this.options.closeString && this.line && this.sessions.size === 0 && reason !== 'device gone') this.line.stream.write(this.options.closeString);
    s.socket.setTimeout(0);
    s.socket.destroySoon?.();
    s.socket.end();
    // A client that neither reads nor closes goes after a second; one that closes is not kept that long.
    const kill = setTimeout(() => s.socket.destroy(), 1000).unref();
    s.socket.once('close', () => clearTimeout(kill));
    if (this.sessions.size === 0) this.line?.stream.pause();
    else this.maybeResume();
  }

  private emit(e: Parameters<EventSink>[0]): void {
    this.options.onEvent?.(e);
  }
}
