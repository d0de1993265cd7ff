/**
 * A serial device or an existing pty slave as a Line: serialport's binding opens and configures it,
 * then ONE tty.ReadStream on that fd carries bytes both ways (the fast path, and the only one where a
 * stalled direction does not freeze the other: see line.ts).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import tty from 'node:tty';
import { promisify } from 'node:util';
import { LineError } from '../errors.js';
import { sleep } from '../runtime/sleep.js';
import { openTty, type OpenTty } from './binding.js';
import { defaultSettings, NoModemLinesError, ttyDuplex, type Line, type LineSettings, type ModemLines } from './line.js';

const run = promisify(execFile);

export interface OpenSerialOptions {
  path: string;
  settings?: Partial<LineSettings>;
}

/**
 * stty arguments for the settings serialport's binding cannot change after open. A pty forces CS8
 * without parity (Linux pty_set_termios), and stty reports failure when its read-back differs, so for
 * ptys data bits and parity are recorded in the Line's settings but not sent to the kernel.
 */
export function sttyArgs(s: LineSettings, pty = false): string[] {
  const a: string[] = [];
  if (pty) {
    /* cs8 -parenb is all a pty can hold */
  } else if (s.parity === 'none') a.push(`cs${s.dataBits}`, '-parenb', '-cmspar');
  else a.push(`cs${s.dataBits}`, 'parenb', s.parity === 'odd' || s.parity === 'mark' ? 'parodd' : '-parodd', s.parity === 'mark' || s.parity === 'space' ? 'cmspar' : '-cmspar');
  a.push(s.stopBits === 2 ? 'cstopb' : '-cstopb');
  a.push(s.flow === 'rtscts' ? 'crtscts' : '-crtscts');
  a.push(...(s.flow === 'xonxoff' ? ['ixon', 'ixoff'] : ['-ixon', '-ixoff']));
  a.push(s.local ? 'clocal' : '-clocal', s.hupcl ? 'hupcl' : '-hupcl');
  return a;
}

export async function openSerialLine(o: OpenSerialOptions): Promise<Line> {
  const settings: LineSettings = { ...defaultSettings, ...o.settings };
  let dev: OpenTty;
  try {
    dev = await openTty({
      path: o.path,
      speed: settings.speed,
      dataBits: settings.dataBits,
      parity: settings.parity === 'mark' || settings.parity === 'space' ? 'none' : settings.parity,
      stopBits: settings.stopBits,
      rtscts: settings.flow === 'rtscts',
      xonxoff: settings.flow === 'xonxoff',
      hupcl: settings.hupcl,
    });
  } catch (err) {
    throw new LineError(`cannot open ${o.path}: ${openFailure((err as Error).message)}`, { cause: err });
  }
  try {
    // clocal (and mark/space parity) before wrapping: libuv re-opens the slave by name and a
    // real UART without CLOCAL would block that open waiting for carrier (DCD).
    await run('stty', ['-F', o.path, ...sttyArgs(settings, isPty(o.path))]);
  } catch (err) {
    await dev.close().catch(() => undefined);
    throw new LineError(`${o.path}: cannot apply settings: ${firstLine(err)}`, { cause: err });
  }
  return new SerialLine(o.path, dev, settings);
}

/**
 * serialport's binding reports failures as "Error: <strerror>, cannot open PATH" or "Error:
 * <strerror> setting …": only the strerror part tells the user anything, said the way a device
 * user thinks of it (a missing node is a missing device; ENOTTY means it is no serial line).
 */
export function openFailure(message: string): string {
  const text = message.replace(/^(?:Error:\s*)+/, '');
  const known: Array<[RegExp, string]> = [
    [/No such file or directory|No such device/i, 'no such device'],
    [/Permission denied|Operation not permitted/i, 'permission denied (needs root or group dialout)'],
    [/Inappropriate ioctl/i, 'not a serial device or pty'],
    [/Device or resource busy/i, 'device busy'],
    [/Input\/output error/i, 'input/output error (device unplugged?)'],
    [/Is a directory/i, 'is a directory, not a device'],
  ];
  for (const [re, said] of known) if (re.test(text)) return said;
  return (text.split(/,? cannot open /)[0] ?? text).trim().toLowerCase() || 'unknown error';
}

/** Unix98 pty slaves live in /dev/pts (links such as socat's link= are resolved first). */
function isPty(p: string): boolean {
  try {
    return fs.realpathSync(p).startsWith('/dev/pts/');
  } catch {
    return false;
  }
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr || e.message || String(err)).trim().split('\n')[0] ?? '';
}

class SerialLine implements Line {
  readonly stream: tty.ReadStream;
  readonly closed: Promise<'closed' | 'gone' | 'end'>;
  private settle!: (why: 'closed' | 'gone' | 'end') => void;
  private done = false;

  constructor(
    readonly name: string,
    private readonly dev: OpenTty,
    public settings: LineSettings,
  ) {
    this.closed = new Promise((resolve) => (this.settle = resolve));
    this.stream = ttyDuplex(dev.fd);
    this.stream.on('end', () => void this.finish('gone'));
    // EIO, ENXIO, ENODEV (USB unplug, pty master closed) and any other read/write error alike:
    // the fd is no use any more, and the port reopens it with backoff.
    this.stream.on('error', () => void this.finish('gone'));
  }

  /**
   * Sets the speed, then the rest with stty on the fd held (through /proc/PID/fd, which opens the
   * very device the fd is), not by name: the name may have gone or moved since the open (a udev
   * rename, a link removed), and the settings must land on the device the bridge is using. When
   * stty refuses, the speed set first is put back, so `settings` (what showport and RFC 2217
   * report) stays what the device does.
   */
  async apply(next: Partial<LineSettings>): Promise<void> {
    const merged = { ...this.settings, ...next };
    const before = this.settings.speed;
    try {
      if (merged.speed !== before) await this.dev.setSpeed(merged.speed);
    } catch (err) {
      throw new LineError(`cannot apply settings: ${firstLine(err)}`, { cause: err, device: this.name });
    }
    const held = `/proc/${process.pid}/fd/${this.dev.fd}`;
    try {
      await run('stty', ['-F', held, ...sttyArgs(merged, isPty(held))]);
    } catch (err) {
      if (merged.speed !== before) {
        // put the speed back; if even that fails, the device runs at the new one: say so
        await this.dev.setSpeed(before).catch(() => (this.settings = { ...this.settings, speed: merged.speed }));
      }
      throw new LineError(`cannot apply settings: ${firstLine(err)}`, { cause: err, device: this.name });
    }
    this.settings = merged;
  }

  async setModem(lines: { dtr?: boolean; rts?: boolean; brk?: boolean }): Promise<void> {
    try {
      await this.dev.setModem(lines);
    } catch (err) {
      throw this.modemLinesFailed('cannot set modem lines', err);
    }
  }

  /** A pty has no modem lines, so its failure says that; a real port's failure is said as it is. */
  private modemLinesFailed(what: string, err: unknown): LineError {
    const options = { cause: err, device: this.name };
    const why = (err as Error).message;
    return isPty(this.name) ? new NoModemLinesError(`${what} (a pty has none): ${why}`, options) : new LineError(`${what}: ${why}`, options);
  }

  async getModem(): Promise<ModemLines | undefined> {
    try {
      return await this.dev.getModem();
    } catch {
      return undefined; // ptys have no modem lines (TIOCMGET → ENOTTY)
    }
  }

  async sendBreak(ms: number): Promise<void> {
    try {
      await this.dev.setModem({ brk: true });
      await sleep(ms);
      await this.dev.setModem({ brk: false });
    } catch (err) {
      throw this.modemLinesFailed('cannot send break', err);
    }
  }

  async purge(): Promise<void> {
    await this.dev.purge().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.finish('closed');
  }

  private async finish(why: 'closed' | 'gone' | 'end'): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.stream.destroy();
    // The stream closes libuv's own re-opened fd; the original stays ours to close.
    await this.dev.close().catch(() => undefined);
    this.settle(why);
  }
}
