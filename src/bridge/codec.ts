/**
 * A session's byte path is a stack of filters: the transport (TCP, or TLS over it) at the bottom,
 * then the codec that turns TCP bytes into line bytes and back (raw is the identity, and the server
 * skips it on the hot path; telnet and RFC 2217 implement the same interface). Each filter says
 * whether the native pump may carry its bytes: the pump moves bytes between two fds as they are, so
 * only layers that change nothing may let it, and a TLS socket's fd carries ciphertext (unless TLS
 * was terminated natively, below a socketpair of plaintext).
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

export interface Filter {
  /** `tcp`, `tls`, `raw`, `telnet`, `rfc2217`: every layer says which it is. */
  readonly name: string;
  /** True only for a layer that passes bytes through unchanged on a plain fd. Absent = false. */
  readonly nativePump?: boolean;
}

/** The native pump may take a session only when every filter of its stack lets it. */
export function nativePumpMayCarry(filters: readonly Filter[]): boolean {
  return filters.every((f) => f.nativePump === true);
}

const tcp: Filter = { name: 'tcp', nativePump: true };
/** TLS in Node: the socket's fd carries ciphertext. */
const tls: Filter = { name: 'tls', nativePump: false };
/** TLS terminated on the addon's thread: the socket is a socketpair of plaintext already through TLS. */
const tlsNative: Filter = { name: 'tls', nativePump: true };

/** The bottom of a session's stack: plain TCP, TLS in Node (never pumped), or TLS terminated natively. */
export function transportFilter(peer: { tls: boolean; tlsNative?: boolean }): Filter {
  if (!peer.tls) return tcp;
  return peer.tlsNative ? tlsNative : tls;
}

export interface Codec extends Filter {
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
  name: 'raw',
  nativePump: true,
  decode: (c) => c,
  encode: (c) => c,
  greeting: () => Buffer.alloc(0),
};
