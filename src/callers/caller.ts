/**
 * One caller's whole call: its handshake under an idle timeout and a byte bound, then its own
 * pseudo-terminal and its own pppd, bytes pumped both ways, and everything undone when either side
 * hangs up: pppd ended (TERM, then KILL after the grace), the pty closed, the socket destroyed.
 * A modem caller's connection is its serial port and outlives a call: after `+++` `ATH`, or pppd
 * ending (NO CARRIER), its pppd and pty go and it may dial again. The address lease is the
 * server's: it is given back when the connection ends.
 */
import type { CallerStatus } from '../pppd/state.js';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type net from 'node:net';
import { execa, type ResultPromise } from 'execa';
import { openPtyLine, type PtyLine } from '../line/pty.js';
import { CallerDropped, CodedSocket, type Transport } from './coded-socket.js';
import { awaitFirstFrame } from './first-frame.js';
import { handshake, type CallerProtocol, type HandshakeResult } from './handshake.js';
import type { EngineEvent, ModemEngine } from '../modem/engine.js';
import { eventLogLine } from '../modem/event-log.js';
import { OnlineModem } from '../modem/online.js';
import type { Lease } from './pool.js';

export interface CallerSettings {
  protocol: CallerProtocol;
  transport: Transport;
  /** Dropped when silent this long before PPP starts; a call ended when no PPP frame came this long after pppd could hear it. */
  idleMs: number;
  /** Bytes a caller may send before its handshake completes. */
  handshakeBytes: number;
  connectSpeed: number;
  pppd: string;
  /** pppd's argv for this caller: its pty and its lease. */
  pppdArgs(device: string, lease: Lease): string[];
  env?: Record<string, string>;
  /** SIGTERM → SIGKILL for pppd. */
  graceMs: number;
  /** Where the caller's pty link is made (NAME-caller-N → /dev/pts/M). */
  runDir: string;
  name: string;
}

/**
 * pppd has set up its tty: it prints these once the line is configured (a flush of what the tty
 * held) and in PPP's line discipline (another). A caller's bytes written before then are lost, and
 * with them its first LCP Configure-Request: a whole restart interval per call.
 */
const PPPD_TTY_READY = /^(?:Using interface |Connect: )/;
/** When pppd says neither (its log goes elsewhere), the caller's bytes flow after this long: pppd's default LCP restart interval. */
const PPPD_TTY_CEILING_MS = 3000;
/**
 * pppd has ended the link and closed its tty; it exits only once its ip-down scripts are done,
 * seconds later on a busy machine. A modem's dialer hears NO CARRIER now, not then.
 */
const PPPD_LINK_ENDED = /^Connection terminated\./;

/** What a caller had just heard when its pppd started: the reason a call ends without PPP names it. */
const PPPD_STARTED_AFTER: Record<CallerProtocol, string> = { modem: 'CONNECT', dcc: 'CLIENTSERVER', ppp: 'pppd starting' };

/** Why a call ended while its line stayed: the dialer hung up (ATH), or pppd ended it. */
interface CallEnd {
  why: string;
  byDialer: boolean;
  /** pppd ended the link and is still finishing (its scripts): let it exit by itself. */
  pppdFinishing?: boolean;
}

/** What the state file and `status` show of a call. */
export type CallerInfo = CallerStatus;

export class Caller {
  readonly since = new Date();
  private readonly line: CodedSocket;
  private pty: PtyLine | undefined;
  private child: ResultPromise | undefined;
  /** A modem caller's modem while its call runs (it watches for `+++`). */
  private online: OnlineModem | undefined;
  /** Stops the wait for this call's first PPP frame. */
  private stopFirstFrameWait: (() => void) | undefined;
  /** The previous call's pppd, exiting after its scripts: the next call's pppd starts after it. */
  private finishing: Promise<void> = Promise.resolve();
  private dialled: string | undefined;
  private readonly hangUp = new AbortController();

  constructor(
    socket: net.Socket,
    readonly remote: string,
    readonly lease: Lease,
    readonly ip6: string | undefined,
    private readonly s: CallerSettings,
    private readonly log: (line: string) => void,
    /** The call's state changed (pppd started or ended): the status file shows it at once. */
    private readonly changed: () => void = () => {},
  ) {
    this.line = new CodedSocket(socket, s.transport, log);
    this.line.on('error', () => {}); // the reason reaches run() through 'close'
  }

  info(): CallerInfo {
    return {
      remote: this.remote,
      ip: this.lease.ipv4,
      ...(this.ip6 ? { ip6: this.ip6 } : {}),
      since: this.since.toISOString(),
      state: this.child ? 'running' : 'handshaking',
      bytesIn: this.line.bytesIn,
      bytesOut: this.line.bytesOut,
      ...(this.dialled !== undefined ? { dialled: this.dialled } : {}),
      ...(this.child?.pid !== undefined ? { pppdPid: this.child.pid } : {}),
    };
  }

  /** Ends the call (server stop, reload that drops callers): pppd ends, then everything else. */
  end(reason: string): void {
    this.hangUp.abort(reason);
  }

  /** Runs the call to its end; resolves with why it ended and never rejects. */
  async run(): Promise<string> {
    try {
      return await this.call();
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      await this.teardown();
    }
  }

  private async call(): Promise<string> {
    const closed = new Promise<string>((resolve) => this.line.once('close', () => resolve(this.line.errored?.message ?? 'the caller hung up')));
    const aborted = new Promise<string>((resolve) => {
      if (this.hangUp.signal.aborted) resolve(String(this.hangUp.signal.reason));
      this.hangUp.signal.addEventListener('abort', () => resolve(String(this.hangUp.signal.reason)), { once: true });
    });
    let modem: ModemEngine | undefined;
    for (;;) {
      const result = await this.handshake(closed, modem);
      modem = result.modem;
      this.dialled = result.dialled;
      if (this.dialled !== undefined) this.log(`dialled ${this.dialled}`);
      const { over } = await this.startPppd(modem);
      const end = await Promise.race([closed.then((why) => ({ line: why })), aborted.then((why) => ({ line: why })), over]);
      if ('line' in end) return end.line;
      if (!modem) return end.why;
      // A modem's call is over and its line is not (an emulator's serial port is the connection):
      // pppd and the pty go, the dialer hears it and may dial again on the same connection.
      await this.endCall(end.pppdFinishing);
      if (!end.byDialer) for (const e of modem.carrierLost()) this.tell(e);
      this.dialled = undefined;
      this.log(`call over: ${end.why}; the modem is in command mode`);
      this.changed();
    }
  }

  /** The caller's handshake under the idle timeout and the byte bound (again for each call of a modem). */
  private async handshake(closed: Promise<string>, modem: ModemEngine | undefined): Promise<HandshakeResult> {
    this.line.limit = this.line.bytesIn + this.s.handshakeBytes;
    this.line.lastHeard = performance.now();
    const idle = setInterval(() => {
      if (performance.now() - this.line.lastHeard >= this.s.idleMs) this.hangUp.abort(`silent for ${this.s.idleMs / 1000} s before PPP started`);
    }, Math.min(1000, Math.max(10, this.s.idleMs / 4)));
    try {
      return await Promise.race([
        handshake(this.line, this.s.protocol, { connectSpeed: this.s.connectSpeed, signal: this.hangUp.signal, log: this.log, ...(modem ? { modem } : {}) }),
        closed.then((why) => Promise.reject(new CallerDropped(why))),
      ]);
    } finally {
      clearInterval(idle);
      this.line.limit = undefined;
    }
  }

  /** pppd on a new pty, bytes pumped both ways (through the modem when there is one); resolves with why the call ended. */
  private async startPppd(modem: ModemEngine | undefined): Promise<{ over: Promise<CallEnd> }> {
    // The previous call's ip-down scripts act on its interface's name, which this pppd could get.
    await this.finishing;
    const pty = await openPtyLine(join(this.s.runDir, `${this.s.name}-caller-${this.lease.offset}`));
    this.pty = pty;
    const child = execa(this.s.pppd, this.s.pppdArgs(pty.slavePath, this.lease), {
      reject: false,
      stdin: 'ignore',
      buffer: false,
      env: this.s.env ?? {},
      extendEnv: true,
    });
    this.child = child;
    let ttyReady!: () => void;
    const ready = new Promise<void>((resolve) => (ttyReady = resolve));
    let linkEnded!: () => void;
    const ended = new Promise<void>((resolve) => (linkEnded = resolve));
    const ceiling = setTimeout(ttyReady, PPPD_TTY_CEILING_MS);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (l) => {
        this.log(l);
        if (PPPD_TTY_READY.test(l)) ttyReady();
        else if (PPPD_LINK_ENDED.test(l)) linkEnded();
      });
    }
    this.log(`pppd ${child.pid ?? '?'} on ${pty.slavePath}`);
    this.changed();
    let noPpp!: (end: CallEnd) => void;
    const unheard = new Promise<CallEnd>((resolve) => (noPpp = resolve));
    // The call may end before pppd's tty says it is ready (while pppd is being ended): nothing starts then.
    let stopWait: (() => void) | undefined;
    let callEnded = false;
    this.stopFirstFrameWait = () => {
      callEnded = true;
      stopWait?.();
    };
    let hungUp = new Promise<CallEnd>(() => {});
    const online = modem ? new OnlineModem(modem, { toDialer: this.line, log: this.log }) : undefined;
    if (online) {
      this.online = online;
      hungUp = new Promise((resolve) => online.once('hung-up', () => resolve({ why: 'the caller hung up with ATH', byDialer: true })));
      // Escaped, a modem holds the far end's data: pppd's output waits in the pty until ATO.
      online.on('escaped', () => pty.stream.unpipe(this.line));
      online.on('resumed', () => pty.stream.pipe(this.line, { end: false }));
      // Hung up, what pppd still says (its LCP Terminate-Request) goes nowhere.
      online.once('hung-up', () => pty.stream.resume());
    }
    pty.stream.pipe(this.line, { end: false });
    // The caller's bytes wait in its line (paused) until pppd can take them.
    void ready.then(() => {
      clearTimeout(ceiling);
      if (callEnded || this.pty !== pty || child.exitCode !== null || child.signalCode !== null || this.line.destroyed) return;
      if (online) this.line.pipe(online).pipe(pty.stream, { end: false });
      else this.line.pipe(pty.stream, { end: false });
      this.line.resume();
      // From here pppd hears the caller: a caller that sends it no PPP ends the call as a hang-up does.
      const seconds = this.s.idleMs / 1000;
      stopWait = awaitFirstFrame(this.line, this.s.idleMs, () =>
        noPpp({ why: `no PPP from the caller within ${seconds} s of ${PPPD_STARTED_AFTER[this.s.protocol]}`, byDialer: false }),
      );
    });
    void child.then(() => clearTimeout(ceiling));
    const exited = child.then((r) => ({ why: `pppd exited${r.exitCode !== undefined ? ` with status ${r.exitCode}` : r.signal ? ` on ${r.signal}` : ''}`, byDialer: false }));
    // Only a modem's call ends before pppd exits: a caller whose connection ends gives its address
    // back, and the next caller must not get it while this pppd's scripts still run.
    const linkOver = modem ? ended.then(() => ({ why: 'pppd ended the link', byDialer: false, pppdFinishing: true })) : new Promise<CallEnd>(() => {});
    return { over: Promise.race([exited, hungUp, linkOver, unheard]) };
  }

  /** A modem's answer to the dialer (NO CARRIER), logged like the rest of its answers. */
  private tell(e: EngineEvent): void {
    const text = eventLogLine(e);
    if (text !== undefined) this.log(text);
    if (e.type === 'send' && !this.line.destroyed) this.line.write(e.bytes);
  }

  /**
   * Ends this call's pppd (TERM, then KILL after the grace) and closes its pty; the line stays.
   * A pppd that has ended the link itself (`finishing`) is left the grace to exit on its own,
   * and the line is free before it has.
   */
  private async endCall(finishing = false): Promise<void> {
    this.stopFirstFrameWait?.();
    this.stopFirstFrameWait = undefined;
    // From here on the dialer's bytes are for the next call (an AT right after NO CARRIER or ATH).
    this.online?.hold();
    const child = this.child;
    if (child && !finishing) await this.endPppd(child, false);
    const pty = this.pty;
    if (pty && child && !this.line.destroyed) {
      // What pppd wrote just before it exited (an LCP Terminate-Ack) is still in the pty: with our
      // slave fd closed too, the master reads it and then ends.
      pty.releaseSlave();
      await Promise.race([pty.closed, new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    if (this.online) {
      this.line.unpipe(this.online);
      const unread = this.online.takeUnread();
      this.online.destroy();
      this.online = undefined;
      // The next handshake reads them first, before anything the line holds after them.
      if (unread.length > 0 && !this.line.destroyed && !this.line.readableEnded) this.line.unshift(unread);
    }
    if (pty) {
      this.line.unpipe(pty.stream);
      pty.stream.unpipe(this.line);
      await pty.close();
    }
    this.pty = undefined;
    this.child = undefined;
    if (child && finishing) this.finishing = this.endPppd(child, true);
  }

  /** Until pppd has exited: TERM now (or, `patient`, after the grace), KILL a grace later. */
  private async endPppd(child: ResultPromise, patient: boolean): Promise<void> {
    const running = () => child.exitCode === null && child.signalCode === null;
    if (patient && running()) {
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([child, new Promise((r) => (wait = setTimeout(r, this.s.graceMs)))]);
      clearTimeout(wait);
    }
    if (!running()) return void (await child);
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), this.s.graceMs);
    await child;
    clearTimeout(kill);
  }

  private async teardown(): Promise<void> {
    this.hangUp.abort('call over');
    await this.endCall();
    await this.finishing;
    // Whatever pppd sent last leaves before the connection closes.
    await new Promise<void>((resolve) => {
      if (this.line.destroyed) return resolve();
      this.line.end(() => resolve());
      setTimeout(resolve, 1000).unref();
    });
    this.line.destroy();
  }
}
