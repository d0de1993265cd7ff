/**
 * RFC 2217 client side (e.g. towards ser2net's `telnet(rfc2217)` accepter): announces COM-PORT-OPTION,
 * sends the local line's settings, and forwards later speed changes made on a local pty.
 *
 * Speed changes are found by polling tcgetattr on the pty every 250 ms. TIOCPKT was the alternative,
 * but it reports only flow/flush events (termios changes need EXTPROC) and would put a status byte in
 * front of every read, costing a copy per chunk on the data path; a poll costs nothing there.
 */
import type { CodecHost } from './codec.js';
import { comPortFrame, SET_BAUDRATE, SET_CONTROL, SET_DATASIZE, SET_PARITY, SET_STOPSIZE, SERVER, SIGNATURE } from './rfc2217.js';
import { BINARY, COM_PORT, ECHO, SGA, TelnetCodec } from './telnet.js';
import { PORT_OPTIONS } from './port-option-table.js';

export class Rfc2217Client extends TelnetCodec {
  override readonly name = 'rfc2217';
  private timer: NodeJS.Timeout | undefined;
  private sentSpeed = 0;
  /** Last values the server confirmed, by command (for tests and logs). */
  readonly confirmed = new Map<number, Buffer>();

  constructor(private readonly h: CodecHost) {
    super(h, {
      role: 'client',
      ours: new Set([BINARY, SGA, COM_PORT]),
      theirs: new Set([BINARY, SGA, ECHO]),
      offerWill: [BINARY, COM_PORT],
      offerDo: [BINARY, SGA],
      onSubnegotiation: (opt, data) => {
        if (opt !== COM_PORT || data.length === 0) return h.log(`telnet: subnegotiation for option ${opt} ignored`);
        const cmd = data[0]! - SERVER;
        this.confirmed.set(cmd, data.subarray(1));
        if (cmd === SET_BAUDRATE && data.length === 5) h.log(`rfc2217: server speed ${data.readUInt32BE(1)}`);
      },
    });
  }

  override greeting(): Buffer {
    const line = this.h.line();
    const s = line?.settings;
    const frames = [super.greeting(), comPortFrame(SIGNATURE)];
    if (s) {
      const speed = this.currentSpeed() ?? s.speed;
      frames.push(this.speedFrame(speed));
      frames.push(comPortFrame(SET_DATASIZE, [s.dataBits]), comPortFrame(SET_PARITY, [PORT_OPTIONS.parity.rfc2217[s.parity]]));
      frames.push(comPortFrame(SET_STOPSIZE, [s.stopBits]), comPortFrame(SET_CONTROL, [PORT_OPTIONS.flow.rfc2217[s.flow]]));
    }
    this.timer = setInterval(() => this.poll(), 250);
    this.timer.unref();
    return Buffer.concat(frames);
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  private currentSpeed(): number | undefined {
    const line = this.h.line() as { slaveSpeed?: () => number | undefined } | undefined;
    return line?.slaveSpeed?.();
  }

  private speedFrame(speed: number): Buffer {
    this.sentSpeed = speed;
    const b = Buffer.alloc(4);
    b.writeUInt32BE(speed >>> 0);
    return comPortFrame(SET_BAUDRATE, b);
  }

  private poll(): void {
    const speed = this.currentSpeed();
    if (speed !== undefined && speed !== 0 && speed !== this.sentSpeed) {
      this.h.log(`rfc2217: local speed changed to ${speed}, asking the server`);
      this.h.reply(this.speedFrame(speed));
    }
  }
}
