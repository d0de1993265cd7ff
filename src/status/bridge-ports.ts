import { DROP_KINDS, REFUSAL_KINDS, ROTATOR_REFUSAL_KINDS } from '../bridge/port-stats.js';

/**
 * What `bridge run`'s control port (src/bridge/control.ts, ser2net 3's admin interface) says of its
 * ports in answer to `showport`, read by known keys only: a peer that is not our bridge cannot make
 * the watcher or the exporter show, or count, anything it invents.
 */

export interface BridgePortView {
  /** The TCP port number (or name) the bridge names the port by. */
  port: string;
  /** The port's name in the bridge's config (the device path when it has none). */
  name: string;
  /** The serial device's path. */
  device: string;
  /** off, raw, telnet or rfc2217. */
  enable: string;
  /** Remote addresses of the connected clients. */
  clients: string[];
  tcpIn: number;
  tcpOut: number;
  deviceIn: number;
  deviceOut: number;
  /** Since the bridge started: connections refused and clients dropped by kind (not_allowed,
   *  disabled, unavailable, in_use, tls; too_slow, kicked, idle_timeout, device_gone), bytes of
   *  every client, TLS handshakes by outcome. Absent from a bridge too old to say them. */
  refused?: Record<string, number>;
  dropped?: Record<string, number>;
  clientBytesTotal?: { in: number; out: number };
  tlsHandshakes?: { ok: number; refused: number };
  /** The port listens with TLS (showport's `tls:` line); absent from a bridge too old to say it. */
  tls?: boolean;
}

/** A rotator (one listener handing each client to the first free of its ports), listed after the ports. */
export interface BridgeRotatorView {
  name: string;
  /** HOST:PORT it listens on. */
  listen: string;
  tls?: boolean;
  /** Names of its ports. */
  ports: string[];
  /** Since it started listening (a reload starts it again): clients handed to a port, connections
   *  turned away by kind (all_in_use, tls), TLS handshakes by outcome. */
  handed?: number;
  refused?: Record<string, number>;
  tlsHandshakes?: { ok: number; refused: number };
}

export interface BridgeAnswer {
  ports: BridgePortView[];
  rotators: BridgeRotatorView[];
}

/** `on, client certificates …` / `off`; undefined for anything else. */
function tlsFlag(value: string): boolean | undefined {
  if (value === 'off') return false;
  return value.startsWith('on') ? true : undefined;
}

/** `ok=N refused=N`, both or nothing. */
function handshakes(value: string): { ok: number; refused: number } | undefined {
  const c = counts(value, ['ok', 'refused']);
  return c.ok !== undefined && c.refused !== undefined ? { ok: c.ok, refused: c.refused } : undefined;
}

/** `a=1 b=2` as a record of whole numbers, only of the keys known (a peer that is not our bridge
 *  cannot make the exporter invent series). */
function counts(value: string, known: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of value.split(' ')) {
    const m = /^([a-z_]{1,32})=(\d{1,15})$/.exec(w);
    if (m && known.includes(m[1]!)) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** The ports of a `showport` answer. */
export function parseShowport(text: string): BridgePortView[] {
  return parseBridgeAnswer(text).ports;
}

/** Parses `showport`'s blocks: "TCP port N" or "Rotator NAME", then indented "key: value" lines. */
export function parseBridgeAnswer(text: string): BridgeAnswer {
  const ports: BridgePortView[] = [];
  const rotators: BridgeRotatorView[] = [];
  let cur: BridgePortView | undefined;
  let rot: BridgeRotatorView | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const head = /^TCP port (\S+)$/.exec(raw);
    if (head) {
      rot = undefined;
      cur = { port: head[1]!, name: '', device: '', enable: '', clients: [], tcpIn: 0, tcpOut: 0, deviceIn: 0, deviceOut: 0 };
      ports.push(cur);
      continue;
    }
    const rotatorHead = /^Rotator (\S+)$/.exec(raw);
    if (rotatorHead) {
      cur = undefined;
      rot = { name: rotatorHead[1]!, listen: '', ports: [] };
      rotators.push(rot);
      continue;
    }
    const field = /^ {2}([A-Za-z ]+): (.*)$/.exec(raw);
    if (!field) continue;
    if (rot) {
      rotatorField(rot, field[1]!, field[2]!);
      continue;
    }
    if (!cur) continue;
    const [, key, value] = field as unknown as [string, string, string];
    const n = Number(value);
    switch (key) {
      case 'enable state':
        cur.enable = value;
        break;
      case 'connected to':
        cur.clients = value === 'not connected' ? [] : value.split(', ');
        break;
      case 'name':
        cur.name = value;
        break;
      case 'device':
        cur.device = value;
        // a bridge without the name line names the port by what it shows as its device
        if (!cur.name) cur.name = value;
        break;
      case 'refused':
        cur.refused = counts(value, REFUSAL_KINDS);
        break;
      case 'dropped':
        cur.dropped = counts(value, DROP_KINDS);
        break;
      case 'client bytes total': {
        const c = counts(value, ['in', 'out']);
        if (c.in !== undefined && c.out !== undefined) cur.clientBytesTotal = { in: c.in, out: c.out };
        break;
      }
      case 'tls handshakes':
        cur.tlsHandshakes = handshakes(value);
        break;
      case 'tls':
        cur.tls = tlsFlag(value);
        break;
      case 'bytes read from TCP':
        cur.tcpIn = n;
        break;
      case 'bytes written to TCP':
        cur.tcpOut = n;
        break;
      case 'bytes read from device':
        cur.deviceIn = n;
        break;
      case 'bytes written to device':
        cur.deviceOut = n;
        break;
    }
  }
  return { ports, rotators };
}

function rotatorField(r: BridgeRotatorView, key: string, value: string): void {
  switch (key) {
    case 'listen':
      r.listen = value;
      break;
    case 'tls':
      r.tls = tlsFlag(value);
      break;
    case 'ports':
      r.ports = value.split(', ');
      break;
    case 'clients handed':
      if (/^\d{1,15}$/.test(value)) r.handed = Number(value);
      break;
    case 'refused':
      r.refused = counts(value, ROTATOR_REFUSAL_KINDS);
      break;
    case 'tls handshakes':
      r.tlsHandshakes = handshakes(value);
      break;
  }
}
