/**
 * A caller whose pppd runs but which sends no PPP holds an address and a pppd for nothing: a
 * dialer that gave up waiting for CONNECT and types AT into the call, a client that connects and
 * never speaks. PPP in HDLC-like framing (RFC 1662) opens every frame with the flag byte 0x7E, and
 * nothing else a caller sends before PPP (AT commands, CLIENT) holds one. Once a flag has come the
 * link is PPP's, and it may then be quiet for hours.
 */
import type { Readable } from 'node:stream';

const PPP_FLAG = 0x7e;

/**
 * Calls `silent` unless a flag byte is read from `line` within `ms`; watches only while `line`
 * flows (a 'data' listener on a paused stream would start it). Returns a stop for the watch.
 */
export function awaitFirstFrame(line: Readable, ms: number, silent: () => void): () => void {
  const stop = (): void => {
    clearTimeout(timer);
    line.off('data', onData);
  };
  const onData = (chunk: Buffer): void => {
    if (chunk.includes(PPP_FLAG)) stop();
  };
  const timer = setTimeout(() => {
    stop();
    silent();
  }, ms);
  line.on('data', onData);
  return stop;
}
