import { createHash, randomBytes } from 'node:crypto';
import { constants, openSync } from 'node:fs';
import net from 'node:net';
import tty from 'node:tty';
import type { Duplex } from 'node:stream';

/**
 * The benchmark and test driver: it holds both ends of the path under test (a TCP client and the
 * far pty end), pushes verified bytes through and times them. It runs in its own process, never in
 * the bridge's. Tty I/O uses one tty.ReadStream as a duplex: the fastest non-blocking path Node
 * has on a tty, and the only one whose two directions stay independent when one stalls.
 */

/** Open a tty (pty slave link) for non-blocking duplex I/O. Destroying the stream closes it. */
export function openTty(path: string): Duplex {
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  return new tty.ReadStream(fd, { highWaterMark: 64 * 1024 } as never) as unknown as Duplex;
}

export function connectTcp(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Random payload that contains every byte value 0..255 at least once. */
export function randomPayload(size: number): Buffer {
  const buf = randomBytes(size);
  for (let i = 0; i < Math.min(256, size); i++) buf[i] = i;
  return buf;
}

/**
 * Receiving side of a stream: every byte that arrives must match what was announced with expect(),
 * in order. Unannounced or wrong bytes reject the pending expectation with the offset.
 */
export class Sink {
  private expected: Buffer | undefined;
  private offset = 0;
  private settle: ((err?: Error) => void) | undefined;
  private stray = 0;

  constructor(
    private readonly stream: Duplex,
    private readonly label: string,
  ) {
    stream.on('data', this.onData);
    stream.on('error', (err) => this.settle?.(new Error(`${label}: ${err.message}`)));
    stream.on('close', () => this.settle?.(new Error(`${label}: closed with ${this.remaining()} bytes outstanding`)));
  }

  private remaining(): number {
    return this.expected ? this.expected.length - this.offset : 0;
  }

  private readonly onData = (chunk: Buffer): void => {
    const exp = this.expected;
    if (!exp) {
      this.stray += chunk.length;
      return;
    }
    const end = this.offset + chunk.length;
    if (end > exp.length || !chunk.equals(exp.subarray(this.offset, end))) {
      let at = 0;
      while (at < chunk.length && this.offset + at < exp.length && chunk[at] === exp[this.offset + at]) at++;
      this.settle?.(new Error(`${this.label}: byte ${this.offset + at} differs (got ${chunk.length - at} unexpected bytes)`));
      return;
    }
    this.offset = end;
    if (end === exp.length) this.settle?.();
  };

  /** Resolves when exactly `bytes` arrived next; rejects on mismatch, close or timeout. */
  expect(bytes: Buffer, timeoutMs: number): Promise<void> {
    if (this.stray > 0) return Promise.reject(new Error(`${this.label}: ${this.stray} unexpected bytes arrived`));
    this.expected = bytes;
    this.offset = 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.settle?.(new Error(`${this.label}: ${this.remaining()} of ${bytes.length} bytes missing after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.settle = (err) => {
        clearTimeout(timer);
        this.settle = undefined;
        this.expected = undefined;
        if (err) reject(err);
        else resolve();
      };
    });
  }

  /** Reject the pending expectation now (e.g. the connection it waited on was refused). */
  cancel(reason: string): void {
    this.settle?.(new Error(`${this.label}: ${reason}`));
  }

  /** Stop consuming (another listener takes over, e.g. an echo); attach() resumes checking. */
  detach(): void {
    this.stream.off('data', this.onData);
  }

  attach(): void {
    this.stream.on('data', this.onData);
  }
}

/** Send `payload` into `from`, wait until `to` delivered it byte-exact; returns seconds. */
export async function transfer(from: Duplex, to: Sink, payload: Buffer, timeoutMs: number): Promise<number> {
  const done = to.expect(payload, timeoutMs);
  const start = process.hrtime.bigint();
  from.write(payload);
  await done;
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Exchange a random marker both ways (from → to, then back) so that both ends are known to be
 * connected end to end before anything is timed: bytes sent before a bridge opened its side may be lost.
 */
export async function exchangeMarkers(
  near: Duplex,
  nearSink: Sink,
  far: Duplex,
  farSink: Sink,
  timeoutMs = 10_000,
): Promise<void> {
  const m1 = randomBytes(16);
  const got1 = farSink.expect(m1, timeoutMs);
  near.write(m1);
  await got1;
  const m2 = randomBytes(16);
  const got2 = nearSink.expect(m2, timeoutMs);
  far.write(m2);
  await got2;
}

/**
 * Round trips of `size` bytes: near sends, far echoes, near waits for the echo. Returns microseconds
 * per sample. The far side echoes from its own listener so one process handles both without a hop.
 */
export async function roundTrips(
  near: Duplex,
  nearSink: Sink,
  far: Duplex,
  farSink: Sink,
  size: number,
  samples: number,
  timeoutMs = 10_000,
): Promise<number[]> {
  farSink.detach();
  const echo = (chunk: Buffer): void => {
    far.write(chunk);
  };
  far.on('data', echo);
  const out: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const msg = randomBytes(size);
      const back = nearSink.expect(msg, timeoutMs);
      const start = process.hrtime.bigint();
      near.write(msg);
      await back;
      out.push(Number(process.hrtime.bigint() - start) / 1000);
    }
  } finally {
    far.off('data', echo);
    farSink.attach();
  }
  return out;
}

/**
 * Read exactly `bytes` bytes from `stream` (after an optional decoder, e.g. telnet) and return their
 * sha256 hex. Rejects on extra bytes, close, or timeout.
 */
export function receiveSha256(
  stream: Duplex,
  bytes: number,
  timeoutMs: number,
  decode: (chunk: Buffer) => Buffer = (c) => c,
): Promise<string> {
  const hash = createHash('sha256');
  let got = 0;
  return new Promise((resolve, reject) => {
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve(hash.digest('hex'));
    };
    const onData = (raw: Buffer): void => {
      const chunk = decode(raw);
      got += chunk.length;
      if (got > bytes) return finish(new Error(`received ${got} bytes, more than the ${bytes} sent`));
      hash.update(chunk);
      if (got === bytes) finish();
    };
    const onClose = (): void => finish(new Error(`stream closed after ${got} of ${bytes} bytes`));
    const timer = setTimeout(() => finish(new Error(`only ${got} of ${bytes} bytes after ${timeoutMs} ms`)), timeoutMs);
    stream.on('data', onData);
    stream.on('close', onClose);
  });
}

export const sha256 = (buf: Buffer): string => createHash('sha256').update(buf).digest('hex');
