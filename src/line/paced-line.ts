/**
 * A Line whose bytes move at a UART's rate both ways (`bridge serve|connect --pace BAUD`, `pace:`
 * in the bridge config): what the device sends reaches the bridge, and what the bridge writes
 * reaches the device, no faster than BAUD with the line's frame. Everything else (settings,
 * modem lines, close) is the wrapped Line's.
 *
 * The paced stream has no fd of its own, so the native pump never takes such a session: the bytes
 * stay in JavaScript, where the pacer is, and with pacing off nothing here is even loaded.
 */
import { Duplex } from 'node:stream';
import type { Line, LineSettings, ModemLines } from './line.js';
import { bitsPerFrame, Pacer, UART_FIFO_BYTES, type PaceClock } from './pace.js';

export interface PaceOptions {
  /** Line rate in bit/s. */
  baud: number;
  fifo?: number;
  clock?: PaceClock;
  signal?: AbortSignal;
}

/**
 * Bytes a direction holds that have not yet gone out on the line: a real UART driver's transmit
 * buffer (Linux serial core's is one 4 KiB page) behind the 16-byte FIFO. The pacer holds no more,
 * so a queue that builds through a paced bridge builds where it would on a real cable: in front of
 * the line (the sender's tty and qdisc), not inside the bridge, and latency measured through it is
 * what a cable gives. Memory stays bounded whatever the device or the client sends.
 */
export const LINE_BUFFER_BYTES = 4096;

class PacedStream extends Duplex {
  /** Bridge → device. */
  readonly tx: Pacer;
  /** Device → bridge. */
  readonly rx: Pacer;

  constructor(private readonly inner: Duplex, options: PaceOptions, bits: number) {
    // Our own stream buffers hold at most a FIFO's worth: the pacers' buffers are the line's.
    super({ readableHighWaterMark: UART_FIFO_BYTES, writableHighWaterMark: UART_FIFO_BYTES });
    const pacer = () => new Pacer({ ...options, bitsPerFrame: bits, highWaterMark: LINE_BUFFER_BYTES });
    this.tx = pacer();
    this.rx = pacer();
    // Bridge → device: paced bursts; a device that cannot take them holds the pacer, which holds
    // our writer through the Duplex's own write()/drain.
    this.tx.on('data', (burst: Buffer) => {
      if (!inner.write(burst)) {
        this.tx.pause();
        inner.once('drain', () => this.tx.resume());
      }
    });
    // Device → bridge: a full pacer stops reading the device; our reader stops the pacer.
    inner.on('data', (chunk: Buffer) => {
      if (!this.rx.write(chunk)) inner.pause();
    });
    this.rx.on('drain', () => inner.resume());
    this.rx.on('data', (burst: Buffer) => {
      if (!this.push(burst)) this.rx.pause();
    });
    inner.on('end', () => this.rx.end());
    this.rx.on('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => this.destroy());
  }

  override _read(): void {
    this.rx.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.tx.write(chunk)) done();
    else this.tx.once('drain', () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    this.tx.end(() => this.inner.end(done));
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    // The device's stream is the Line's to close (its close() settles `closed`), never ours.
    this.tx.destroy();
    this.rx.destroy();
    done(err);
  }
}

export class PacedLine implements Line {
  readonly stream: PacedStream;

  constructor(
    readonly inner: Line,
    private readonly options: PaceOptions,
  ) {
    this.stream = new PacedStream(inner.stream, options, bitsPerFrame(inner.settings));
  }

  get name(): string {
    return this.inner.name;
  }
  get settings(): LineSettings {
    return this.inner.settings;
  }
  get closed(): Promise<'closed' | 'gone' | 'end'> {
    return this.inner.closed;
  }

  /** New settings reach the device; a new frame (data bits, parity, stop bits) re-times the pacers. */
  async apply(settings: Partial<LineSettings>): Promise<void> {
    await this.inner.apply(settings);
    const bits = bitsPerFrame(this.inner.settings);
    this.stream.tx.reframe(this.options.baud, bits);
    this.stream.rx.reframe(this.options.baud, bits);
  }
  setModem(lines: { dtr?: boolean; rts?: boolean; brk?: boolean }): Promise<void> {
    return this.inner.setModem(lines);
  }
  getModem(): Promise<ModemLines | undefined> {
    return this.inner.getModem();
  }
  sendBreak(ms: number): Promise<void> {
    return this.inner.sendBreak(ms);
  }
  purge(): Promise<void> {
    return this.inner.purge();
  }
  async close(): Promise<void> {
    await this.inner.close();
    this.stream.destroy();
  }
}
