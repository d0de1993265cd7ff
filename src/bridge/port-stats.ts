/**
 * What a port counts over its life, for the control port's `showport` and through it the exporter:
 * clients refused and dropped by kind, bytes of every client (closed sessions included), and TLS
 * handshakes by outcome. The kinds are a fixed list, so the counters stay bounded whatever a client
 * does, and each is shown (as 0) before it first happens, as Prometheus wants its series.
 */
import { countsValue, SHOWPORT_LABEL as L, showportLine, type ClientBytesKey, type HandshakeKey } from './showport-labels.js';

export const REFUSAL_KINDS = ['not_allowed', 'disabled', 'unavailable', 'in_use', 'tls'] as const;
export type RefusalKind = (typeof REFUSAL_KINDS)[number];
export const DROP_KINDS = ['too_slow', 'kicked', 'idle_timeout', 'device_gone'] as const;
export type DropKind = (typeof DROP_KINDS)[number];

/** The adopt step's refusal reasons (server.ts) by kind; anything the TLS layer refuses is `tls`. */
const REFUSAL_BY_REASON: Record<string, RefusalKind> = {
  'not in allow-list': 'not_allowed',
  'port disabled': 'disabled',
  'device unavailable': 'unavailable',
  'port in use': 'in_use',
};

/** A drop reason's kind; undefined for the ordinary ends (the client left, the bridge stops, `disconnect`). */
export function dropKind(reason: string): DropKind | undefined {
  if (reason.startsWith('client too slow')) return 'too_slow';
  if (reason === 'kicked by a new user') return 'kicked';
  if (reason === 'idle timeout') return 'idle_timeout';
  if (reason === 'device gone') return 'device_gone';
  return undefined;
}

export class PortStats {
  readonly refused = new Map<RefusalKind, number>(REFUSAL_KINDS.map((k) => [k, 0]));
  readonly dropped = new Map<DropKind, number>(DROP_KINDS.map((k) => [k, 0]));
  /** Bytes of sessions that have ended; the open ones are added when shown. */
  closedBytesIn = 0;
  closedBytesOut = 0;
  tlsAccepted = 0;
  tlsRefused = 0;

  /** A connection turned away, by the listener (TLS, allow-list before it) or by the port. */
  refusal(reason: string, byTls: boolean): void {
    const kind = REFUSAL_BY_REASON[reason] ?? (byTls ? 'tls' : undefined);
    if (kind) this.refused.set(kind, this.refused.get(kind)! + 1);
    if (byTls && kind === 'tls') this.tlsRefused++;
  }

  ended(reason: string, bytesIn: number, bytesOut: number): void {
    this.closedBytesIn += bytesIn;
    this.closedBytesOut += bytesOut;
    const kind = dropKind(reason);
    if (kind) this.dropped.set(kind, this.dropped.get(kind)! + 1);
  }

  /** showport's lines, after the ones ser2net has. */
  lines(open: ReadonlyArray<{ bytesIn: number; bytesOut: number }>): string[] {
    const bytes: Record<ClientBytesKey, number> = { in: open.reduce((n, s) => n + s.bytesIn, this.closedBytesIn), out: open.reduce((n, s) => n + s.bytesOut, this.closedBytesOut) };
    const handshakes: Record<HandshakeKey, number> = { ok: this.tlsAccepted, refused: this.tlsRefused };
    return [showportLine(L.refused, countsValue(this.refused)), showportLine(L.dropped, countsValue(this.dropped)), showportLine(L.clientBytesTotal, countsValue(bytes)), showportLine(L.tlsHandshakes, countsValue(handshakes))];
  }
}

export const ROTATOR_REFUSAL_KINDS = ['all_in_use', 'tls'] as const;
export type RotatorRefusalKind = (typeof ROTATOR_REFUSAL_KINDS)[number];

/** What a rotator counts over its listener's life: clients handed to a port, connections turned
 *  away (every port busy, or refused by TLS), TLS handshakes by outcome. Fixed kinds, as for ports. */
export class RotatorStats {
  handed = 0;
  readonly refused = new Map<RotatorRefusalKind, number>(ROTATOR_REFUSAL_KINDS.map((k) => [k, 0]));
  tlsAccepted = 0;

  refusal(kind: RotatorRefusalKind): void {
    this.refused.set(kind, this.refused.get(kind)! + 1);
  }

  /** A client accepted by the listener (after its TLS handshake and certificate check, on TLS). */
  accepted(tls: boolean): void {
    if (tls) this.tlsAccepted++;
  }

  /** showport's counting lines of a rotator. */
  lines(): string[] {
    const handshakes: Record<HandshakeKey, number> = { ok: this.tlsAccepted, refused: this.refused.get('tls')! };
    return [showportLine(L.clientsHanded, this.handed), showportLine(L.refused, countsValue(this.refused)), showportLine(L.tlsHandshakes, countsValue(handshakes))];
  }
}
