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

/** Highest value each basic command takes (lowest is 0); a command not listed is unknown (ERROR). */
const BASIC_MAX: Readonly<Record<string, number>> = {
  A: 0, B: 1, C: 1, E: 1, F: 1, H: 1, I: 7, L: 3, M: 3, N: 1, O: 1, P: 0, Q: 1, T: 0, V: 1, W: 2, X: 4, Y: 1, Z: 1,
  '&B': 2, '&C': 1, '&D': 3, '&F': 2, '&G': 2, '&J': 1, '&K': 6, '&L': 1, '&M': 3, '&P': 3, '&Q': 6, '&R': 1,
  '&S': 1, '&T': 8, '&V': 1, '&W': 1, '&X': 2, '&Y': 1,
  '\\A': 3, '\\B': 9, '\\C': 2, '\\G': 1, '\\J': 1, '\\K': 5, '\\N': 7, '\\Q': 3, '\\T': 90, '\\V': 2, '\\X': 1,
  '%C': 3, '%E': 3,
};

/** V.250 extended commands dialers send (init strings, wvdialconf, Windows' modem INF files). */
export const EXTENDED = new Set(['+FCLASS', '+GCAP', '+GMI', '+GMM', '+GMR', '+GSN', '+IPR', '+ICF', '+IFC', '+MS', '+ES', '+DS', '+DR', '+ER', '+ILRR']);

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
    const max = BASIC_MAX[name];
    if (max === undefined) return fail(`unknown command ${name}`);
    const value = number() ?? 0;
    if (value > max) return fail(`${name}${value} out of range 0-${max}`);
    commands.push({ kind: 'basic', name, value });
    // A and O take the line over (answer, go online): what follows them is not read, as on a modem.
    if (name === 'A' || name === 'O') return { ok: true, commands };
  }
}
