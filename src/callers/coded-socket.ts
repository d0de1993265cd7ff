/**
 * A caller's TCP connection as the line its PPP runs on: bytes read are the codec's decode (telnet
 * takes out IAC commands and the NUL after CR), bytes written its encode (IAC doubled). Backpressure
 * goes both ways: a full read buffer pauses the socket, a full socket holds the writer's callback.
 */
import { Duplex } from 'node:stream';
import type net from 'node:net';
import type { Codec, CodecHost } from '../bridge/codec.js';
import { rawCodec } from '../bridge/codec.js';
import { telnetServer } from '../bridge/telnet.js';

/** Why a caller was let go before or during its call (the reason is logged, never thrown at the CLI). */
export class CallerDropped extends Error {}

export type Transport = 'raw' | 'telnet';

export class CodedSocket extends Duplex {
  readonly codec: Codec;
  /** Line bytes each way (after decode / before encode). */
  bytesIn = 0;
  bytesOut = 0;
  /** Monotonic ms of the last byte from the caller (idle timeout before PPP). */
  lastHeard = performance.now();
  /** Bytes the caller may send before this is lifted (the handshake's bound); past it the line is destroyed. */
  limit: number | undefined;

  constructor(
    private readonly socket: net.Socket,
    transport: Transport,
    log: (line: string) => void,
  ) {
    super({ highWaterMark: 64 * 1024, allowHalfOpen: false });
    const host: CodecHost = { reply: (b) => void socket.write(b), line: () => undefined, log, flow: () => {} };
    // No BREAK reaches a pseudo-terminal: the caller's BREAK is logged and dropped.
    this.codec = transport === 'telnet' ? telnetServer(host, { onBreak: () => log('telnet: BREAK ignored (no line to send it to)') }) : rawCodec;
    const hello = this.codec.greeting();
    if (hello.length > 0) socket.write(hello);
    socket.on('data', (chunk: Buffer) => {
      this.lastHeard = performance.now();
      const data = this.codec.decode(chunk);
      if (data.length === 0) return;
      this.bytesIn += data.length;
      if (this.limit !== undefined && this.bytesIn > this.limit) {
        this.destroy(new CallerDropped(`sent more than ${this.limit} bytes before the handshake completed`));
        return;
      }
      if (!this.push(data)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (err) => this.destroy(err));
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.bytesOut += chunk.length;
    if (this.socket.destroyed) return done();
    this.socket.write(this.codec.encode(chunk), (err) => done(err ?? null));
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.codec.dispose?.();
    this.socket.destroy();
    done(err);
  }
}
