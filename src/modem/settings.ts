/**
 * What a Hayes-compatible modem remembers between command lines: the flags that shape its answers
 * (E, V, Q, X) and the S registers. Every other setting a dialer sends (&C, &D, &K, \N, M, L, W, …)
 * is kept too, by name, so `&V` could show it and `Z` restores it, though nothing on a null-modem
 * cable depends on it.
 */
export interface ModemSettings {
  /** E: echo command characters back to the dialer. */
  echo: boolean;
  /** V: result codes as words (true) or digits. */
  verbose: boolean;
  /** Q: result codes suppressed. */
  quiet: boolean;
  /** X: result code set; 0 says plain CONNECT, 1-4 add the speed. */
  xLevel: number;
  /** S0..S255, each 0..255. */
  registers: Uint8Array;
  /** Accepted settings without an effect here: '&C' → 1, '\N' → 3, 'M' → 0, … */
  other: Map<string, number>;
}

/** S registers this emulator reads; the rest are stored only. */
export const S = {
  /** Rings before auto-answer (0 = never). */
  autoAnswerRings: 0,
  /** Rings counted so far. */
  ringCount: 1,
  /** The escape character (43 = '+'); above 127 disables escape. */
  escapeChar: 2,
  /** The command line terminator (13 = CR). */
  carriageReturn: 3,
  /** The line feed sent after CR in verbose answers (10 = LF). */
  lineFeed: 4,
  /** The character that deletes the previous one (8 = BS). */
  backspace: 5,
  /** Seconds to wait for carrier after dialling. */
  carrierWait: 7,
  /** Escape guard time in fiftieths of a second (50 = 1 s). */
  guardTime: 12,
} as const;

/** Factory values (&F) of the registers real dialers look at; the rest start at 0. */
const FACTORY_REGISTERS: ReadonlyArray<readonly [number, number]> = [
  [S.autoAnswerRings, 0],
  [S.escapeChar, 43],
  [S.carriageReturn, 13],
  [S.lineFeed, 10],
  [S.backspace, 8],
  [6, 2], // wait for dial tone, seconds
  [S.carrierWait, 50],
  [8, 2], // comma pause, seconds
  [9, 6], // carrier detect time, tenths
  [10, 14], // carrier loss time, tenths
  [11, 95], // DTMF duration, ms
  [S.guardTime, 50],
];

export function factorySettings(): ModemSettings {
  const registers = new Uint8Array(256);
  for (const [n, v] of FACTORY_REGISTERS) registers[n] = v;
  return { echo: true, verbose: true, quiet: false, xLevel: 4, registers, other: new Map() };
}

export function copySettings(s: ModemSettings): ModemSettings {
  return { ...s, registers: new Uint8Array(s.registers), other: new Map(s.other) };
}
