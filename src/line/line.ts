import type { Duplex } from 'node:stream';

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';
export type Flow = 'none' | 'rtscts' | 'xonxoff';

/** Serial settings a Line can carry; pseudo-terminals accept them but always behave as CS8, no parity. */
export interface LineSettings {
  speed: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: Parity;
  stopBits: 1 | 2;
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
 * 64 KiB reads from a tty fd (NODE-IO-NOTES). Node forwards highWaterMark to the underlying Duplex,
 * but @types/node's SocketConstructorOpts does not list it, hence the cast.
 */
export const ttyStreamOptions = { highWaterMark: 64 * 1024 } as import('node:net').SocketConstructorOpts;
