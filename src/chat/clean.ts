/**
 * chat(8)'s string "cleaning": turns the escapes of a script string into bytes, exactly as chat.c's
 * clean() does, including its odd corners (\N is NUL only when sending, octal 0 vanishes in expect
 * strings, a lone trailing backslash survives only when sending). When sending, the result still
 * carries `\` + letter pairs for the actions put_string() performs (\d delay, \p pause, \K break,
 * `\\` literal backslash, `\` + NUL) — {@link sendActions} interprets them.
 */
export interface CleanContext {
  /** -T: replaces \T in send strings. */
  phone?: Buffer;
  /** -U: replaces \U in send strings. */
  phone2?: Buffer;
  /** -E: `$NAME` expands from this environment. */
  env?: NodeJS.ProcessEnv;
}

export interface Cleaned {
  bytes: Buffer;
  /** \q seen: verbose output shows the send string as ?????? (passwords). */
  quiet: boolean;
}

const BS = 0x5c;
const isOctal = (c: number): boolean => c >= 0x30 && c <= 0x37;
const isAlnumX = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;

export function clean(input: Buffer, sending: boolean, ctx: CleanContext = {}): Cleaned {
  // chat works on C strings: anything after a NUL is invisible to it.
  const nul = input.indexOf(0);
  const s = nul >= 0 ? input.subarray(0, nul) : input;
  const out: number[] = [];
  let addReturn = sending;
  let quiet = false;
  let i = 0;
  const push = (b: Buffer): void => {
    for (const x of b) out.push(x);
  };
  while (i < s.length) {
    let c = s[i++]!;
    if (c === 0x5e /* ^ */) {
      if (i >= s.length) {
        out.push(0x5e);
        break;
      }
      c = s[i++]! & 0x1f;
      if (c !== 0) out.push(c);
      continue;
    }
    if (ctx.env && c === 0x24 /* $ */) {
      const start = i;
      while (i < s.length && isAlnumX(s[i]!)) i++;
      const value = ctx.env[s.subarray(start, i).toString('latin1')];
      if (value !== undefined) push(Buffer.from(value, 'utf8'));
      continue;
    }
    if (c !== BS) {
      out.push(c);
      continue;
    }
    if (i >= s.length) {
      if (sending) out.push(BS, BS);
      break;
    }
    c = s[i++]!;
    switch (String.fromCharCode(c)) {
      case 'b':
        out.push(0x08);
        break;
      case 'c':
        if (sending && i >= s.length) addReturn = false;
        else out.push(c);
        break;
      case '\\':
      case 'K':
      case 'p':
      case 'd':
        if (sending) out.push(BS);
        out.push(c);
        break;
      case 'T':
      case 'U': {
        const phone = c === 0x54 ? ctx.phone : ctx.phone2;
        if (sending && phone) push(phone);
        else out.push(BS, c);
        break;
      }
      case 'q':
        quiet = true;
        break;
      case 'r':
        out.push(0x0d);
        break;
      case 'n':
        out.push(0x0a);
        break;
      case 's':
        out.push(0x20);
        break;
      case 't':
        out.push(0x09);
        break;
      case 'N':
        if (sending) out.push(BS, 0);
        else out.push(0x4e);
        break;
      default:
        if (c === 0x24 && ctx.env) {
          out.push(c);
          break;
        }
        if (isOctal(c)) {
          let v = c & 7;
          if (i < s.length && isOctal(s[i]!)) {
            v = (v << 3) | (s[i++]! - 0x30);
            if (i < s.length && isOctal(s[i]!)) v = (v << 3) | (s[i++]! - 0x30);
          }
          v &= 0xff; // a C char: \777 wraps
          if (v !== 0 || sending) {
            if (sending && (v === BS || v === 0)) out.push(BS);
            out.push(v);
          }
          break;
        }
        if (sending) out.push(BS);
        out.push(c);
    }
  }
  if (addReturn) out.push(0x0d);
  return { bytes: Buffer.from(out), quiet };
}

/** C strlen of a cleaned string (what chat sees of it). */
export function cLength(b: Buffer): number {
  const n = b.indexOf(0);
  return n < 0 ? b.length : n;
}

/** One thing put_string() does: write bytes, sleep, or send a break. */
export type SendAction = { kind: 'write'; bytes: Buffer } | { kind: 'delay'; ms: number } | { kind: 'break' };

/**
 * What put_string() does with a cleaned send string: plain bytes are written, `\d` sleeps 1 s, `\p`
 * 10 ms, `\K` sends a break, `\` + anything else writes that byte (so `\` NUL writes a NUL).
 * Consecutive bytes are merged into one write.
 */
export function sendActions(cleaned: Buffer): SendAction[] {
  const actions: SendAction[] = [];
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length) actions.push({ kind: 'write', bytes: Buffer.from(pending) });
    pending = [];
  };
  let i = 0;
  // C loop: while (*s) — stops at a NUL unless it was consumed as the byte after a backslash.
  while (i < cleaned.length && cleaned[i] !== 0) {
    const c = cleaned[i++]!;
    if (c !== BS) {
      pending.push(c);
      continue;
    }
    const e = i < cleaned.length ? cleaned[i++]! : 0;
    if (e === 0x64 /* d */) {
      flush();
      actions.push({ kind: 'delay', ms: 1000 });
    } else if (e === 0x70 /* p */) {
      flush();
      actions.push({ kind: 'delay', ms: 10 });
    } else if (e === 0x4b /* K */) {
      flush();
      actions.push({ kind: 'break' });
    } else {
      pending.push(e);
      if (i > cleaned.length) break;
    }
  }
  flush();
  return actions;
}
