import tty from 'node:tty';
import type { Duplex } from 'node:stream';
import { LineError } from '../errors.js';

/** The values a line's settings take, defined once: the profile, a bridge port's config and CLI,
 *  the control port and RFC 2217 all read these lists. */
export const PARITIES = ['none', 'even', 'odd', 'mark', 'space'] as const;
export const FLOWS = ['none', 'rtscts', 'xonxoff'] as const;
export const DATA_BITS = [5, 6, 7, 8] as const;
export const STOP_BITS = [1, 2] as const;
export type Parity = (typeof PARITIES)[number];
export type Flow = (typeof FLOWS)[number];

/** The device has no modem control lines to set (a pty: DTR, RTS and BREAK have nowhere to go). Typed,
 *  so a session can say it once instead of once per request, without reading an error's words. */
export class NoModemLinesError extends LineError {}

/** Serial settings a Line can carry; pseudo-terminals accept them but always behave as CS8, no parity. */
export interface LineSettings {
  speed: number;
  dataBits: (typeof DATA_BITS)[number];
  parity: Parity;
  stopBits: (typeof STOP_BITS)[number];
  flow: Flow;
  /** Ignore modem control lines (CLOCAL). */
  local: boolean;
  /** Drop DTR when the last process closes the device (HUPCL). */
  hupcl: boolean;
}

export const defaultSettings: LineSettings = {
  speed: 115200,
  dataBits: 8,
  parity: 'none',
  stopBits: 1,
  flow: 'none',
  local: true,
  hupcl: false,
};

export interface ModemLines {
  cts: boolean;
  dsr: boolean;
  dcd: boolean;
}

/**
 * A byte stream with serial-port controls. `stream` carries data both ways with backpressure; the
 * Line emits nothing itself: `closed` resolves when the device went away or was closed, with the reason.
 */
export interface Line {
  readonly name: string;
  readonly stream: Duplex;
  readonly settings: LineSettings;
  /** Applies new settings; rejects with LineError when the device refuses. */
  apply(settings: Partial<LineSettings>): Promise<void>;
  setModem(lines: { dtr?: boolean; rts?: boolean; brk?: boolean }): Promise<void>;
  getModem(): Promise<ModemLines | undefined>;
  sendBreak(ms: number): Promise<void>;
  purge(): Promise<void>;
  close(): Promise<void>;
  /** Resolves once, when the line stops: 'closed' (we closed it), 'gone' (device lost), 'end' (peer ended). */
  readonly closed: Promise<'closed' | 'gone' | 'end'>;
}

/**
 * One read buffer for every tty in the process: libuv reads into it and the callback below copies
 * the bytes out before returning, and reads on the event-loop thread never overlap, so 64 served
 * ports need one 64 KiB buffer, not 64.
 */
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * A tty fd as ONE Duplex for both directions: the fastest path measured, and the only one where a
 * stalled direction does not freeze the other (a separate tty.WriteStream makes writes blocking and
 * froze the event loop for 5 s when the far end stopped reading).
 *
 * Reads use net.Socket's documented `onread` option: libuv reads into one reused 64 KiB buffer and
 * each chunk goes to 'data' listeners as an exact-size copy. That skips the Readable push/flow
 * bookkeeping per read, which was about a fifth of the bridge's CPU per MiB on the pty→TCP path
 * (a pty hands over at most ~4 KiB per read, so per-read cost is what counts). Consumers see the
 * usual 'data', 'end', 'error', pause() and resume(); in this mode net.Socket maps pause/resume to
 * stopping and starting the kernel reads, so backpressure still reaches the device. read(),
 * pipe() and async iteration would see nothing: this module's users only listen for 'data'.
 */
export function ttyDuplex(fd: number): tty.ReadStream {
  const stream: tty.ReadStream = new tty.ReadStream(fd, {
    highWaterMark: 64 * 1024,
    onread: {
      buffer: sharedReadBuffer,
      callback: (n: number, b: Buffer): boolean => {
        const chunk = Buffer.from(b.subarray(0, n));
        if (stream.readableFlowing === true && stream.readableLength === 0) {
          stream.emit('data', chunk);
          return true;
        }
        // Paused, or older bytes still queued: Readable's own machinery may read ahead while paused
        // (resume() schedules a read(0)), and a chunk emitted now would reach nobody — bytes read
        // before a bridge client was adopted were lost this way. Queue it in order (bounded by the
        // high-water mark) and stop kernel reads until resume().
        stream.push(chunk);
        return stream.readableFlowing === true;
      },
    },
  } as import('node:net').SocketConstructorOpts);
  return stream;
}
