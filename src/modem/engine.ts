import { parseCommandLine, type ModemCommand } from './command-line.js';
import { identify } from './identity.js';
import { CommandLineReader, MAX_LINE } from './line-reader.js';
import { connectResult, formatInfo, formatResult, result, type Result } from './result-codes.js';
import { copySettings, factorySettings, S, type ModemSettings } from './settings.js';

/**
 * A Hayes-compatible modem as a pure state machine: bytes and the time in, bytes to send and what
 * happened out. No I/O and no clock of its own, so the session (session.ts) drives it over a real
 * line and tests drive it with any bytes at any time.
 *
 * The "telephone line" behind this modem always has ppp-laplink on it: any number dialled connects,
 * and ATA always finds a caller. So `D` and `A` answer CONNECT at the profile's speed.
 */

export interface EngineOptions {
  /** Speed reported in `CONNECT <speed>`. */
  connectSpeed: number;
  /** Ring the dialer (the peer waits for a call and answers with ATA, or S0 auto-answer). */
  ring?: boolean;
  /** Milliseconds between RINGs (a US ring cadence is 6 s). */
  ringIntervalMs?: number;
}

export type EngineEvent =
  /** Bytes for the dialer. */
  | { type: 'send'; bytes: Buffer }
  /** A command line as received (`AT…`, or `A/`). */
  | { type: 'command'; text: string }
  /** The answer to it, as a word (also when Q1 keeps it off the line). */
  | { type: 'reply'; text: string }
  /** A number was dialled (`D`); stayInCommandMode for a dial string ending in `;`. */
  | { type: 'dialled'; number: string; stayInCommandMode: boolean }
  /** The modem went online: the dialer's data now goes to PPP. */
  | { type: 'connected'; how: 'dialled' | 'answered'; speed: number; number?: string }
  /** The dialer escaped (+++) or hung up (H) an online connection. */
  | { type: 'escaped' }
  /** Bytes the dialer sent while online: the connection's data. */
  | { type: 'data'; bytes: Buffer }
  | { type: 'hung-up' }
  /**
   * Bytes that came after a command line hanging up a connection, left unread: the engine stops
   * there, since what a dialer sends after ATH (ATDT at once, in the same chunk) is the next
   * call's, to be fed once whoever answers that call has the line.
   */
  | { type: 'unread'; bytes: Buffer };

export class ModemEngine {
  private settings: ModemSettings = factorySettings();
  /** The profile `Z` restores, saved by `&W`. */
  private stored: ModemSettings = factorySettings();
  private readonly reader = new CommandLineReader();
  private lastLine = '';
  private mode: 'command' | 'online' = 'command';
  /** A connection exists (online, or escaped to command mode and resumable with O). */
  private connection = false;
  private lastNumber = '';
  private nextRingAt: number | undefined;
  private readonly ringIntervalMs: number;
  // Escape detection while online: the time of the last byte and the pluses counted so far.
  private lastByteAt = Number.NEGATIVE_INFINITY;
  private pluses = 0;
  /** The command line being run hung a connection up: feed() stops after it. */
  private hungUp = false;

  constructor(
    private readonly options: EngineOptions,
    now: number,
  ) {
    this.ringIntervalMs = options.ringIntervalMs ?? 6000;
    if (options.ring) this.nextRingAt = now;
  }

  /** Bytes of command line held (bounded by MAX_LINE whatever arrives). */
  get buffered(): number {
    return this.reader.buffered + this.lastLine.length;
  }

  get online(): boolean {
    return this.mode === 'online';
  }

  /** When tick() next has something to do (a RING, the guard time after +++), or undefined. */
  nextDeadline(): number | undefined {
    if (this.mode === 'online') return this.pluses === 3 ? this.lastByteAt + this.guardMs() : undefined;
    return this.nextRingAt;
  }

  /** Time passed: ring, auto-answer, or complete a +++ escape. */
  tick(now: number): EngineEvent[] {
    const out: EngineEvent[] = [];
    if (this.mode === 'online') {
      if (this.pluses === 3 && now - this.lastByteAt >= this.guardMs()) {
        this.pluses = 0;
        this.mode = 'command';
        out.push({ type: 'escaped' });
        this.reply(out, result('OK'));
      }
      return out;
    }
    if (this.nextRingAt !== undefined && now >= this.nextRingAt) {
      this.nextRingAt = now + this.ringIntervalMs;
      const rings = Math.min(255, this.settings.registers[S.ringCount]! + 1);
      this.settings.registers[S.ringCount] = rings;
      this.reply(out, result('RING'));
      const autoAnswer = this.settings.registers[S.autoAnswerRings]!;
      if (autoAnswer > 0 && rings >= autoAnswer) this.goOnline(out, 'answered');
    }
    return out;
  }

  /**
   * The far end hung up (pppd ended the call): back to command mode with NO CARRIER, as a modem
   * whose line dropped; the dialer may dial again. Nothing when there was no connection.
   */
  carrierLost(): EngineEvent[] {
    const out: EngineEvent[] = [];
    if (!this.connection) return out;
    this.connection = false;
    this.mode = 'command';
    this.pluses = 0;
    this.reply(out, result('NO CARRIER'));
    return out;
  }

  /** Bytes from the dialer. While online they are data (the caller forwards them) and only watched for +++. */
  feed(bytes: Uint8Array, now: number): EngineEvent[] {
    const out: EngineEvent[] = [];
    for (let k = 0; k < bytes.length; k++) {
      if (this.mode === 'online') {
        const data = bytes.subarray(k);
        for (const b of data) this.watchEscape(b, now);
        out.push({ type: 'data', bytes: Buffer.from(data) });
        return out;
      }
      const r = this.settings.registers;
      const step = this.reader.push(bytes[k]!, r[S.carriageReturn]!, r[S.backspace]!);
      if (this.settings.echo && step.echo.length) out.push({ type: 'send', bytes: Buffer.from(step.echo) });
      const e = step.event;
      if (e?.type === 'line') {
        out.push({ type: 'command', text: `AT${e.text}` });
        if (e.text.trim() !== '') this.lastLine = e.text;
        this.runLine(e.text, out);
      } else if (e?.type === 'repeat') {
        out.push({ type: 'command', text: 'A/' });
        this.runLine(this.lastLine, out);
      } else if (e?.type === 'overflow') {
        out.push({ type: 'command', text: `AT… (longer than the ${MAX_LINE + 2}-character command buffer)` });
        this.reply(out, result('ERROR'));
      }
      if (this.hungUp) {
        this.hungUp = false;
        if (k + 1 < bytes.length) out.push({ type: 'unread', bytes: Buffer.from(bytes.subarray(k + 1)) });
        return out;
      }
    }
    return out;
  }

  private guardMs(): number {
    return this.settings.registers[S.guardTime]! * 20;
  }

  /** Hayes escape: guard time of silence, three escape characters each within the guard time, guard time of silence (checked in tick). */
  private watchEscape(b: number, now: number): void {
    const escape = this.settings.registers[S.escapeChar]!;
    const guard = this.guardMs();
    const quietBefore = now - this.lastByteAt;
    if (escape <= 127 && b === escape && (this.pluses === 0 ? quietBefore >= guard : this.pluses < 3 && quietBefore < guard)) this.pluses++;
    else this.pluses = 0;
    this.lastByteAt = now;
  }

  private reply(out: EngineEvent[], r: Result): void {
    out.push({ type: 'reply', text: r.text });
    const text = formatResult(this.settings, r);
    if (text) out.push({ type: 'send', bytes: Buffer.from(text, 'latin1') });
  }

  private info(out: EngineEvent[], lines: string[]): void {
    out.push({ type: 'send', bytes: Buffer.from(formatInfo(this.settings, lines), 'latin1') });
  }

  private goOnline(out: EngineEvent[], how: 'dialled' | 'answered', number?: string): void {
    this.mode = 'online';
    this.connection = true;
    this.nextRingAt = undefined;
    this.settings.registers[S.ringCount] = 0;
    this.pluses = 0;
    this.lastByteAt = Number.NEGATIVE_INFINITY;
    this.reply(out, connectResult(this.options.connectSpeed, this.settings.xLevel));
    out.push({ type: 'connected', how, speed: this.options.connectSpeed, ...(number !== undefined ? { number } : {}) });
  }

  private runLine(text: string, out: EngineEvent[]): void {
    const parsed = parseCommandLine(text);
    if (!parsed.ok) {
      this.reply(out, result('ERROR'));
      return;
    }
    for (const c of parsed.commands) {
      const final = this.run(c, out);
      if (final) {
        if (final !== 'done') this.reply(out, final);
        return;
      }
    }
    this.reply(out, result('OK'));
  }

  /** Runs one command; returns the line's final result when this command decides it ('done' when already sent). */
  private run(c: ModemCommand, out: EngineEvent[]): Result | 'done' | undefined {
    const s = this.settings;
    switch (c.kind) {
      case 'register-set':
        s.registers[c.register] = c.value;
        return undefined;
      case 'register-query':
        this.info(out, [String(s.registers[c.register]).padStart(3, '0')]);
        return undefined;
      case 'extended':
        return this.extended(c, out);
      case 'dial': {
        const number = c.dialString.length > 0 || !this.lastNumber ? c.dialString : this.lastNumber;
        this.lastNumber = number;
        out.push({ type: 'dialled', number: dialledNumber(number), stayInCommandMode: c.stayInCommandMode });
        if (c.stayInCommandMode) return result('OK');
        this.goOnline(out, 'dialled', dialledNumber(number));
        return 'done';
      }
      case 'basic':
        return this.basic(c.name, c.value, out);
    }
  }

  private basic(name: string, value: number, out: EngineEvent[]): Result | 'done' | undefined {
    const s = this.settings;
    switch (name) {
      case 'E':
        s.echo = value === 1;
        return undefined;
      case 'V':
        s.verbose = value === 1;
        return undefined;
      case 'Q':
        s.quiet = value === 1;
        return undefined;
      case 'X':
        s.xLevel = value;
        return undefined;
      case 'Z':
        this.settings = copySettings(this.stored);
        return undefined;
      case '&F':
        this.settings = factorySettings();
        return undefined;
      case '&W':
        this.stored = copySettings(s);
        return undefined;
      case '&V':
        this.info(out, describeSettings(s));
        return undefined;
      case 'I':
        this.info(out, identify(value));
        return undefined;
      case 'H':
        if (this.connection) {
          out.push({ type: 'hung-up' });
          this.hungUp = true;
        }
        this.connection = false;
        s.registers[S.ringCount] = 0;
        return undefined;
      case 'O':
        if (!this.connection) return result('NO CARRIER');
        this.mode = 'online';
        this.pluses = 0;
        this.lastByteAt = Number.NEGATIVE_INFINITY;
        this.reply(out, connectResult(this.options.connectSpeed, s.xLevel));
        out.push({ type: 'connected', how: 'answered', speed: this.options.connectSpeed });
        return 'done';
      case 'A':
        this.goOnline(out, 'answered');
        return 'done';
      default:
        s.other.set(name, value);
        return undefined;
    }
  }

  private extended(c: Extract<ModemCommand, { kind: 'extended' }>, out: EngineEvent[]): Result | undefined {
    const key = c.name;
    switch (c.form) {
      case 'set':
        this.settings.other.set(key, 0);
        return undefined;
      case 'test':
        this.info(out, [key === '+FCLASS' ? '0' : `${key}: (0-255)`]);
        return undefined;
      case 'read':
      case 'exec': {
        const text = extendedValue(key, this.options.connectSpeed, c.form);
        if (text !== undefined) this.info(out, [text]);
        return undefined;
      }
    }
  }
}

/** What an extended command shows when read (`+X?`) or, for identification commands, run (`+GMI`). */
function extendedValue(key: string, speed: number, form: 'read' | 'exec'): string | undefined {
  const identification: Record<string, string> = {
    '+GCAP': '+GCAP: +FCLASS, +MS, +ES, +DS',
    '+GMI': 'ppp-laplink',
    '+GMM': 'Hayes-compatible null-modem emulator',
    '+GMR': '1',
    '+GSN': '0',
  };
  if (form === 'exec') return identification[key];
  const readable: Record<string, string> = {
    '+FCLASS': '0',
    '+IPR': `+IPR: ${speed}`,
    '+ICF': '+ICF: 3,3',
    '+IFC': '+IFC: 0,0',
    '+MS': '+MS: V34,1,300,33600,300,33600',
  };
  return identification[key] ?? readable[key] ?? `${key}: 0`;
}

/** The number as a person reads it: the dial string without its leading T/P (tone/pulse) modifier. */
export function dialledNumber(dialString: string): string {
  return dialString.replace(/^[TtPp]/, '');
}

function describeSettings(s: ModemSettings): string[] {
  const flags = `E${s.echo ? 1 : 0} Q${s.quiet ? 1 : 0} V${s.verbose ? 1 : 0} X${s.xLevel}`;
  const others = [...s.other].map(([k, v]) => `${k}${v}`).join(' ');
  const regs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => `S${String(n).padStart(2, '0')}:${String(s.registers[n]).padStart(3, '0')}`).join(' ');
  return ['ACTIVE PROFILE:', others ? `${flags} ${others}` : flags, regs];
}
