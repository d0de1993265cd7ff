/**
 * Telnet framing (RFC 854/855) for bridge sessions: IAC doubling both ways, option negotiation for
 * BINARY, SGA and ECHO (plus COM-PORT-OPTION when RFC 2217 is on), BREAK to the line, and
 * subnegotiation handed to a hook. Data without 0xFF passes through without a copy.
 */
import type { Codec, CodecHost } from './codec.js';
import { ModemLineFailures } from './line-failures.js';

export const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, GA = 249;
export const EL = 248, EC = 247, AYT = 246, AO = 245, IP = 244, BRK = 243, DM = 242, NOP = 241, SE = 240;
export const BINARY = 0, ECHO = 1, SGA = 3, COM_PORT = 44;

const names: Record<number, string> = { [BINARY]: 'BINARY', [ECHO]: 'ECHO', [SGA]: 'SGA', [COM_PORT]: 'COM-PORT-OPTION' };
const optName = (o: number) => names[o] ?? `option ${o}`;

/** Longest subnegotiation we accept; RFC 2217's longest is SET-BAUDRATE (1 + 4 bytes). */
const MAX_SB = 64;

const enum S {
  Data,
  Iac,
  Option,
  Sb,
  SbIac,
}

export interface TelnetOptions {
  /** 'server' offers WILL ECHO/SGA/BINARY; 'client' asks DO SGA/BINARY. */
  role: 'server' | 'client';
  /** Options we are willing to enable on our side (WILL) and the peer's (DO). */
  ours: Set<number>;
  theirs: Set<number>;
  /** Options we announce ourselves when the session opens. */
  offerWill: number[];
  offerDo: number[];
  onSubnegotiation?(option: number, data: Buffer): void;
  onBreak?(): void;
}

export class TelnetCodec implements Codec {
  readonly name: string = 'telnet';
  private state = S.Data;
  private verb = 0;
  private sb: number[] = [];
  private sbOverflow = false;
  /** Options currently enabled on our side / the peer's side. */
  readonly usOn = new Set<number>();
  readonly themOn = new Set<number>();
  private lastWasCr = false;

  constructor(
    private readonly host: CodecHost,
    private readonly o: TelnetOptions,
  ) {}

  greeting(): Buffer {
    const out: number[] = [];
    for (const opt of this.o.offerWill) out.push(IAC, WILL, opt), this.usOn.add(opt);
    for (const opt of this.o.offerDo) out.push(IAC, DO, opt), this.themOn.add(opt);
    return Buffer.from(out);
  }

  encode(chunk: Buffer): Buffer {
    let i = chunk.indexOf(IAC);
    if (i < 0) return chunk;
    const parts: Buffer[] = [];
    let from = 0;
    while (i >= 0) {
      parts.push(chunk.subarray(from, i + 1), Buffer.of(IAC));
      from = i + 1;
      i = chunk.indexOf(IAC, from);
    }
    parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  }

  decode(chunk: Buffer): Buffer {
    if (this.state === S.Data && !this.lastWasCr && chunk.indexOf(IAC) < 0 && (this.themOn.has(BINARY) || chunk.indexOf(13) < 0)) {
      return chunk;
    }
    const out = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    // Re-read after each negotiation: a WONT BINARY in mid-chunk puts the rest of it in NVT mode.
    let binary = this.themOn.has(BINARY);
    for (const b of chunk) {
      switch (this.state) {
        case S.Data:
          if (b === IAC) this.state = S.Iac;
          else if (!binary && this.lastWasCr && b === 0) this.lastWasCr = false; // NVT CR NUL → CR
          else {
            out[n++] = b;
            this.lastWasCr = !binary && b === 13;
          }
          break;
        case S.Iac:
          this.state = S.Data;
          if (b === IAC) out[n++] = IAC;
          else if (b >= WILL && b <= DONT) (this.verb = b), (this.state = S.Option);
          else if (b === SB) (this.sb = []), (this.sbOverflow = false), (this.state = S.Sb);
          else if (b === BRK) this.o.onBreak?.();
          else if (b === NOP || b === DM || b === GA || (b >= EL && b <= IP)) {
            /* no meaning on a serial line */
          } else this.host.log(`telnet: ignored unknown command IAC ${b}`);
          break;
        case S.Option:
          this.state = S.Data;
          this.negotiate(this.verb, b);
          binary = this.themOn.has(BINARY);
          break;
        case S.Sb:
          if (b === IAC) this.state = S.SbIac;
          else this.pushSb(b);
          break;
        case S.SbIac:
          if (b === IAC) (this.pushSb(IAC), (this.state = S.Sb));
          else if (b === SE) {
            this.state = S.Data;
            this.endSb();
          } else {
            // RFC 855 says IAC inside SB must be doubled or end it; treat anything else as a broken SB.
            this.host.log(`telnet: malformed subnegotiation (IAC ${b} inside SB), dropped`);
            this.state = b === SB ? S.Sb : S.Data;
            this.sb = [];
          }
          break;
      }
    }
    return out.subarray(0, n);
  }

  private pushSb(b: number): void {
    if (this.sb.length < MAX_SB) this.sb.push(b);
    else this.sbOverflow = true;
  }

  private endSb(): void {
    const [option, ...data] = this.sb;
    if (option === undefined) return this.host.log('telnet: empty subnegotiation ignored');
    if (this.sbOverflow) return this.host.log(`telnet: ${optName(option)} subnegotiation longer than ${MAX_SB} bytes ignored`);
    if (this.o.onSubnegotiation) this.o.onSubnegotiation(option, Buffer.from(data));
    else this.host.log(`telnet: ${optName(option)} subnegotiation ignored`);
  }

  private negotiate(verb: number, opt: number): void {
    const send = (v: number) => this.host.reply(Buffer.of(IAC, v, opt));
    switch (verb) {
      case DO: // peer wants us to enable opt
        if (this.o.ours.has(opt)) {
          if (!this.usOn.has(opt)) (this.usOn.add(opt), send(WILL));
        } else send(WONT);
        break;
      case DONT:
        if (this.usOn.has(opt)) (this.usOn.delete(opt), send(WONT));
        break;
      case WILL: // peer offers to enable opt on its side
        if (this.o.theirs.has(opt)) {
          if (!this.themOn.has(opt)) (this.themOn.add(opt), send(DO));
        } else send(DONT);
        break;
      case WONT:
        if (this.themOn.has(opt)) (this.themOn.delete(opt), send(DONT));
        break;
    }
  }
}

/** Plain telnet as ser2net's `telnet` accepter does it: BINARY both ways, SGA, and we echo (the device does). */
export function telnetServer(host: CodecHost, extra?: Partial<TelnetOptions>): TelnetCodec {
  const failures = new ModemLineFailures((line) => host.log(line), 'telnet');
  return new TelnetCodec(host, {
    role: 'server',
    ours: new Set([BINARY, SGA, ECHO]),
    theirs: new Set([BINARY, SGA]),
    offerWill: [ECHO, SGA, BINARY],
    offerDo: [BINARY],
    onBreak: () => void host.line()?.sendBreak(250).catch((e: unknown) => failures.report(e, 'break')),
    ...extra,
  });
}

export function telnetClient(host: CodecHost, extra?: Partial<TelnetOptions>): TelnetCodec {
  return new TelnetCodec(host, {
    role: 'client',
    ours: new Set([BINARY, SGA]),
    theirs: new Set([BINARY, SGA, ECHO]),
    offerWill: [BINARY],
    offerDo: [BINARY, SGA],
    ...extra,
  });
}
