/**
 * Queue management on the link: the profile's `queue:` field and the arithmetic behind the shaper
 * the ip-up.d hook installs on the PPP interface.
 *
 * Why a shaper at all: below the qdisc sit pppd's channel, the tty and the UART's 4 KiB transmit
 * buffer (356 ms at 115200, over a second at 38400). Unshaped, a bulk transfer fills them and every
 * other packet waits behind seconds of data that no AQM can see. Shaped a little below what the line
 * drains, the queue stays in CAKE or fq_codel, which keep it short and interleave the flows, and
 * the buffers below stay nearly empty. The knee is sharp: a shaper 2 % faster than the line lets the
 * queue move back down, so the rate is the line's byte rate with the framing counted, less headroom.
 */
import { z } from 'zod';

/** Bits one character takes on the wire: start + 8 data + stop (8N1, the only frame pppd sets). */
export const BITS_PER_CHAR = 10;

/**
 * Bytes of async HDLC framing per packet, as the shaper must count them (CAKE `overhead`, HTB
 * `overhead`): the qdisc on a PPP interface sees the IP packet alone. The worst pppd may negotiate:
 * 1 flag (back-to-back frames share one) + 2 address/control (peer refused ACFC) + 2 protocol
 * (peer refused PFC) + 2 FCS = 7, plus 1 for an FCS or header byte that needs an escape. With ACFC
 * and PFC, as Linux and Windows negotiate, the real cost is 4: the spare 4 bytes are 0.3 % of a
 * 1500-byte packet.
 */
export const PPP_FRAME_OVERHEAD = 8;

/**
 * With `asyncmap 0` only 0x7D and 0x7E are escaped, each by one extra byte: incompressible data
 * (random, encrypted, already compressed) has 2 of every 256 bytes escaped, so the line carries
 * 256/258 of its byte rate in payload. Text has almost none; shaping for the worst common case
 * keeps the queue in the qdisc for every kind of traffic.
 */
export const ESCAPE_FACTOR = 258 / 256;

/**
 * The share of what the line drains that the shaper lets through, for packets the qdisc counts at
 * their size on the wire (VJ off, or traffic VJ does not compress: UDP, IPv6). A real UART's clock is
 * exact to a fraction of a percent, but a USB adapter's can be off by up to 2-3 %, and a host that
 * feeds its UART late loses line time it never gets back; the knee is sharp. Measured on the paced
 * lab cable (link bench, 115200, a quiet host): 0.94 kept ping under load at p99 211 ms (target
 * idle + 264), while 0.95 let a standing queue form below the qdisc (p99 375 and 403 ms, p50 twice
 * 0.94's) for 1 % more goodput.
 */
export const HEADROOM = 0.94;

/**
 * The same with VJ compression on, where the queue hooks also keep TCP timestamps off the link
 * (QueuePlan.noTimestamps): VJ then sends a full-size TCP segment with about 4 bytes of TCP/IP
 * header instead of 40, so the qdisc counts each 1500-byte packet 2 % above what it costs on the
 * wire, and the line keeps that as slack. Measured in three runs each (115200, quiet host): 0.95 gave
 * random data 0.904-0.915 of the line steady and ping under load p99 137-149 ms; 0.96 gave 0.92 and
 * 144 ms, but leaves traffic VJ does not shrink past the knee, so 0.95.
 */
export const HEADROOM_VJ = 0.95;

/** The headroom for a link with or without VJ header compression. */
export function headroom(vj: boolean): number {
  return vj ? HEADROOM_VJ : HEADROOM;
}

/**
 * Shaper rate in bit/s for a line of `speed` baud, 8N1: the rate at which the line drains IP bytes
 * plus PPP_FRAME_OVERHEAD when every payload byte may need an escape, less the headroom.
 * 115200 → 11,520 B/s on the wire → 92,160 bit/s → × 0.95 (VJ) → / (258/256) → 86,873 bit/s;
 * × 0.94 without VJ: 85,958 bit/s.
 */
export function autoRate(speed: number, vj = true): number {
  return Math.floor(((speed / BITS_PER_CHAR) * 8 * headroom(vj)) / ESCAPE_FACTOR);
}

const queueObject = z
  .object({
    rate: z
      .union([z.literal('auto'), z.number().int().min(1000).max(10_000_000_000)], { error: 'not a rate (allowed: auto, or bit/s as a whole number from 1000 to 10000000000, e.g. 80000)' })
      .default('auto')
      .describe("bit/s the shaper lets through, counting 8 bytes of PPP framing per packet; auto: 0.95 of the line's byte rate less escapes with VJ compression, 0.94 without (86873 and 85958 at 115200)"),
    ingress: z.boolean().default(false).describe('also shape what arrives, through an IFB device (for a peer that does not manage its own queue, such as Windows)'),
  })
  .strict();

/** `false` is what a YAML 1.1 reader makes of a bare `off`. */
const queueWord = z.union([z.enum(['auto', 'off']), z.literal(false).transform(() => 'off' as const)], {
  error: 'not a queue setting (allowed: auto, off, or { rate: auto | BIT/S, ingress: true | false })',
});

type QueueValue = z.output<typeof queueWord> | z.output<typeof queueObject>;

/**
 * The profile field. A word or a mapping, told apart before validating, so a bad `rate:` is
 * reported at queue.rate rather than as "not any of the forms" at queue.
 */
export const queue = z
  .unknown()
  .transform((value, ctx): QueueValue => {
    const r = (typeof value === 'object' && value !== null ? queueObject : queueWord).safeParse(value);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  })
  .default('auto')
  .describe('queue management on the PPP interface when the link comes up (ip-up.d hook): CAKE, or fq_codel under HTB, shaped just below the line rate so pings and keystrokes are not stuck behind a transfer; auto, off, or { rate, ingress }');

export type QueueSetting = z.output<typeof queue>;

/** What the hook installs, resolved from the profile. */
export interface QueuePlan {
  /** Shaper rate, bit/s. */
  rate: number;
  overhead: number;
  ingress: boolean;
  /** fq_codel's target and interval (µs), as CAKE derives its own for a slow link. */
  targetUs: number;
  intervalUs: number;
  /** Per-route TCP settings for every route through the link (`ip route change … ROUTE_OPTIONS`). */
  routeOptions: string;
  /**
   * TCP connections through the link negotiate no timestamps (an nftables table clears the option
   * in the SYNs both ways). With VJ header compression on: a timestamp changes in every segment,
   * and VJ sends any segment whose TCP options changed with its full 52 bytes of header instead of
   * about 4. Off, VJ compresses the bulk of a transfer, and the 12 bytes of the option go too: 3 %
   * of every full-size frame, measured as +2 % goodput at the same shaper rate and ping under load
   * p99 149 ms instead of 375 ms (CAKE at 0.95 of the line, 115200). Windows sends no timestamps.
   */
  noTimestamps: boolean;
}

/** Largest IP packet the link carries (pppd's default MTU). */
const DEFAULT_MTU = 1500;

/**
 * CoDel's defaults (5 ms target, 100 ms interval) assume a packet takes microseconds to send; at
 * 115200 one takes 140 ms, so CoDel would drop every packet that waits behind another. CAKE
 * stretches them on slow links: target 1.5 × one MTU's time at the rate (at least 5 ms), interval
 * the 100 ms RTT estimate plus what the target grew by (at least twice the target). fq_codel under
 * HTB gets the same.
 */
export function codelTimes(rate: number, mtu = DEFAULT_MTU, overhead = PPP_FRAME_OVERHEAD): { targetUs: number; intervalUs: number } {
  const frameUs = ((mtu + overhead) * 8 * 1e6) / rate;
  const targetUs = Math.max(5000, Math.ceil(1.5 * frameUs));
  return { targetUs, intervalUs: Math.max(100_000 + targetUs - 5000, 2 * targetUs) };
}

/**
 * TCP fitted to the line, per route through the link. A full-size segment takes 131 ms at 115200
 * (393 ms at 38400), but Linux times its first retransmission from the handshake's round trip,
 * a few tens of ms, floored at 200 ms: the tenth segment of a new connection's initial window
 * waits over a second in the queue and is sent again, though nothing was lost (measured in the lab:
 * 2 timeouts and 4 slow-start retransmissions per 88 KiB download at 115200). So: an initial
 * window of 4 segments (0.5 s of line at 115200) and a retransmission timeout no shorter than three
 * frames' wire time.
 *
 * ECN (the AQM marks instead of dropping) only without VJ header compression: RFC 1144 predates
 * ECN, and a VJ-compressed header carries PSH alone of the TCP flags, the receiver copying the rest
 * from the last full header. An ECE or CWR is then lost, or repeated on every ACK after it: with
 * timestamps off (so VJ compresses nearly every segment) and ECN on, a 90 KiB download in the lab
 * took 29 retransmissions and ran at 0.34 of the line. CAKE drops in the qdisc, before the
 * compressor, so VJ's state stays whole.
 */
export function routeOptions(speed: number, vj: boolean, mtu = DEFAULT_MTU): string {
  const frameMs = ((mtu + PPP_FRAME_OVERHEAD) * BITS_PER_CHAR * 1000) / speed;
  return `${vj ? '' : 'features ecn '}rto_min ${Math.max(200, Math.ceil(3 * frameMs))}ms initcwnd 4`;
}

/** The plan for a profile, or undefined with `queue: off`. */
export function queuePlan(p: { queue: QueueSetting; speed: number; mtu?: number | undefined; vjCompression: boolean }): QueuePlan | undefined {
  if (p.queue === 'off') return undefined;
  const rate = p.queue === 'auto' || p.queue.rate === 'auto' ? autoRate(p.speed, p.vjCompression) : p.queue.rate;
  return {
    rate,
    overhead: PPP_FRAME_OVERHEAD,
    ingress: p.queue !== 'auto' && p.queue.ingress,
    ...codelTimes(rate, p.mtu),
    routeOptions: routeOptions(p.speed, p.vjCompression, p.mtu),
    noTimestamps: p.vjCompression,
  };
}
