import { Duplex } from 'node:stream';
/**
 * Minimal telnet client codec for tests (RFC 854/855/856): asks for BINARY both ways, accepts
 * BINARY/SGA/ECHO from the server, refuses everything else, skips subnegotiations, and doubles /
 * undoubles IAC (0xFF) in data. Enough to push arbitrary bytes through a telnet-mode bridge.
 */
const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;
const BINARY = 0;
const ECHO = 1;
const SGA = 3;

export class TelnetClient {
  private state: 'data' | 'iac' | 'option' | 'sb' | 'sb-iac' = 'data';
  private verb = 0;
  private readonly answered = new Set<string>();
  /** Every option command the server sent, e.g. "DO 0", in order (for assertions). */
  readonly received: string[] = [];

  constructor(private readonly send: (bytes: Buffer) => void) {}

  /** Our opening offer: binary in both directions. */
  start(): void {
    this.reply(WILL, BINARY);
    this.reply(DO, BINARY);
  }

  private reply(verb: number, option: number): void {
    const key = `${verb} ${option}`;
    if (this.answered.has(key)) return; // answer each once: no negotiation loops
    this.answered.add(key);
    this.send(Buffer.from([IAC, verb, option]));
  }

  /** Data bytes to send → wire bytes (0xFF doubled). */
  encode(data: Buffer): Buffer {
    let ffs = 0;
    for (const b of data) if (b === IAC) ffs++;
    if (ffs === 0) return data;
    const out = Buffer.allocUnsafe(data.length + ffs);
    let j = 0;
    for (const b of data) {
      out[j++] = b;
      if (b === IAC) out[j++] = IAC;
    }
    return out;
  }

  /** Wire bytes received → data bytes; answers negotiation as a side effect. */
  decode(wire: Buffer): Buffer {
    const out = Buffer.allocUnsafe(wire.length);
    let j = 0;
    for (const b of wire) {
      switch (this.state) {
        case 'data':
          if (b === IAC) this.state = 'iac';
          else out[j++] = b;
          break;
        case 'iac':
          if (b === IAC) {
            out[j++] = IAC;
            this.state = 'data';
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.verb = b;
            this.state = 'option';
          } else if (b === SB) {
            this.state = 'sb';
          } else {
            this.state = 'data'; // NOP, BRK, GA, …: no data
          }
          break;
        case 'option': {
          const names: Record<number, string> = { [WILL]: 'WILL', [WONT]: 'WONT', [DO]: 'DO', [DONT]: 'DONT' };
          this.received.push(`${names[this.verb]} ${b}`);
          if (this.verb === DO) this.reply(b === BINARY || b === SGA ? WILL : WONT, b);
          else if (this.verb === WILL) this.reply(b === BINARY || b === SGA || b === ECHO ? DO : DONT, b);
          this.state = 'data';
          break;
        }
        case 'sb':
          if (b === IAC) this.state = 'sb-iac';
          break;
        case 'sb-iac':
          this.state = b === SE ? 'data' : 'sb';
          break;
      }
    }
    return out.subarray(0, j);
  }
}

/**
 * Wrap a TCP socket as a plain data duplex speaking telnet underneath: writes are IAC-doubled,
 * reads are undoubled with negotiation answered. `client.received` lists the server's commands.
 */
export function telnetStream(socket: Duplex): { stream: Duplex; client: TelnetClient } {
  const client = new TelnetClient((bytes) => socket.write(bytes));
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(client.encode(chunk), cb);
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (wire: Buffer) => {
    const data = client.decode(wire);
    if (data.length > 0 && !stream.push(data)) socket.pause();
  });
  socket.on('close', () => stream.destroy());
  client.start();
  return { stream, client };
}
