/**
 * What a PPP link over an async serial line can carry at most, from the framing alone (issue 17's
 * arithmetic). TCP over IPv4: MSS = MTU − 20 (IP) − 20 (TCP), less 12 for the timestamp option
 * when the ends agree on timestamps (queue management turns them off through the link). Async
 * HDLC per frame: 1 flag, 1 protocol byte (protocol-field compression), no address/control (ACFC),
 * 2 FCS bytes; with asyncmap 0 only 0x7D and 0x7E are escaped (one extra
 * byte each), so random data pays 2/256 of its bytes and plain text none. VJ header compression
 * shrinks the TCP/IP header to about 3 bytes on the segments it compresses.
 */

/** Bytes a second a UART moves at `baud` with `bitsPerFrame` bits a character (8N1: 10). */
export function lineRate(baud: number, bitsPerFrame = 10): number {
  return baud / bitsPerFrame;
}

export interface FramingOptions {
  mtu?: number;
  /** Share of the payload bytes that need an escape: 2/256 for random data, 0 for text. */
  escapeShare?: number;
  /** Share of segments sent with a VJ-compressed header (0..1). */
  vjShare?: number;
  /** The connection carries TCP timestamps (default true). */
  timestamps?: boolean;
}

const HDLC_BYTES = 1 + 1 + 2; // flag, protocol (PFC), FCS-16
const VJ_HEADER = 3;
const TCPIP_HEADER = 20 + 20;
const TIMESTAMP_OPTION = 12;

/** Goodput ceiling as a share of the line rate for bulk TCP (incompressible when escapeShare = 2/256). */
export function goodputCeiling(o: FramingOptions = {}): number {
  const mtu = o.mtu ?? 1500;
  const mss = mtu - TCPIP_HEADER - (o.timestamps === false ? 0 : TIMESTAMP_OPTION);
  const escapes = mss * (o.escapeShare ?? 2 / 256);
  const vj = o.vjShare ?? 0;
  const full = mtu + HDLC_BYTES + escapes;
  const compressed = mss + VJ_HEADER + HDLC_BYTES + escapes;
  return mss / ((1 - vj) * full + vj * compressed);
}

/**
 * Seconds an ICMP echo of `payload` data bytes and its reply spend on the wire: IP 20 + ICMP 8 +
 * data, plus HDLC framing with an opening flag (the line was idle) and a closing one, each way.
 */
export function pingWireSeconds(baud: number, payload = 56, bitsPerFrame = 10): number {
  const frame = 20 + 8 + payload + HDLC_BYTES + 1;
  return (2 * frame * bitsPerFrame) / baud;
}
