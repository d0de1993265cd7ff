/**
 * A NEW pseudo-terminal offered under a stable link name (socat `link=`, remserial -l): we hold the
 * master and a symlink PATH → /dev/pts/N points programs (pppd, minicom) at the slave.
 *
 * We also keep one slave fd open ourselves: without it, reading the master fails with EIO whenever no
 * program has the slave open (between pppd runs), which would look like device loss.
 */
import fs from 'node:fs';
import tty from 'node:tty';
import { LineError } from '../errors.js';
import { makeRaw, openPty, outputSpeed, SyscallError } from './libc.js';
import { defaultSettings, ttyDuplex, type Line, type LineSettings, type ModemLines } from './line.js';

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
  const slave = fs.openSync(slavePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  try {
    // Replace a stale link from an earlier run, but never a regular file or directory.
    const st = fs.lstatSync(link, { throwIfNoEntry: false });
    if (st && !st.isSymbolicLink()) throw new LineError(`--pty ${link}: exists and is not a symlink`);
    makeRaw(slave); // binary-safe both ways: no echo, no CR/LF mapping, no signals
    if (st) fs.unlinkSync(link);
    fs.symlinkSync(slavePath, link);
  } catch (err) {
    fs.closeSync(slave);
    fs.closeSync(master);
    if (err instanceof LineError) throw err;
    throw new LineError(`--pty ${link}: cannot ${err instanceof SyscallError ? 'make the new pty raw' : 'create link'}: ${(err as Error).message}`, { cause: err });
  }
  return new NewPty(link, slavePath, master, slave);
}

class NewPty implements PtyLine {
  readonly stream: tty.ReadStream;
  readonly closed: Promise<'closed' | 'gone' | 'end'>;
  settings: LineSettings = { ...defaultSettings };
  private settle!: (why: 'closed' | 'gone' | 'end') => void;
  private done = false;
  private slaveReleased = false;

  constructor(
    readonly name: string,
    readonly slavePath: string,
    master: number,
    private readonly slave: number,
  ) {
    this.closed = new Promise((r) => (this.settle = r));
    this.stream = ttyDuplex(master);
    this.stream.on('error', () => void this.finish('gone'));
    this.stream.on('end', () => void this.finish('gone'));
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
    this.stream.destroy(); // closes the master fd (libuv owns it: a master is never re-opened)
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
