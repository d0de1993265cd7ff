import { readFileSync } from 'node:fs';
import { CHAT_EXIT } from '../exit-codes.js';
import { errnoText } from '../socket-reason.js';
import { sleep } from '../runtime/sleep.js';
import type { Duplex } from 'node:stream';
import { clean, cLength, sendActions, type CleanContext } from './clean.js';
import { ChatIoError } from './chat-errors.js';
import { ByteReader, deviceGone } from './reader.js';
import type { ChatToken } from './script.js';
import { character, visible } from './visible.js';

export const DEFAULT_TIMEOUT = 45;
export const MAX_ABORTS = 50;
export const MAX_REPORTS = 50;
/** chat's fail_buffer: ABORT/REPORT strings must fit in it with their NUL. */
const FAIL_BUFFER = 50;
/** chat's rolling receive buffer (temp[STR_LEN] in get_string). */
const STR_LEN = 1024;
/** ppp 2.4.9's report_buffer. */
const REPORT_BUFFER = 256;

export interface ChatOptions {
  /** Seconds per expect (-t); 0 waits forever, as alarm(0) does. Default 45. */
  timeout?: number;
  /** -v: log what is expected, sent and received. */
  verbose?: boolean;
  /** -V: copy received bytes to stderr as they arrive. */
  stderrVerbose?: boolean;
  /** -e: start with ECHO ON. */
  echo?: boolean;
  /** -T / -U */
  phone?: string;
  phone2?: string;
  /** -E: expand $NAME from this environment. */
  env?: NodeJS.ProcessEnv;
  /** Set when -r named a report file (changes what -v writes into it). */
  reportFileName?: string;
  signal?: AbortSignal;
  /** Clock for REPORT time stamps (tests). */
  now?: () => Date;
  /** A `\K` in a send string: break the line (chat calls tcsendbreak(0, 0)); when unset it does nothing. */
  sendBreak?: () => void | Promise<void>;
}

/** Where chat's output goes; the CLI decides (stderr, syslog, a report file). */
export interface ChatOutput {
  /** One msgf() line (syslog and/or stderr in chat). */
  log(line: string): void;
  /** Raw bytes chat writes to fd 2: SAY, ECHO, -V. */
  stderr(bytes: Buffer): void;
  /** Text for the report file (-r), or stderr when there is none. */
  report(text: string): void;
  /** SIGHUP handling was switched (HANGUP ON/OFF). */
  hangup?(on: boolean): void;
}

export interface ChatResult {
  exitCode: number;
  /** Set when the line failed (exit 2): one line saying what happened. */
  error?: string;
}

type Flag = 'say' | 'hup' | 'echo' | 'abort' | 'clrAbort' | 'report' | 'clrReport' | 'timeout';
/** Words that, in expect position, make the next word their argument. */
const KEYWORDS = new Map<string, Flag>([
  ['HANGUP', 'hup'], ['ABORT', 'abort'], ['CLR_ABORT', 'clrAbort'], ['REPORT', 'report'],
  ['CLR_REPORT', 'clrReport'], ['TIMEOUT', 'timeout'], ['ECHO', 'echo'], ['SAY', 'say'],
]);

/** Unwinds the run with chat's exit status once terminate() has done its closing work. */
class Terminate extends Error {
  constructor(readonly code: number) {
    super(`terminate ${code}`);
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');
/** strftime "%b %d %H:%M:%S " in the C locale. */
function stamp(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} `;
}
const isCntrl = (c: number): boolean => c < 0x20 || c === 0x7f;
const str = (b: Buffer): string => b.toString('latin1');
/** C atoi(): optional spaces and sign, then digits; 0 when there are none. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Math.trunc(Number(m[1])) | 0 : 0;
}

/**
 * Runs a tokenized chat script over `line`, following chat.c (ppp 2.4.9) step by step: the same
 * keyword state, the same rolling match buffer with REPORT, expect and ABORT checks after each
 * byte, the same messages. Returns chat's exit status; throws nothing for script outcomes.
 */
export async function runChat(
  tokens: ChatToken[],
  line: Duplex,
  options: ChatOptions,
  output: ChatOutput,
): Promise<ChatResult> {
  const run = new ChatRun(line, options, output);
  try {
    await run.script(tokens);
    await run.terminate(CHAT_EXIT.OK);
  } catch (err) {
    if (err instanceof Terminate) return { exitCode: err.code };
    if (err instanceof ChatIoError) {
      output.log(err.message);
      return { exitCode: err.exitCode, error: err.message };
    }
    throw err;
  } finally {
    run.reader.detach();
  }
  return { exitCode: CHAT_EXIT.OK };
}

class ChatRun {
  readonly reader: ByteReader;
  private timeout: number;
  private readonly verbose: boolean;
  private readonly Verbose: boolean;
  private echo: boolean;
  private readonly ctx: CleanContext;
  private readonly aborts: Buffer[] = [];
  private readonly reports: (Buffer | null)[] = [];
  private failReason: Buffer | undefined;
  private exitCode: number = CHAT_EXIT.OK;
  private reportGathering = false;
  private reportBuffer = '';
  private needLf = false;
  private terminating = false;
  private next = { say: 0, hup: 0, echo: 0, abort: 0, clrAbort: 0, report: 0, clrReport: 0, timeout: 0 };

  constructor(
    private readonly line: Duplex,
    private readonly o: ChatOptions,
    private readonly out: ChatOutput,
  ) {
    this.reader = new ByteReader(line);
    this.timeout = o.timeout ?? DEFAULT_TIMEOUT;
    this.verbose = !!o.verbose;
    this.Verbose = !!o.stderrVerbose;
    this.echo = !!o.echo;
    this.ctx = {
      ...(o.phone !== undefined ? { phone: Buffer.from(o.phone) } : {}),
      ...(o.phone2 !== undefined ? { phone2: Buffer.from(o.phone2) } : {}),
      ...(o.env ? { env: o.env } : {}),
    };
  }

  private msg(s: string): void {
    this.out.log(s);
  }

  /** chat's checksigs(): a signal (here: the AbortSignal) ends the run with status 2. */
  private async checkSignal(): Promise<void> {
    const s = this.o.signal;
    if (s?.aborted) {
      const reason: unknown = s.reason;
      await this.fatal(CHAT_EXIT.IO, typeof reason === 'string' ? reason : 'aborted');
    }
  }

  /** chat's fatal(): log the message, then terminate. */
  private async fatal(code: number, message: string): Promise<never> {
    this.msg(message);
    return this.terminate(code);
  }

  async terminate(code: number): Promise<never> {
    if (this.terminating) throw new Terminate(code);
    this.terminating = true;
    this.echoStderr(-1);
    if (this.reportGathering) {
      // Let the rest of the report line arrive (1 s per byte, as chat's alarm(1)).
      while (this.reportBuffer.length + 1 <= REPORT_BUFFER) {
        let c = this.reader.next();
        if (c === undefined) {
          try {
            const r = await this.reader.wait(1000, this.o.signal);
            if (r !== 'data') break;
          } catch {
            break;
          }
          c = this.reader.next();
          if (c === undefined) break;
        }
        c &= 0x7f;
        if (isCntrl(c)) break;
        this.reportBuffer += String.fromCharCode(c);
      }
      this.out.report(`chat:  ${this.reportBuffer.slice(0, REPORT_BUFFER - 1)}\n`);
    }
    if (this.o.reportFileName !== undefined && this.verbose) {
      this.out.report(`Closing "${this.o.reportFileName}".\n`);
    }
    throw new Terminate(code);
  }

  async script(tokens: ChatToken[]): Promise<void> {
    for (let i = 0; i < tokens.length; i++) {
      if (i % 2 === 0) await this.expect(tokens[i]!.bytes);
      else await this.send(tokens[i]!.bytes);
      await this.checkSignal();
    }
  }

  private async expect(s: Buffer): Promise<void> {
    const keyword = KEYWORDS.get(str(s));
    if (keyword) {
      this.next[keyword]++;
      return;
    }
    // expect-reply-expect-reply…: a reply is sent only after its expect timed out.
    const parts = splitSubexpects(s);
    let k = 0;
    for (;;) {
      const expect = parts[k++];
      if (expect === undefined) return;
      const reply = parts[k++];
      if (await this.getString(expect)) return;
      if (reply === undefined || this.exitCode !== CHAT_EXIT.TIMEOUT) break;
      await this.send(reply);
      await this.checkSignal();
    }
    this.msg(this.failReason ? `Failed (${str(this.failReason)})` : 'Failed');
    await this.terminate(this.exitCode);
  }

  private async send(s: Buffer): Promise<void> {
    const n = this.next;
    if (n.say) {
      n.say = 0;
      const c = clean(s, true, this.ctx).bytes;
      this.out.stderr(c.subarray(0, cLength(c)));
      return;
    }
    if (n.hup) {
      n.hup = 0;
      this.out.hangup?.(str(s) !== 'OFF');
      return;
    }
    if (n.echo) {
      n.echo = 0;
      this.echo = str(s) === 'ON';
      return;
    }
    if (n.abort) {
      n.abort = 0;
      if (this.aborts.length >= MAX_ABORTS) await this.fatal(CHAT_EXIT.IO, 'Too many ABORT strings');
      const s1 = await this.limited(s, 'ABORT');
      this.aborts.push(s1);
      if (this.verbose) this.msg(`abort on (${visible(s)})`);
      return;
    }
    if (n.clrAbort) {
      n.clrAbort = 0;
      const s1 = await this.limited(s, 'CLR_ABORT');
      for (let i = 0; i < this.aborts.length; ) {
        if (this.aborts[i]!.equals(s1)) {
          this.aborts.splice(i, 1);
          if (this.verbose) this.msg(`clear abort on (${visible(s)})`);
        } else i++;
      }
      return;
    }
    if (n.report) {
      n.report = 0;
      if (this.reports.length >= MAX_REPORTS) await this.fatal(CHAT_EXIT.IO, 'Too many REPORT strings');
      const s1 = await this.limited(s, 'REPORT');
      this.reports.push(s1);
      if (this.verbose) this.msg(`report (${visible(s)})`);
      return;
    }
    if (n.clrReport) {
      n.clrReport = 0;
      const s1 = await this.limited(s, 'REPORT');
      for (let i = 0; i < this.reports.length; ) {
        const r = this.reports[i];
        // chat strcmp()s against the NULL left by a REPORT that already fired and crashes; we skip it.
        if (r && r.equals(s1)) {
          this.reports.splice(i, 1);
          if (this.verbose) this.msg(`clear report (${visible(s)})`);
        } else i++;
      }
      return;
    }
    if (n.timeout) {
      n.timeout = 0;
      this.timeout = atoi(str(clean(s, false, this.ctx).bytes));
      if (this.timeout <= 0) this.timeout = DEFAULT_TIMEOUT;
      if (this.verbose) this.msg(`timeout set to ${this.timeout} seconds`);
      return;
    }
    let text = s;
    if (s[0] === 0x40 /* @ */) {
      let f = 1;
      while (s[f] === 0x20 || s[f] === 0x09) f++;
      if (f < s.length) {
        const fn = str(s.subarray(f));
        let data: Buffer;
        try {
          data = readFileSync(fn).subarray(0, STR_LEN - 1);
        } catch (err) {
          return this.fatal(CHAT_EXIT.BAD_PARAMETERS, `${fn} -- open failed: ${errText(err)}`);
        }
        if (data.length > 0 && data[data.length - 1] === 0x0a) data = data.subarray(0, data.length - 1);
        text = data;
      }
    }
    if (str(text) === 'EOT') text = Buffer.from('^D\\c');
    else if (str(text) === 'BREAK') text = Buffer.from('\\K\\c');
    await this.putString(text);
  }


  /** chat's checks for ABORT/REPORT strings (2.4.9: the cleaned form may not grow, and must fit). */
  private async limited(s: Buffer, what: string): Promise<Buffer> {
    const s1 = clean(s, false, this.ctx).bytes;
    const len = cLength(s1);
    if (len > cLength(s) || len + 1 > FAIL_BUFFER) {
      await this.fatal(CHAT_EXIT.BAD_PARAMETERS, `Illegal or too-long ${what} string ('${visible(s)}')`);
    }
    return s1.subarray(0, len);
  }

  private async putString(s: Buffer): Promise<void> {
    const { bytes, quiet } = clean(s, true, this.ctx);
    if (this.verbose) this.msg(quiet ? 'send (??????)' : `send (${visible(bytes)})`);
    for (const action of sendActions(bytes)) {
      if (action.kind === 'write') await this.write(action.bytes);
      else if (action.kind === 'delay') await sleep(action.ms, this.o.signal);
      else await this.o.sendBreak?.();
      await this.checkSignal();
    }
  }

  private write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.line.destroyed || !this.line.writable) {
        reject(new ChatIoError('chat: device gone (line not writable)'));
        return;
      }
      this.line.write(bytes, (err) => (err ? reject(deviceGone(err)) : resolve()));
    });
  }

  private echoStderr(n: number): void {
    if (n === 0x0d) return;
    if (n === -1 && !this.needLf) return;
    if (n === -1 || n === 0x0a) {
      this.out.stderr(Buffer.from('\n'));
      this.needLf = false;
      return;
    }
    this.out.stderr(Buffer.from(character(n), 'latin1'));
    this.needLf = true;
  }

  /** get_string(): wait for `expect` (raw script bytes) on the line. */
  private async getString(raw: Buffer): Promise<boolean> {
    this.failReason = undefined;
    const cleaned = clean(raw, false, this.ctx).bytes;
    const len = cLength(cleaned);
    const want = cleaned.subarray(0, len);
    const minlen = Math.max(len, FAIL_BUFFER) - 1;
    if (this.verbose) this.msg(`expect (${visible(want)})`);
    if (len > STR_LEN) {
      this.msg('expect string is too long');
      this.exitCode = CHAT_EXIT.BAD_PARAMETERS;
      return false;
    }
    if (len === 0) {
      if (this.verbose) this.msg('got it');
      return true;
    }
    const temp = Buffer.alloc(STR_LEN);
    let s = 0;
    let logged = 0;
    const deadline = this.timeout > 0 ? Date.now() + this.timeout * 1000 : Infinity;
    for (;;) {
      let c = this.reader.next();
      if (c === undefined) {
        const r = await this.reader.wait(deadline - Date.now(), this.o.signal);
        if (r === 'abort') await this.checkSignal();
        if (r === 'timeout') break;
        continue;
      }
      c &= 0x7f; // chat sets ISTRIP and masks the byte again
      if (this.echo) this.echoStderr(c);
      if (this.verbose && c === 0x0a) {
        this.msg(s === logged ? '' : visible(temp.subarray(logged, s), true));
        logged = s + 1;
      }
      temp[s++] = c;
      if (this.verbose && s >= logged + 80) {
        this.msg(visible(temp.subarray(logged, s), true));
        logged = s;
      }
      if (this.Verbose) {
        if (c === 0x0a) this.out.stderr(Buffer.from('\n'));
        else if (c !== 0x0d) this.out.stderr(Buffer.from(character(c), 'latin1'));
      }
      if (!this.reportGathering) {
        for (let n = 0; n < this.reports.length; n++) {
          const r = this.reports[n];
          if (r && s >= r.length && temp.subarray(s - r.length, s).equals(r)) {
            this.reportBuffer = stamp((this.o.now ?? (() => new Date()))()) + str(r);
            this.reports[n] = null;
            this.reportGathering = true;
            break;
          }
        }
      } else if (!isCntrl(c)) {
        if (this.reportBuffer.length < REPORT_BUFFER - 1) this.reportBuffer += String.fromCharCode(c);
      } else {
        this.reportGathering = false;
        this.out.report(`chat:  ${this.reportBuffer}\n`);
      }
      if (s >= len && c === want[len - 1] && temp.subarray(s - len, s).equals(want)) {
        if (this.verbose) {
          if (s > logged) this.msg(visible(temp.subarray(logged, s), true));
          this.msg(' -- got it\n');
        }
        return true;
      }
      for (let n = 0; n < this.aborts.length; n++) {
        const a = this.aborts[n]!;
        if (s >= a.length && temp.subarray(s - a.length, s).equals(a)) {
          if (this.verbose) {
            if (s > logged) this.msg(visible(temp.subarray(logged, s), true));
            this.msg(' -- failed');
          }
          this.exitCode = CHAT_EXIT.FIRST_ABORT + n;
          this.failReason = a;
          return false;
        }
      }
      if (s >= STR_LEN) {
        if (logged < s - minlen) {
          if (this.verbose) this.msg(visible(temp.subarray(logged, s), true));
          logged = s;
        }
        temp.copy(temp, 0, s - minlen, s);
        logged = logged - (s - minlen);
        s = minlen;
      }
    }
    if (this.verbose) this.msg('alarm');
    this.exitCode = CHAT_EXIT.TIMEOUT;
    return false;
  }
}

/** expect_strtok(s, "-") applied repeatedly: split on '-' not preceded by a backslash escape. */
export function splitSubexpects(s: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  if (cLength(s) === 0) return parts;
  let start = 0;
  let i = 0;
  const n = cLength(s);
  while (i < n) {
    if (s[i] === 0x5c) {
      i += 2;
      continue;
    }
    if (s[i] === 0x2d) {
      parts.push(s.subarray(start, i));
      i++;
      start = i;
      if (i >= n) return parts; // strtok returns NULL at the end of the string
      continue;
    }
    i++;
  }
  parts.push(s.subarray(start, Math.min(i, n)));
  return parts;
}

/** strerror(3)'s words, as chat(8) prints them (`No such file or directory`), from the one errno table. */
export function errText(err: unknown): string {
  const text = errnoText(err);
  return text.charAt(0).toUpperCase() + text.slice(1);
}
