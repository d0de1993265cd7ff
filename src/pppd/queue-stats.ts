/**
 * The link's queue as `tc -s -j qdisc show dev IFACE` reports it: which discipline manages it, how
 * much waits in it now (backlog) and what it has dropped or ECN-marked to keep it short. A caller
 * (status, --json, --watch) shows these beside the interface counters.
 */
import { execa } from 'execa';

export class QueueStatsError extends Error {
  override name = 'QueueStatsError';
}

/** One qdisc of the interface. */
export interface QdiscStats {
  kind: string;
  handle: string;
  /** `root`, `ingress`, or the parent class (e.g. `1:1`). */
  parent: string;
  sentBytes: number;
  sentPackets: number;
  drops: number;
  overlimits: number;
  backlogBytes: number;
  backlogPackets: number;
  /** Packets ECN-marked instead of dropped (CAKE tins, fq_codel). */
  marks: number;
  /** CAKE's shaper rate, bit/s (tc reports bytes a second). */
  rateBits?: number;
}

/** The interface's egress queue, summed the way a user reads it. */
export interface QueueStats {
  iface: string;
  /** `cake`, `htb+fq_codel`, `htb+pfifo`, …, or the kernel's default (`fq_codel`, `pfifo_fast`, `noqueue`). */
  managedBy: string;
  /** True when a shaper below the line rate is in place (CAKE with a bandwidth, or HTB). */
  shaped: boolean;
  rateBits?: number;
  sentBytes: number;
  sentPackets: number;
  backlogBytes: number;
  backlogPackets: number;
  drops: number;
  marks: number;
  qdiscs: QdiscStats[];
}

/** Bound on what we read from tc: a few qdiscs are a few KiB; anything larger is not this output. */
const MAX_JSON = 1024 * 1024;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function qdiscOf(raw: Record<string, unknown>): QdiscStats {
  const options = (raw.options ?? {}) as Record<string, unknown>;
  const tins = Array.isArray(raw.tins) ? (raw.tins as Array<Record<string, unknown>>) : [];
  const marks = num(raw.ecn_mark) + tins.reduce((n, t) => n + num(t.ecn_mark), 0);
  const parent = raw.root === true ? 'root' : typeof raw.parent === 'string' ? raw.parent : raw.kind === 'ingress' ? 'ingress' : '?';
  return {
    kind: String(raw.kind),
    handle: typeof raw.handle === 'string' ? raw.handle : '',
    parent,
    sentBytes: num(raw.bytes),
    sentPackets: num(raw.packets),
    drops: num(raw.drops),
    overlimits: num(raw.overlimits),
    backlogBytes: num(raw.backlog),
    backlogPackets: num(raw.qlen),
    marks,
    ...(raw.kind === 'cake' && typeof options.bandwidth === 'number' ? { rateBits: options.bandwidth * 8 } : {}),
  };
}

/** Parses tc's JSON for one interface; a QueueStatsError names what is wrong with it. */
export function parseQdiscJson(iface: string, text: string): QueueStats {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new QueueStatsError(`tc -s -j qdisc show dev ${iface}: not JSON (${JSON.stringify(text.slice(0, 60))})`);
  }
  if (!Array.isArray(data) || data.some((q) => typeof q !== 'object' || q === null || typeof (q as { kind?: unknown }).kind !== 'string')) {
    throw new QueueStatsError(`tc -s -j qdisc show dev ${iface}: not a list of qdiscs`);
  }
  const qdiscs = (data as Array<Record<string, unknown>>).map(qdiscOf);
  const root = qdiscs.find((q) => q.parent === 'root');
  if (!root) throw new QueueStatsError(`tc -s -j qdisc show dev ${iface}: no root qdisc`);
  const below = qdiscs.filter((q) => q !== root && q.parent !== 'ingress' && q.kind !== 'ingress');
  const leaf = below.length === 1 ? below[0] : undefined;
  const managedBy = leaf ? `${root.kind}+${leaf.kind}` : root.kind;
  const shaped = (root.kind === 'cake' && root.rateBits !== undefined) || root.kind === 'htb' || root.kind === 'tbf';
  return {
    iface,
    managedBy,
    shaped,
    ...(root.rateBits !== undefined ? { rateBits: root.rateBits } : {}),
    sentBytes: root.sentBytes,
    sentPackets: root.sentPackets,
    backlogBytes: root.backlogBytes,
    backlogPackets: root.backlogPackets,
    // a leaf's own drops (CoDel's) do not all reach the root's counter; its overflow drops do
    drops: Math.max(root.drops, below.reduce((n, q) => n + q.drops, 0)),
    marks: root.marks + below.reduce((n, q) => n + q.marks, 0),
    qdiscs,
  };
}

/** The IFB device the ip-up.d hook shapes `iface`'s arrivals on (ifb4ppp0), as the hook names it. */
export function ifbName(iface: string): string {
  return `ifb4${iface}`.slice(0, 15);
}

const IFACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** Reads the queue of `iface` with the real tc. */
export async function readQueueStats(iface: string, o: { tc?: string; signal?: AbortSignal } = {}): Promise<QueueStats> {
  if (!IFACE.test(iface)) throw new QueueStatsError(`not an interface name: ${JSON.stringify(iface)} (allowed: up to 15 of letters, digits and _ . -)`);
  const r = await execa(o.tc ?? 'tc', ['-s', '-j', 'qdisc', 'show', 'dev', iface], { reject: false, maxBuffer: MAX_JSON, ...(o.signal ? { cancelSignal: o.signal } : {}) });
  if (r.isCanceled) throw new QueueStatsError(`tc -s -j qdisc show dev ${iface}: cancelled`);
  if (r.exitCode !== 0) throw new QueueStatsError(`tc -s -j qdisc show dev ${iface}: ${r.failed && r.exitCode === undefined ? (r.code ?? 'failed') : String(r.stderr).trim().split('\n')[0] || `exit ${r.exitCode}`}`);
  return parseQdiscJson(iface, String(r.stdout));
}
