/**
 * How a session turns TCP bytes into line bytes and back. Raw is the identity (and the server skips
 * it entirely on the hot path); telnet and RFC 2217 implement the same interface.
 */
import type { Line } from '../line/line.js';

export interface CodecHost {
  /** Bytes to send to this client as they are (negotiation replies, notifications). */
  reply(bytes: Buffer): void;
  line(): Line | undefined;
  log(message: string): void;
  /** The client asked to stop (true) or restart (false) device output (RFC 2217 flow control). */
  flow(suspend: boolean): void;
  /** Every request taken so far has been applied and answered (the backlog is 0 again). */
  settled?(): void;
}

export interface Codec {
  /** Client → line: returns the data bytes to write to the device (may be empty). */
  decode(chunk: Buffer): Buffer;
  /** Line → client: returns the bytes to send. */
  encode(chunk: Buffer): Buffer;
  /** Bytes to send when the session opens (option offers). */
  greeting(): Buffer;
  /** True while the client asked us to stop sending (RFC 2217 FLOWCONTROL-SUSPEND). */
  suspended?(): boolean;
  /** Called when the session ends (timers). */
  dispose?(): void;
  /** Requests taken but not yet applied (asynchronous ones, RFC 2217): the session stops reading
   * the client while there are too many. */
  backlog?(): number;
}

export const rawCodec: Codec = {
  decode: (c) => c,
  encode: (c) => c,
  greeting: () => Buffer.alloc(0),
};
