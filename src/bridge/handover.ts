/**
 * Hands one session (of a served port, or of `bridge connect`) to native code and takes it back:
 * to the pump (native/pump.ts), or, for a session whose TLS is terminated natively, to the TLS thread,
 * which then joins its SSL session to the device itself (tls/native-direct.ts). The host says
 * which session may be carried; this module owns when to try, the handover of both fds, and the
 * count of what was moved. Taking a session back is synchronous and loses nothing: the bytes in
 * flight go to the host, which writes them on before anything read afterwards.
 */
import type { Duplex } from 'node:stream';
import { holdReads, NativePump, pumpAvailable, releaseReads, streamFd, type PumpReturn } from '../native/pump.js';
import { NativeTlsDirect } from '../tls/native-direct.js';

/** What carries a session natively: the pump, or native TLS straight to the device. */
interface Carrier {
  totals(): [number, number];
  stop(): PumpReturn;
}

/** A session the port would let the pump carry now, with its device and socket streams. */
export interface PumpCandidate<S> {
  session: S;
  device: Duplex;
  socket: Duplex;
}

export interface PumpHost<S> {
  /**
   * The session to pump now; 'later' when a side the host holds back (a full client buffer, a
   * device write waiting for drain) must clear first; undefined when it must not pump right now.
   * Bytes still queued inside either stream are checked here, for every host.
   */
  pumpable(): PumpCandidate<S> | 'later' | undefined;
  /** Bytes the pump moved since the last call: read from the device (to the socket), and to the device. */
  moved(session: S, toSocket: number, toDevice: number): void;
  /**
   * The session is the port's again, its socket reading. The port writes the bytes in flight on
   * (to the device, and as device output to the socket) and resumes the device. `ended`: the pump
   * met EOF, an error or a hangup, or could not take the session; do not offer it again.
   */
  returned(session: S, inFlight: { toDevice: Buffer; toSocket: Buffer }, ended: boolean): void;
}

const nothing = Buffer.alloc(0);

export class PumpHandover<S> {
  /** The pumped session (A = device, B = socket) and the totals already reported to the host. */
  private current: { session: S; socket: Duplex; pump: Carrier; counted: [number, number] } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: PumpHost<S>,
    private readonly enabled: boolean,
  ) {}

  get active(): boolean {
    return this.current !== undefined;
  }

  /** Which carries the session now: the pump, native TLS straight to the device, or nothing (JS). */
  get carrier(): 'native pump' | 'native TLS' | undefined {
    if (!this.current) return undefined;
    return this.current.pump instanceof NativeTlsDirect ? 'native TLS' : 'native pump';
  }

  /** Tries soon, once writes and resumes started now have settled. */
  schedule(delayMs = 0): void {
    if (this.current || this.timer || !pumpAvailable || !this.enabled) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, delayMs);
    this.timer.unref();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Reports what the pump moved so far (live statistics). */
  refresh(): void {
    if (this.current) this.report(...this.current.pump.totals());
  }

  /** Takes the session back from the pump, with its bytes in flight. Idempotent. */
  stop(): void {
    const c = this.current;
    if (!c) return;
    const r = c.pump.stop();
    this.report(r.movedToB, r.movedToA);
    this.current = undefined;
    // JS reads take over first; the end condition the pump met (EOF, EIO, reset) reaches them and
    // runs the usual handling. The bytes in flight are written on, synchronously, before any read.
    releaseReads(c.socket);
    this.host.returned(c.session, { toDevice: r.pendingToA, toSocket: r.pendingToB }, r.reason !== '');
  }

  private start(): void {
    if (this.current) return;
    const candidate = this.host.pumpable();
    if (!candidate) return;
    // Bytes still queued in a stream would be overtaken by the pump. Held sides and queues clear
    // by themselves as the data moves on, with no event that says so: look again shortly.
    const queued = (d: Duplex) => d.writableLength > 0 || d.readableLength > 0;
    if (candidate === 'later' || queued(candidate.device) || queued(candidate.socket)) return this.schedule(20);
    const { session, device, socket } = candidate;
    if (device.destroyed || socket.destroyed) return;
    const deviceFd = streamFd(device);
    const socketFd = streamFd(socket);
    if (deviceFd === undefined || socketFd === undefined) return;
    holdReads(device);
    holdReads(socket);
    // A session in native TLS goes straight from its SSL session to the device when it can.
    const onEnd = () => this.stop();
    const pump = NativeTlsDirect.start(deviceFd, socket, socketFd, onEnd) ?? NativePump.start(deviceFd, socketFd, onEnd);
    if (!pump) {
      // No free slot, or an fd the pump cannot take: this session stays in JS.
      releaseReads(socket);
      return this.host.returned(session, { toDevice: nothing, toSocket: nothing }, true);
    }
    this.current = { session, socket, pump, counted: [0, 0] };
  }

  private report(toSocket: number, toDevice: number): void {
    const c = this.current!;
    const [sentUp, sentDown] = c.counted;
    c.counted = [toSocket, toDevice];
    this.host.moved(c.session, toSocket - sentUp, toDevice - sentDown);
  }
}
