/**
 * A dial-in server: one listener, many callers, each its own PPP link (see caller.ts). Turns away,
 * with the reason logged, whoever the gate refuses; past `max` callers (or with the pool empty) a
 * modem caller is told BUSY after it dials and any other caller is closed. New settings (SIGHUP)
 * apply to the callers that come after; calls in progress go on with theirs.
 */
import type net from 'node:net';
import { LogLimiter } from '../bridge/log-limit.js';
import type { HostPort } from '../listen/address.js';
import { Listener } from '../listen/listener.js';
import type { TlsState } from '../tls/accepter.js';
import { Caller, type CallerInfo, type CallerSettings } from './caller.js';
import { CallerGate } from './gate.js';
import { AddressPool, interfaceIdAt } from './pool.js';

export interface CallerServerSettings extends CallerSettings {
  max: number;
  pool: AddressPool;
  gate: CallerGate;
  /** First IPv6 interface identifier (the pool's first address gets it), when IPv6 is on. */
  ipv6FirstId?: number;
}

export interface CallerServerOptions {
  name: string;
  address: HostPort;
  tls?: TlsState;
  settings: CallerServerSettings;
  log: (line: string) => void;
  /** A caller came or went (status file, status --watch). */
  onChange?: () => void;
}

/** How long a BUSY caller may take to dial (and how many bytes) before it is just closed. */
const BUSY_WAIT_MS = 5000;
const BUSY_BYTES = 256;

export class CallerServer {
  private readonly calls = new Set<Caller>();
  private readonly ending = new Set<Promise<void>>();
  private settings: CallerServerSettings;
  private closing = false;
  private readonly refusals: LogLimiter<{ line: string }>;

  private constructor(
    private readonly o: CallerServerOptions,
    private listener?: Listener,
  ) {
    this.settings = o.settings;
    this.refusals = new LogLimiter((e) => o.log(e.line), (n) => ({ line: `… ${n} more refusals suppressed` }));
  }

  static async open(o: CallerServerOptions): Promise<CallerServer> {
    const server = new CallerServer(o);
    server.listener = await Listener.open({
      name: o.name,
      address: o.address,
      ...(o.tls ? { tls: o.tls } : {}),
      onClient: (socket, peer) => server.accept(socket, peer.remote),
      onRefused: (remote, reason) => o.log(`${remote}: refused: ${reason}`),
    });
    return server;
  }

  get address(): HostPort {
    return this.listener!.address;
  }

  callers(): CallerInfo[] {
    return [...this.calls].map((c) => c.info());
  }

  /** Settings for callers from now on (a reloaded profile). */
  reconfigure(settings: CallerServerSettings): void {
    this.settings = settings;
  }

  /** Stops listening, ends every call and waits until every pppd has exited. */
  async close(): Promise<void> {
    this.closing = true;
    // net.Server's close waits for every connection: end the calls first, then wait for both.
    const listening = this.listener?.close();
    for (const c of this.calls) c.end('the server is stopping');
    await Promise.all(this.ending);
    await listening;
    this.refusals.flush();
  }

  private accept(socket: net.Socket, remote: string): void {
    const s = this.settings;
    if (this.closing) return void socket.destroy();
    const address = remote.slice(0, remote.lastIndexOf(':'));
    const admission = s.gate.admit(address, performance.now());
    if (!admission.ok) {
      this.refusals.log(admission.reason, { line: `${remote}: refused: ${admission.reason}` });
      return void socket.destroy();
    }
    const lease = this.calls.size < s.max ? s.pool.take() : undefined;
    if (!lease) {
      admission.release();
      this.o.log(`${remote}: busy: ${this.calls.size} caller(s) already (max ${s.max})`);
      if (s.protocol === 'modem') return tellBusy(socket);
      return void socket.destroy();
    }
    const ip6 = s.ipv6FirstId !== undefined ? interfaceIdAt(s.ipv6FirstId, lease.offset) : undefined;
    const prefix = `${this.o.name}[${remote} ${lease.ipv4}]`;
    const log = (line: string): void => this.o.log(`${prefix}: ${line}`);
    const caller = new Caller(socket, remote, lease, ip6, s, log, () => this.o.onChange?.());
    this.calls.add(caller);
    log('called');
    this.o.onChange?.();
    const done = caller.run().then((why) => {
      this.calls.delete(caller);
      s.pool.give(lease);
      admission.release();
      log(`hung up: ${why}`);
      this.o.onChange?.();
    });
    this.ending.add(done);
    void done.finally(() => this.ending.delete(done));
  }
}

/** A dialer past `max` hears BUSY once it has dialled (a line ending in CR), then the call ends. */
function tellBusy(socket: net.Socket): void {
  let heard = 0;
  const timer = setTimeout(() => socket.destroy(), BUSY_WAIT_MS);
  socket.on('error', () => {});
  socket.on('close', () => clearTimeout(timer));
  socket.on('data', (chunk: Buffer) => {
    heard += chunk.length;
    if (heard > BUSY_BYTES) return void socket.destroy();
    if (chunk.includes(13)) {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.end('\r\nBUSY\r\n');
    }
  });
}
