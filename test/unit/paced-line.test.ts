import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LINE_BUFFER_BYTES, PacedLine } from '../../src/line/paced-line.js';
import { UART_FIFO_BYTES } from '../../src/line/pace.js';
import type { Line } from '../../src/line/line.js';
import { ManualClock } from '../helpers/manual-clock.js';

/**
 * The pacer as a cable: while the clock stands still (the line is busy sending), how many bytes has
 * each direction taken from its sender? A real UART and its driver take a FIFO and one 4 KiB buffer,
 * then stop the sender; so must the pacer. The device is a stand-in Duplex (a Line's stream with
 * backpressure both ways, nothing else of a Line is used here); the real ptys are in
 * test/interop/bridge-pace.test.ts.
 */
class Device extends Duplex {
  /** Bytes the paced line has taken from the device (device → bridge). */
  taken = 0;
  /** Bytes the paced line wrote to the device (bridge → device). */
  received = 0;
  private left: Buffer;
  constructor(size: number) {
    super({ readableHighWaterMark: 1024 });
    this.left = Buffer.alloc(size, 0x55);
  }
  override _read(): void {
    // one read() of a tty gives at most what its buffer holds: 1 KiB chunks, only when asked
    while (this.left.length) {
      const chunk = this.left.subarray(0, 1024);
      this.left = this.left.subarray(1024);
      this.taken += chunk.length;
      if (!this.push(chunk)) return;
    }
  }
  override _write(chunk: Buffer, _e: BufferEncoding, done: () => void): void {
    this.received += chunk.length;
    done();
  }
}

function pacedOver(device: Device, clock: ManualClock): PacedLine {
  const line = { name: 'dev', stream: device, settings: { baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 } } as unknown as Line;
  return new PacedLine(line, { baud: 115200, clock });
}

const settle = () => new Promise((r) => setTimeout(r, 20));
/** A Duplex's read side may hold this much before it stops reading (Node's highWaterMark). */
const DEVICE_READ_BUFFER = 1024;

describe('PacedLine holds what a UART would, no more', () => {
  it('device → bridge: a FIFO plus a 4 KiB buffer taken from the device, until time passes', async () => {
    const clock = new ManualClock();
    const device = new Device(256 * 1024);
    const paced = pacedOver(device, clock);
    let out = 0;
    paced.stream.on('data', (b: Buffer) => (out += b.length));
    await settle();
    expect(out).toBe(UART_FIFO_BYTES); // the FIFO leaves at once; then the line is busy
    // taken from the device and not sent: at most the 4 KiB buffer, a chunk in the pacer and the device stream's own buffer
    const held = device.taken - out;
    expect(held).toBeLessThanOrEqual(LINE_BUFFER_BYTES + 1024 + DEVICE_READ_BUFFER + UART_FIFO_BYTES);
    // one second of line time later, about one second of bytes has gone, and the hold is the same
    // the pacer's timers fire by hand; between them the streams move on the event loop
    for (let idle = 0; clock.t < 1000 && idle < 50; ) {
      if (clock.fireNext()) idle = 0;
      else idle++;
      await new Promise((r) => setImmediate(r));
    }
    expect(out).toBeGreaterThanOrEqual(11_000);
    expect(out).toBeLessThanOrEqual(11_520 + UART_FIFO_BYTES);
    expect(device.taken - out).toBeLessThanOrEqual(LINE_BUFFER_BYTES + 1024 + DEVICE_READ_BUFFER + UART_FIFO_BYTES);
    paced.stream.destroy();
  });

  it('bridge → device: the writer is held after a FIFO plus 4 KiB', async () => {
    const clock = new ManualClock();
    const device = new Device(0);
    const paced = pacedOver(device, clock);
    let accepted = 0;
    const chunk = Buffer.alloc(512, 0xaa);
    while (paced.stream.write(chunk)) accepted += chunk.length;
    accepted += chunk.length;
    await settle();
    expect(device.received).toBe(UART_FIFO_BYTES);
    expect(accepted - device.received).toBeLessThanOrEqual(LINE_BUFFER_BYTES + 2 * chunk.length + UART_FIFO_BYTES);
    paced.stream.destroy();
  });
});
