/**
 * Line pacing: bytes leave no faster than a UART at a given baud rate would put them on the wire,
 * in FIFO-sized bursts (16 bytes, a 16550's transmit FIFO). gensio's ratelimit filter and the
 * users who ask ser2net for one want this for slow devices; the lab wants it to make qemu's
 * unlimited serial port behave like a real cable (qemu's 16550 moves ~85 KiB/s whatever its divisor,
 * so only a paced cable can measure a link's speed).
 *
 * Scheduled by the clock, never by sleeping a fixed interval: byte k of a busy stretch is due at
 * start + k × byteTime, and whenever the pacer runs it sends every byte due by now plus at most one
 * FIFO ahead. A late wake-up (the host ran something else) therefore sends what is due at once
 * instead of losing line time, which cost 3 % at normal priority when the lab pacer slept 1 ms per
 * refill. An idle line earns no credit: data arriving after a pause starts a new stretch.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { LineSettings } from './line.js';

/** A 16550's transmit FIFO: what a UART accepts at once. */
export const UART_FIFO_BYTES = 16;

/** Bits one character takes on the wire: start bit + data bits + parity bit (if any) + stop bits. */
export function bitsPerFrame(s: Pick<LineSettings, 'dataBits' | 'parity' | 'stopBits'>): number {
  return 1 + s.dataBits + (s.parity === 'none' ? 0 : 1) + s.stopBits;
}

/** Time source and timers; tests inject a manual clock. Times are milliseconds. */
export interface PaceClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: PaceClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * The arithmetic of one paced direction, apart from streams. `start` is when the current busy
 * stretch began and `sent` how many bytes left since; byte k is due at start + k × byteMs.
 */
export class LineSchedule {
  private start = 0;
  private sent = 0;

  constructor(
    private baud: number,
    private bits: number,
    readonly fifo = UART_FIFO_BYTES,
  ) {}

  /** Milliseconds one character occupies the wire. */
  get byteMs(): number {
    return (this.bits * 1000) / this.baud;
  }

  /** A new frame (the line's settings changed); the stretch restarts so the old rate is not mixed in. */
  reframe(baud: number, bits: number, now: number): void {
    this.baud = baud;
    this.bits = bits;
    this.restart(now);
  }

  /**
   * Before sending after a pause (nothing queued, or the receiver held us back): when the wire
   * would have gone idle before now, start a new stretch at now. Credit is never carried over an
   * idle wire, so nothing leaves faster than the line after a pause.
   */
  resumeAt(now: number): void {
    if (this.start + this.sent * this.byteMs < now) this.restart(now);
  }

  private restart(now: number): void {
    this.start = now;
    this.sent = 0;
  }

  /** Bytes that may leave now: everything due by now, plus what fits into the FIFO ahead of it. */
  allowance(now: number): number {
    const due = Math.floor(((now - this.start) * this.baud) / (this.bits * 1000) + 1e-9);
    return Math.max(0, due + this.fifo - this.sent);
  }

  /** Record bytes handed on. */
  took(n: number): void {
    this.sent += n;
  }

  /** When `want` bytes (at most a FIFO) may leave: the earliest time allowance(t) >= want. */
  readyAt(want: number): number {
    const k = this.sent + Math.min(want, this.fifo) - this.fifo;
    return this.start + (k * this.bits * 1000) / this.baud;
  }
}

export interface PacerOptions {
  baud: number;
  /** Bits per character; default 10 (8N1). */
  bitsPerFrame?: number;
  fifo?: number;
  clock?: PaceClock;
  /** Bytes accepted before write() returns false (the writer's backpressure). */
  highWaterMark?: number;
  signal?: AbortSignal;
}

/**
 * A Transform that lets bytes through at the line's rate. The write callback of a chunk runs once
 * its last byte has left, so at most one chunk plus `highWaterMark` bytes wait here; a reader that
 * stops reading stops the pacer (it never pushes beyond one FIFO into a full reader), and the
 * schedule restarts when it reads again.
 */
export class Pacer extends Transform {
  private readonly schedule: LineSchedule;
  private readonly clock: PaceClock;
  private chunk: Buffer | undefined;
  private offset = 0;
  private done: TransformCallback | undefined;
  private timer: unknown;
  /** The reader has bytes it has not taken: wait for _read before pushing more. */
  private held = false;

  constructor(readonly options: PacerOptions) {
    const fifo = options.fifo ?? UART_FIFO_BYTES;
    super({ writableHighWaterMark: options.highWaterMark ?? 4096, readableHighWaterMark: fifo });
    if (!(options.baud > 0)) throw new RangeError(`pace: baud must be positive, not ${options.baud}`);
    this.clock = options.clock ?? systemClock;
    this.schedule = new LineSchedule(options.baud, options.bitsPerFrame ?? 10, fifo);
    const signal = options.signal;
    if (signal) {
      const onAbort = () => this.destroy();
      if (signal.aborted) queueMicrotask(onAbort);
      else signal.addEventListener('abort', onAbort, { once: true });
      this.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }

  /** The line's frame or speed changed (RFC 2217 SET-BAUDRATE, stty): pace by the new one. */
  reframe(baud: number, bits: number): void {
    this.schedule.reframe(baud, bits, this.clock.now());
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.chunk = chunk;
    this.offset = 0;
    this.done = done;
    this.schedule.resumeAt(this.clock.now());
    this.send();
  }

  override _read(size: number): void {
    super._read(size); // Transform's own: releases a write deferred while our reader was full
    if (!this.held) return;
    this.held = false;
    this.schedule.resumeAt(this.clock.now());
    this.send();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.chunk = undefined;
    cb(err);
  }

  private send(): void {
    this.timer = undefined;
    const chunk = this.chunk;
    if (!chunk || this.destroyed) return;
    const now = this.clock.now();
    const n = Math.min(this.schedule.allowance(now), chunk.length - this.offset);
    if (n > 0) {
      this.schedule.took(n);
      const burst = chunk.subarray(this.offset, this.offset + n);
      this.offset += n;
      const more = this.push(burst);
      if (this.offset >= chunk.length) return this.finishChunk();
      if (!more) {
        this.held = true;
        return;
      }
    }
    const wait = Math.max(0, this.schedule.readyAt(chunk.length - this.offset) - now);
    this.timer = this.clock.setTimer(() => this.send(), wait);
  }

  private finishChunk(): void {
    const done = this.done;
    this.chunk = undefined;
    this.done = undefined;
    done?.();
  }
}
