/**
 * One AT command line (the text after `AT`, up to the CR) → the commands on it, in order. Hayes
 * syntax: spaces are ignored, a command is a letter (or `&`, `\`, `%` and a letter) with an optional
 * number, `Sn=v` / `Sn?` for registers, `+NAME…` for V.250 extended commands up to a `;`, and `D`
 * takes the rest of the line as its dial string. The whole line is parsed before anything runs, so
 * a line with one unknown command changes nothing and answers ERROR.
 */

export type ModemCommand =
  | { kind: 'basic'; name: string; value: number }
  | { kind: 'register-set'; register: number; value: number }
  | { kind: 'register-query'; register: number }
  | { kind: 'dial'; dialString: string; stayInCommandMode: boolean }
  | { kind: 'extended'; name: string; form: 'exec' | 'read' | 'test' | 'set'; args: string };

export type ParsedLine = { ok: true; commands: ModemCommand[] } | { ok: false; at: number; why: string };

/**
 * The basic commands a real Hayes, Rockwell or USR modem accepts, with the values it takes (lowest
 * is 0): what Windows' modem INF files, Mac OS modem scripts and wvdial send. Those without a
 * meaning on a cable (modulation, error control, compression, flow, speaker) are accepted and kept,
 * as the modem a dialer expects would; a command or value no such modem has is ERROR.
 * docs/dialup.md shows this table; a test keeps the two the same.
 */
export const BASIC: Readonly<Record<string, { values: number | readonly number[]; what: string }>> = {
  A: { values: 0, what: 'answer' },
  B: { values: [0, 1, 2, 3, 15, 16], what: 'ITU or Bell modulation at 300/1200 bps' },
  C: { values: 1, what: 'carrier on/off' },
  E: { values: 1, what: 'command echo' },
  F: { values: 1, what: 'online echo (USR)' },
  H: { values: 1, what: 'hang up' },
  I: { values: 11, what: 'identification' },
  L: { values: 3, what: 'speaker volume' },
  M: { values: 3, what: 'speaker on/off' },
  N: { values: 1, what: 'automode (speed negotiation)' },
  O: { values: 1, what: 'return online' },
  P: { values: 0, what: 'pulse dialling' },
  Q: { values: 2, what: 'quiet result codes' },
  T: { values: 0, what: 'tone dialling' },
  V: { values: 1, what: 'verbose result codes' },
  W: { values: 2, what: 'connect message form' },
  X: { values: 7, what: 'result code set (X5-X7: USR)' },
  Y: { values: 1, what: 'long space disconnect' },
  Z: { values: 1, what: 'reset to stored profile' },
  '&A': { values: 3, what: 'ARQ result codes (USR)' },
  '&B': { values: 2, what: 'fixed serial speed (USR) / V.32 retrain' },
  '&C': { values: 1, what: 'DCD follows carrier' },
  '&D': { values: 3, what: 'DTR action' },
  '&F': { values: 2, what: 'factory profile (USR &F1 hardware flow, &F2 software)' },
  '&G': { values: 2, what: 'guard tone' },
  '&H': { values: 3, what: 'transmit flow control (USR)' },
  '&I': { values: 5, what: 'receive software flow control (USR)' },
  '&J': { values: 1, what: 'telephone jack' },
  '&K': { values: 6, what: 'flow control (Rockwell, Hayes); compression (USR)' },
  '&L': { values: 1, what: 'leased line' },
  '&M': { values: 5, what: 'error control (USR &M4, &M5); sync mode (Hayes)' },
  '&N': { values: 20, what: 'link rate (USR)' },
  '&P': { values: 3, what: 'pulse make/break ratio' },
  '&Q': { values: 9, what: 'error control and speed buffering (Hayes, Rockwell)' },
  '&R': { values: 2, what: 'RTS/CTS (USR &R2: receive flow)' },
  '&S': { values: 5, what: 'DSR action' },
  '&T': { values: 8, what: 'test modes' },
  '&U': { values: 20, what: 'link rate floor (USR)' },
  '&V': { values: 1, what: 'show settings' },
  '&W': { values: 1, what: 'store profile' },
  '&X': { values: 2, what: 'sync clock source' },
  '&Y': { values: 3, what: 'profile used at power-on' },
  '\\A': { values: 3, what: 'MNP block size' },
  '\\B': { values: 9, what: 'send break' },
  '\\C': { values: 2, what: 'auto-reliable buffer' },
  '\\G': { values: 1, what: 'modem-to-modem flow control' },
  '\\J': { values: 1, what: 'serial speed follows connect speed' },
  '\\K': { values: 5, what: 'break handling' },
  '\\N': { values: 7, what: 'error control (Rockwell)' },
  '\\Q': { values: 3, what: 'flow control (Rockwell)' },
  '\\T': { values: 90, what: 'inactivity timer' },
  '\\V': { values: 2, what: 'protocol in CONNECT message' },
  '\\X': { values: 1, what: 'XON/XOFF pass-through' },
  '%C': { values: 3, what: 'data compression (Rockwell)' },
  '%E': { values: 3, what: 'line quality monitor and retrain' },
};

/** Whether a basic command takes this value. */
const takes = (spec: { values: number | readonly number[] }, value: number): boolean =>
  typeof spec.values === 'number' ? value <= spec.values : spec.values.includes(value);

/** V.250 extended commands dialers send (init strings, wvdialconf, Windows' modem INF files and its Query Modem). */
export const EXTENDED = new Set(['+FCLASS', '+GCAP', '+GCI', '+GMI', '+GMM', '+GMR', '+GSN', '+IPR', '+ICF', '+IFC', '+MS', '+ES', '+DS', '+DR', '+ER', '+MR', '+ILRR', '+VCID']);

/** Register numbers and values a modem stores (S0..S255, each one byte). */
const REGISTER_MAX = 255;

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

export function parseCommandLine(text: string): ParsedLine {
  const commands: ModemCommand[] = [];
  let i = 0;
  const fail = (why: string): ParsedLine => ({ ok: false, at: i, why });
  /** Digits at i (at most 3, so values stay in a byte's range), or undefined when there are none. */
  const number = (): number | undefined => {
    const start = i;
    while (isDigit(text[i])) i++;
    if (i === start) return undefined;
    return i - start > 3 ? Number.MAX_SAFE_INTEGER : Number(text.slice(start, i));
  };
  for (;;) {
    while (text[i] === ' ') i++;
    if (i >= text.length) return { ok: true, commands };
    const c = text[i]!.toUpperCase();
    if (c < ' ' || c > '~') return fail(`byte 0x${text.charCodeAt(i).toString(16).padStart(2, '0')} is no command`);
    if (c === 'D') {
      const rest = text.slice(i + 1).replace(/ /g, '');
      const semicolon = rest.endsWith(';');
      const dialString = semicolon ? rest.slice(0, -1) : rest;
      // Printable only; a modem skips what it cannot dial, but a control byte here is line noise.
      if (/[^\x21-\x7e]/.test(dialString)) return fail('dial string holds a byte that is not printable');
      commands.push({ kind: 'dial', dialString, stayInCommandMode: semicolon });
      return { ok: true, commands };
    }
    if (c === 'S') {
      i++;
      const register = number();
      if (register === undefined || register > REGISTER_MAX) return fail('S needs a register number 0-255');
      while (text[i] === ' ') i++;
      if (text[i] === '?') {
        i++;
        commands.push({ kind: 'register-query', register });
        continue;
      }
      if (text[i] !== '=') return fail('S register needs = or ?');
      i++;
      const value = number() ?? 0;
      if (value > REGISTER_MAX) return fail(`S${register} value out of range 0-255`);
      commands.push({ kind: 'register-set', register, value });
      continue;
    }
    if (c === '+') {
      const start = i;
      i++;
      while (i < text.length && /[A-Za-z0-9]/.test(text[i]!)) i++;
      const name = text.slice(start, i).toUpperCase();
      if (!EXTENDED.has(name)) return fail(`unknown extended command ${name}`);
      let form: 'exec' | 'read' | 'test' | 'set' = 'exec';
      let args = '';
      if (text.startsWith('=?', i)) {
        form = 'test';
        i += 2;
      } else if (text[i] === '?') {
        form = 'read';
        i++;
      } else if (text[i] === '=') {
        form = 'set';
        const end = text.indexOf(';', i);
        args = text.slice(i + 1, end === -1 ? text.length : end).trim();
        i = end === -1 ? text.length : end;
      }
      // Only data mode exists on a cable: +FCLASS=0 is fine, fax and voice classes are not.
      if (name === '+FCLASS' && form === 'set' && args !== '0') return fail(`+FCLASS=${args}: only class 0 (data)`);
      while (text[i] === ' ') i++;
      if (text[i] === ';') i++;
      commands.push({ kind: 'extended', name, form, args });
      continue;
    }
    let name = c;
    if (c === '&' || c === '\\' || c === '%') {
      i++;
      const letter = text[i]?.toUpperCase();
      if (letter === undefined || letter < 'A' || letter > 'Z') return fail(`${c} needs a letter`);
      name = c + letter;
    }
    i++;
    const spec = BASIC[name];
    if (spec === undefined) return fail(`unknown command ${name}`);
    const value = number() ?? 0;
    if (!takes(spec, value)) return fail(`${name}${value} is not a value it takes`);
    commands.push({ kind: 'basic', name, value });
    // A and O take the line over (answer, go online): what follows them is not read, as on a modem.
    if (name === 'A' || name === 'O') return { ok: true, commands };
  }
}
