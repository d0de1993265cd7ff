/**
 * RFC 2217 (Telnet COM-PORT-OPTION). The server side applies a client's requests to the real Line
 * and answers with command code + 100; the client side turns local speed changes into requests.
 */
import { LineError } from '../errors.js';
import type { Line, LineSettings } from '../line/line.js';
import type { CodecHost } from './codec.js';
import { lineFailureReason, ModemLineFailures } from './line-failures.js';
import { BINARY, COM_PORT, ECHO, IAC, SB, SE, SGA, TelnetCodec } from './telnet.js';
import { PORT_OPTIONS, rfc2217Value } from './port-option-table.js';

export const SIGNATURE = 0, SET_BAUDRATE = 1, SET_DATASIZE = 2, SET_PARITY = 3, SET_STOPSIZE = 4, SET_CONTROL = 5;
export const NOTIFY_LINESTATE = 6, NOTIFY_MODEMSTATE = 7, FLOWCONTROL_SUSPEND = 8, FLOWCONTROL_RESUME = 9;
export const SET_LINESTATE_MASK = 10, SET_MODEMSTATE_MASK = 11, PURGE_DATA = 12;
export const SERVER = 100;

/** Expected payload length per command; SIGNATURE is free-form. */
const lengths: Record<number, number> = {
  [SET_BAUDRATE]: 4, [SET_DATASIZE]: 1, [SET_PARITY]: 1, [SET_STOPSIZE]: 1, [SET_CONTROL]: 1,
  [FLOWCONTROL_SUSPEND]: 0, [FLOWCONTROL_RESUME]: 0, [SET_LINESTATE_MASK]: 1, [SET_MODEMSTATE_MASK]: 1, [PURGE_DATA]: 1,
};

const { parity: { rfc2217: PARITY_CODES }, flow: { rfc2217: FLOW_CODES } } = PORT_OPTIONS;

/** Encodes one COM-PORT subnegotiation with IAC doubling. */
export function comPortFrame(command: number, payload: Buffer | number[] = []): Buffer {
  const body: number[] = [];
  for (const b of [command, ...payload]) {
    body.push(b);
    if (b === IAC) body.push(IAC);
  }
  return Buffer.from([IAC, SB, COM_PORT, ...body, IAC, SE]);
}

export interface Rfc2217ServerState {
  suspended: boolean;
  modemMask: number;
  lineMask: number;
  dtr: boolean;
  rts: boolean;
  breakOn: boolean;
}

export class Rfc2217Server extends TelnetCodec {
  override readonly name = 'rfc2217';
  readonly port: Rfc2217ServerState = { suspended: false, modemMask: 255, lineMask: 0, dtr: true, rts: true, breakOn: false };
  private lastModem = -1;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly h: CodecHost,
    private readonly signature = 'ppp-laplink',
  ) {
    super(h, {
      role: 'server',
      ours: new Set([BINARY, SGA, ECHO, COM_PORT]),
      theirs: new Set([BINARY, SGA, COM_PORT]),
      offerWill: [ECHO, SGA, BINARY],
      offerDo: [BINARY, COM_PORT],
      onBreak: () => void h.line()?.sendBreak(250).catch((e: unknown) => this.modemLineFailures.report(e, 'break')),
      onSubnegotiation: (opt, data) => this.handle(opt, data),
    });
  }

  suspended(): boolean {
    return this.port.suspended;
  }

  private timer: NodeJS.Timeout | undefined;
  private firstPoll: NodeJS.Immediate | undefined;

  override greeting(): Buffer {
    // Modem lines have no change events on Linux without a blocking TIOCMIWAIT: poll once a second.
    this.timer = setInterval(() => void this.pollModem().catch(() => undefined), 1000);
    this.timer.unref();
    this.firstPoll = setImmediate(() => void this.pollModem().catch(() => undefined));
    return super.greeting();
  }

  private disposed = false;
  /** Requests queued and not yet answered. */
  private pending = 0;

  backlog(): number {
    return this.pending;
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.timer);
    // A pending first poll would hold the whole session until the next turn of the event loop.
    clearImmediate(this.firstPoll);
  }

  /** Sends NOTIFY-MODEMSTATE when the masked modem state changed (called on a poll timer). */
  async pollModem(): Promise<void> {
    if (this.disposed) return;
    const m = await this.h.line()?.getModem();
    const v = m ? (m.dcd ? 0x80 : 0) | (m.dsr ? 0x20 : 0) | (m.cts ? 0x10 : 0) : 0;
    if (v === this.lastModem) return;
    const delta = this.lastModem < 0 ? 0 : ((v ^ this.lastModem) & 0xb0) >> 4;
    this.lastModem = v;
    const masked = (v | delta) & this.port.modemMask;
    this.h.reply(comPortFrame(NOTIFY_MODEMSTATE + SERVER, [masked]));
  }

  private reply(cmd: number, payload: number[] | Buffer): void {
    this.h.reply(comPortFrame(cmd + SERVER, payload));
  }

  private handle(opt: number, data: Buffer): void {
    if (opt !== COM_PORT) return this.h.log(`telnet: subnegotiation for option ${opt} ignored`);
    const cmd = data[0];
    if (cmd === undefined) return this.h.log('rfc2217: empty COM-PORT subnegotiation ignored');
    const payload = data.subarray(1);
    const want = lengths[cmd];
    if (cmd !== SIGNATURE && want === undefined) return this.h.log(`rfc2217: unknown command ${cmd} ignored`);
    if (want !== undefined && payload.length !== want) {
      return this.h.log(`rfc2217: command ${cmd} with ${payload.length} payload bytes (want ${want}) rejected`);
    }
    // One at a time, in arrival order: replies must come back in the order the client asked.
    const p = Buffer.from(payload);
    this.pending++;
    this.queue = this.queue
      .then(() => (this.disposed ? undefined : this.apply(cmd, p)))
      .catch((e: unknown) => this.h.log(`rfc2217: ${lineFailureReason(e)}`))
      .finally(() => {
        if (--this.pending === 0 && !this.disposed) this.h.settled?.();
      });
  }

  private async apply(cmd: number, p: Buffer): Promise<void> {
    const line = this.h.line();
    const set = async (s: Partial<LineSettings>) => {
      if (!line) throw new LineError('the device is not open');
      await line.apply(s);
    };
    switch (cmd) {
      case SIGNATURE:
        if (p.length === 0) this.reply(SIGNATURE, Buffer.from(this.signature, 'latin1'));
        else this.h.log(`rfc2217: client signature "${p.toString('latin1')}"`);
        return;
      case SET_BAUDRATE: {
        const bps = p.readUInt32BE(0);
        if (bps !== 0) await set({ speed: bps }).catch((e: unknown) => this.h.log(`rfc2217: speed ${bps}: ${lineFailureReason(e)}`));
        const now = line?.settings.speed ?? 0;
        const out = Buffer.alloc(4);
        out.writeUInt32BE(now >>> 0);
        return this.reply(SET_BAUDRATE, out);
      }
      case SET_DATASIZE: {
        const v = p[0]!;
        if (v >= 5 && v <= 8) await set({ dataBits: v as 5 | 6 | 7 | 8 }).catch((e: unknown) => this.h.log(`rfc2217: data size ${v}: ${lineFailureReason(e)}`));
        else if (v !== 0) this.h.log(`rfc2217: data size ${v} rejected`);
        return this.reply(SET_DATASIZE, [line?.settings.dataBits ?? 8]);
      }
      case SET_PARITY: {
        const v = p[0]!;
        const parity = rfc2217Value(PARITY_CODES, v);
        if (parity) await set({ parity }).catch((e: unknown) => this.h.log(`rfc2217: parity ${parity}: ${lineFailureReason(e)}`));
        else if (v !== 0) this.h.log(`rfc2217: parity code ${v} rejected`);
        return this.reply(SET_PARITY, [PARITY_CODES[line?.settings.parity ?? 'none']]);
      }
      case SET_STOPSIZE: {
        const v = p[0]!;
        if (v === 1 || v === 2) await set({ stopBits: v }).catch((e: unknown) => this.h.log(`rfc2217: stop bits ${v}: ${lineFailureReason(e)}`));
        else if (v !== 0) this.h.log(`rfc2217: stop size code ${v} rejected (1.5 stop bits unsupported)`);
        return this.reply(SET_STOPSIZE, [line?.settings.stopBits ?? 1]);
      }
      case SET_CONTROL:
        return this.control(p[0]!, line);
      case FLOWCONTROL_SUSPEND:
        this.port.suspended = true;
        this.h.flow(true);
        return;
      case FLOWCONTROL_RESUME:
        this.port.suspended = false;
        this.h.flow(false);
        return;
      case SET_LINESTATE_MASK:
        this.port.lineMask = p[0]!;
        return this.reply(SET_LINESTATE_MASK, [p[0]!]);
      case SET_MODEMSTATE_MASK:
        this.port.modemMask = p[0]!;
        return this.reply(SET_MODEMSTATE_MASK, [p[0]!]);
      case PURGE_DATA:
        if (p[0]! >= 1 && p[0]! <= 3) await line?.purge();
        return this.reply(PURGE_DATA, [p[0]!]);
    }
  }

  private readonly modemLineFailures = new ModemLineFailures((line) => this.h.log(line), 'rfc2217');

  private async control(v: number, line: Line | undefined): Promise<void> {
    const flowCode = () => FLOW_CODES[line?.settings.flow ?? 'none'];
    const modem = async (lines: { dtr?: boolean; rts?: boolean }) => {
      // Remember what was asked even when the device has no modem lines (a pty), and say so.
      Object.assign(this.port, lines);
      await line?.setModem(lines).catch((e: unknown) => this.modemLineFailures.report(e));
    };
    switch (v) {
      case 0:
        return this.reply(SET_CONTROL, [flowCode()]);
      case 1:
      case 2:
      case 3:
        await line?.apply({ flow: rfc2217Value(FLOW_CODES, v)! }).catch((e: unknown) => this.h.log(`rfc2217: flow: ${lineFailureReason(e)}`));
        return this.reply(SET_CONTROL, [flowCode()]);
      case 4:
        return this.reply(SET_CONTROL, [this.port.breakOn ? 5 : 6]);
      case 5:
      case 6:
        this.port.breakOn = v === 5;
        await line?.setModem({ brk: this.port.breakOn }).catch((e: unknown) => this.modemLineFailures.report(e, 'break'));
        return this.reply(SET_CONTROL, [v]);
      case 7:
        return this.reply(SET_CONTROL, [this.port.dtr ? 8 : 9]);
      case 8:
      case 9:
        await modem({ dtr: v === 8 });
        return this.reply(SET_CONTROL, [v]);
      case 10:
        return this.reply(SET_CONTROL, [this.port.rts ? 11 : 12]);
      case 11:
      case 12:
        await modem({ rts: v === 11 });
        return this.reply(SET_CONTROL, [v]);
      case 13:
        return this.reply(SET_CONTROL, [14 + (flowCode() - 1)]);
      case 14:
      case 15:
      case 16:
        return this.reply(SET_CONTROL, [v]); // inbound flow follows the outbound setting on Linux
      default:
        this.h.log(`rfc2217: SET-CONTROL value ${v} unsupported`);
        return this.reply(SET_CONTROL, [flowCode()]);
    }
  }
}
