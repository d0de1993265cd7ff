/**
 * The last bytes a port printed, for a viewer that joins: a fixed buffer written round and round, so
 * its memory is the same after a minute or a month of output.
 */
export class ByteRing {
  private readonly buf: Buffer;
  private end = 0;
  private full = false;

  constructor(readonly capacity: number) {
    this.buf = Buffer.alloc(capacity);
  }

  push(chunk: Buffer): void {
    if (chunk.length >= this.capacity) {
      chunk.copy(this.buf, 0, chunk.length - this.capacity);
      this.end = 0;
      this.full = true;
      return;
    }
    const first = Math.min(chunk.length, this.capacity - this.end);
    chunk.copy(this.buf, this.end, 0, first);
    if (first < chunk.length) {
      chunk.copy(this.buf, 0, first);
      this.full = true;
    }
    this.end = (this.end + chunk.length) % this.capacity;
    if (this.end === 0 && chunk.length > 0) this.full = true;
  }

  /** A copy of what is held, oldest first. */
  contents(): Buffer {
    return this.full ? Buffer.concat([this.buf.subarray(this.end), this.buf.subarray(0, this.end)]) : Buffer.from(this.buf.subarray(0, this.end));
  }
}
