/**
 * A NEW pseudo-terminal offered under a stable link name (socat `link=`, remserial -l): we hold the
 * master and a symlink PATH → /dev/pts/N points programs (pppd, minicom) at the slave.
 *
 * We also keep one slave fd open ourselves: without it, reading the master fails with EIO whenever no
 * program has the slave open (between pppd runs), which would look like device loss.
 *
 * The master is moved by the native pump, not by libuv: libuv takes a tty it cannot reopen (a
 * master) with blocking writes, and a program that stopped reading the slave then froze the whole
 * event loop in write(2), SIGTERM and every other session included. The pump relays the master,
 * non-blocking, to one end of a socketpair; the line's stream is the other end, an ordinary
 * non-blocking socket with backpressure both ways.
 */
import fs from 'node:fs';
import net from 'node:net';
import { NativePump } from '../native/pump.js';
import { LineError } from '../errors.js';
import { makeRaw, openPty, outputSpeed, socketPair, SyscallError } from './libc.js';
import { defaultSettings, type Line, type LineSettings, type ModemLines } from './line.js';

export interface PtyLine extends Line {
  /** /dev/pts/N */
  readonly slavePath: string;
  /** Current output speed the slave side set (e.g. by pppd or stty), read from termios. */
  slaveSpeed(): number | undefined;
  /** Closes our own slave fd: once the program on the slave has exited too, the master reads what
   *  it wrote last and then ends (`closed` settles 'gone'). */
  releaseSlave(): void;
}

export async function openPtyLine(link: string): Promise<PtyLine> {
  let master: number;
  let slavePath: string;
  try {
    ({ master, slavePath } = openPty());
  } catch (err) {
    throw new LineError(`--pty ${link}: cannot make a new pty: ${(err as Error).message}`, { cause: err });
  }
  let slave: number | undefined;
  try {
    slave = fs.openSync(slavePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    // Replace a stale link from an earlier run, but never a regular file or directory.
    const st = fs.lstatSync(link, { throwIfNoEntry: false });
    if (st && !st.isSymbolicLink()) throw new LineError(`--pty ${link}: exists and is not a symlink`);
    makeRaw(slave); // binary-safe both ways: no echo, no CR/LF mapping, no signals
    if (st) fs.unlinkSync(link);
    fs.symlinkSync(slavePath, link);
  } catch (err) {
    if (slave !== undefined) fs.closeSync(slave);
    fs.closeSync(master);
    if (err instanceof LineError) throw err;
    throw new LineError(`--pty ${link}: cannot ${err instanceof SyscallError ? 'make the new pty raw' : 'create link'}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return new NewPty(link, slavePath, master, slave);
  } catch (err) {
    fs.closeSync(slave);
    fs.closeSync(master);
    try {
      fs.unlinkSync(link);
    } catch {
      /* already gone */
    }
    throw new LineError(`--pty ${link}: ${(err as Error).message}`, { cause: err });
  }
}

/** The pump's end of the socketpair is closed once what it held was handed on; a few tries at most. */
const HANDOFF_TRIES = 50;

class NewPty implements PtyLine {
  readonly stream: net.Socket;
  readonly closed: Promise<'closed' | 'gone' | 'end'>;
  settings: LineSettings = { ...defaultSettings };
  private settle!: (why: 'closed' | 'gone' | 'end') => void;
  private done = false;
  private slaveReleased = false;
  /** The pump moving the master to and from `relayFd`, our end of the socketpair. */
  private relay: NativePump | undefined;
  private relayFd: number | undefined;

  constructor(
    readonly name: string,
    readonly slavePath: string,
    private readonly master: number,
    private readonly slave: number,
  ) {
    this.closed = new Promise((r) => (this.settle = r));
    const [relayFd, streamFd] = socketPair();
    const relay = NativePump.start(master, relayFd, () => this.relayEnded());
    if (!relay) {
      fs.closeSync(relayFd);
      fs.closeSync(streamFd);
      throw new LineError('the native pump has no slot free to move the new pty');
    }
    this.relay = relay;
    this.relayFd = relayFd;
    this.stream = new net.Socket({ fd: streamFd, readable: true, writable: true });
    this.stream.on('error', () => void this.finish('gone'));
    this.stream.on('end', () => void this.finish('gone'));
  }

  /**
   * The master ended (every program closed the slave, ours released, and its last bytes read) or
   * the stream's end went away. What the pump read and still holds is handed on, then our end of
   * the socketpair closes: the stream reads those bytes and then its end.
   */
  private relayEnded(): void {
    if (!this.relay) return;
    const { pendingToB } = this.relay.stop();
    this.relay = undefined;
    let rest = pendingToB;
    for (let i = 0; rest.length && i < HANDOFF_TRIES; i++) {
      try {
        rest = rest.subarray(fs.writeSync(this.relayFd!, rest));
      } catch {
        break; // EAGAIN with a stream that stopped reading, or its end already gone: nobody to hand them to
      }
    }
    this.closeRelay();
  }

  private closeRelay(): void {
    if (this.relay) this.relay.stop();
    this.relay = undefined;
    if (this.relayFd !== undefined) fs.closeSync(this.relayFd);
    this.relayFd = undefined;
  }

  slaveSpeed(): number | undefined {
    if (this.done || this.slaveReleased) return undefined;
    try {
      return outputSpeed(this.slave);
    } catch {
      return undefined;
    }
  }

  releaseSlave(): void {
    if (this.slaveReleased) return;
    this.slaveReleased = true;
    fs.closeSync(this.slave);
  }

  async apply(s: Partial<LineSettings>): Promise<void> {
    this.settings = { ...this.settings, ...s }; // a pty has no real line: settings are informational
  }
  async setModem(): Promise<void> {}
  async getModem(): Promise<ModemLines | undefined> {
    return undefined;
  }
  async sendBreak(): Promise<void> {}
  async purge(): Promise<void> {}
  close(): Promise<void> {
    return this.finish('closed');
  }

  private async finish(why: 'closed' | 'gone' | 'end'): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.closeRelay();
    this.stream.destroy();
    fs.closeSync(this.master);
    try {
      if (!this.slaveReleased) fs.closeSync(this.slave);
    } catch {
      /* already closed */
    }
    try {
      if (fs.readlinkSync(this.name) === this.slavePath) fs.unlinkSync(this.name);
    } catch {
      /* link already gone */
    }
    this.settle(why);
  }
}
