import type { Duplex } from 'node:stream';
import { errnoText } from '../socket-reason.js';
import { ChatIoError } from './chat-errors.js';

export type WaitResult = 'data' | 'timeout' | 'abort';

/** The longest delay setTimeout takes as it is (2^31-1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Byte-at-a-time access to a Duplex, the way chat reads its line with read(0, &c, 1), but without a
 * system call per byte: chunks are queued as they arrive and handed out one byte at a time. The
 * stream is paused while more than `highWater` bytes wait, so a chatty peer cannot grow memory.
 */
export class ByteReader {
  private chunks: Buffer[] = [];
  private offset = 0;
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: Duplex,
    private readonly highWater = 64 * 1024,
  ) {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.queued > this.highWater) this.stream.pause();
    this.notify();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (err: Error): void => {
    this.failure = err;
    this.notify();
  };
  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** The next byte if one is already here; undefined if none is (then call {@link wait}). */
  next(): number | undefined {
    const head = this.chunks[0];
    if (!head) return undefined;
    const c = head[this.offset++]!;
    this.queued--;
    if (this.offset >= head.length) {
      this.chunks.shift();
      this.offset = 0;
    }
    if (this.stream.isPaused() && this.queued <= this.highWater / 2) this.stream.resume();
    return c;
  }

  /**
   * Wait up to `ms` for a byte. Throws ChatIoError when the line ends or fails (device gone) —
   * queued bytes are still handed out first.
   */
  async wait(ms: number, signal?: AbortSignal): Promise<WaitResult> {
    if (this.chunks.length) return 'data';
    if (this.failure) throw deviceGone(this.failure);
    if (this.ended) throw new ChatIoError('chat: device gone (end of file on the line)');
    if (signal?.aborted) return 'abort';
    if (ms <= 0) return 'timeout';
    return new Promise<WaitResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (r: WaitResult): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.wake = undefined;
        resolve(r);
      };
      const onAbort = (): void => done('abort');
      if (Number.isFinite(ms)) {
        // setTimeout fires after 1 ms when given more than 2^31-1 ms: wait in pieces up to the deadline.
        const deadline = Date.now() + ms;
        const arm = (left: number): void => {
          timer = setTimeout(() => {
            const rest = deadline - Date.now();
            if (rest > 0) arm(rest);
            else done('timeout');
          }, Math.min(left, MAX_TIMER_MS));
        };
        arm(ms);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wake = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.chunks.length) resolve('data');
        else if (this.failure) reject(deviceGone(this.failure));
        else reject(new ChatIoError('chat: device gone (end of file on the line)'));
      };
    });
  }

  /** Stop listening (the stream itself belongs to the caller). */
  detach(): void {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    this.stream.off('error', this.onError);
  }
}

export function deviceGone(err: Error): ChatIoError {
  return new ChatIoError(`chat: device gone (${errnoText(err)})`, { cause: err });
}
