/**
 * One caller's whole call: its handshake under an idle timeout and a byte bound, then its own
 * pseudo-terminal and its own pppd, bytes pumped both ways, and everything undone when either side
 * hangs up: pppd ended (TERM, then KILL after the grace), the pty closed, the socket destroyed.
 * The address lease is the server's: it is given back when this promise settles.
 */
import type { CallerStatus } from '../pppd/state.js';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type net from 'node:net';
import { execa, type ResultPromise } from 'execa';
import { openPtyLine, type PtyLine } from '../line/pty.js';
import { CallerDropped, CodedSocket, type Transport } from './coded-socket.js';
import { handshake, type CallerProtocol } from './handshake.js';
import type { Lease } from './pool.js';

export interface CallerSettings {
  protocol: CallerProtocol;
  transport: Transport;
  /** Dropped when silent this long before PPP starts. */
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

/** What `status` shows of a caller. */
/** What the state file and `status` show of a call. */
export type CallerInfo = CallerStatus;

export class Caller {
  readonly since = new Date();
  private readonly line: CodedSocket;
  private pty: PtyLine | undefined;
  private child: ResultPromise | undefined;
  private dialled: string | undefined;
  private readonly hangUp = new AbortController();

  constructor(
    socket: net.Socket,
    readonly remote: string,
    readonly lease: Lease,
    readonly ip6: string | undefined,
    private readonly s: CallerSettings,
    private readonly log: (line: string) => void,
  ) {
    this.line = new CodedSocket(socket, s.transport, log);
    this.line.limit = s.handshakeBytes;
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
    const idle = setInterval(() => {
      if (performance.now() - this.line.lastHeard >= this.s.idleMs) this.hangUp.abort(`silent for ${this.s.idleMs / 1000} s before PPP started`);
    }, Math.min(1000, Math.max(10, this.s.idleMs / 4)));
    const closed = new Promise<string>((resolve) => this.line.once('close', () => resolve(this.line.errored?.message ?? 'the caller hung up')));
    let result;
    try {
      result = await Promise.race([
        handshake(this.line, this.s.protocol, { connectSpeed: this.s.connectSpeed, signal: this.hangUp.signal, log: this.log }),
        closed.then((why) => Promise.reject(new CallerDropped(why))),
      ]);
    } finally {
      clearInterval(idle);
    }
    this.line.limit = undefined;
    this.dialled = result.dialled;
    if (this.dialled !== undefined) this.log(`dialled ${this.dialled}`);

    this.pty = await openPtyLine(join(this.s.runDir, `${this.s.name}-caller-${this.lease.offset}`));
    const child = execa(this.s.pppd, this.s.pppdArgs(this.pty.slavePath, this.lease), {
      reject: false,
      stdin: 'ignore',
      buffer: false,
      env: this.s.env ?? {},
      extendEnv: true,
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream }).on('line', (l) => this.log(l));
    this.log(`pppd ${child.pid ?? '?'} on ${this.pty.slavePath}`);
    this.line.pipe(this.pty.stream, { end: false });
    this.pty.stream.pipe(this.line, { end: false });
    this.line.resume();

    const aborted = new Promise<string>((resolve) => {
      if (this.hangUp.signal.aborted) resolve(String(this.hangUp.signal.reason));
      this.hangUp.signal.addEventListener('abort', () => resolve(String(this.hangUp.signal.reason)), { once: true });
    });
    const exited = child.then((r) => `pppd exited${r.exitCode !== undefined ? ` with status ${r.exitCode}` : r.signal ? ` on ${r.signal}` : ''}`);
    return Promise.race([closed, aborted, exited]);
  }

  private async teardown(): Promise<void> {
    this.hangUp.abort('call over');
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), this.s.graceMs);
      await child;
      clearTimeout(kill);
    }
    if (this.pty && child && !this.line.destroyed) {
      // What pppd wrote just before it exited (an LCP Terminate-Ack) is still in the pty: with our
      // slave fd closed too, the master reads it and then ends.
      this.pty.releaseSlave();
      await Promise.race([this.pty.closed, new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    if (this.pty) {
      this.line.unpipe(this.pty.stream);
      this.pty.stream.unpipe(this.line);
      await this.pty.close();
    }
    // Whatever pppd sent last leaves before the connection closes.
    await new Promise<void>((resolve) => {
      if (this.line.destroyed) return resolve();
      this.line.end(() => resolve());
      setTimeout(resolve, 1000).unref();
    });
    this.line.destroy();
  }
}
