import { S, type ModemSettings } from './settings.js';

/** The basic Hayes result codes: the word with V1, the digit with V0. */
export const RESULT = {
  OK: 0,
  CONNECT: 1,
  RING: 2,
  'NO CARRIER': 3,
  ERROR: 4,
  'NO DIALTONE': 6,
  BUSY: 7,
  'NO ANSWER': 8,
} as const;

export type ResultWord = keyof typeof RESULT;

/** Extended CONNECT codes (X1 and up) in the Hayes/Rockwell numbering dialers' INF files expect. */
const CONNECT_CODES: ReadonlyMap<number, number> = new Map([
  [1200, 5], [2400, 10], [4800, 11], [9600, 12], [7200, 13], [12000, 14], [14400, 15], [19200, 16],
  [38400, 17], [57600, 18], [115200, 19], [230400, 20], [28800, 55], [33600, 155],
]);

export interface Result {
  text: string;
  code: number;
}

export const result = (word: ResultWord): Result => ({ text: word, code: RESULT[word] });

/** `CONNECT` as X0 says it, or `CONNECT 115200` for X1-X4 (a speed without its own code reads as 1). */
export function connectResult(speed: number, xLevel: number): Result {
  if (xLevel === 0) return result('CONNECT');
  return { text: `CONNECT ${speed}`, code: CONNECT_CODES.get(speed) ?? RESULT.CONNECT };
}

function ends(s: ModemSettings): { cr: string; lf: string } {
  return { cr: String.fromCharCode(s.registers[S.carriageReturn]!), lf: String.fromCharCode(s.registers[S.lineFeed]!) };
}

/** A result code as the modem sends it: `CR LF word CR LF` (V1) or `digit CR` (V0); nothing with Q1. */
export function formatResult(s: ModemSettings, r: Result): string {
  if (s.quiet) return '';
  const { cr, lf } = ends(s);
  return s.verbose ? `${cr}${lf}${r.text}${cr}${lf}` : `${r.code}${cr}`;
}

/** Information text (I, S?, &V): framed like a verbose answer with V1, followed by CR LF with V0. Q1 does not hide it. */
export function formatInfo(s: ModemSettings, lines: readonly string[]): string {
  const { cr, lf } = ends(s);
  const body = lines.join(`${cr}${lf}`);
  return s.verbose ? `${cr}${lf}${body}${cr}${lf}` : `${body}${cr}${lf}`;
}
