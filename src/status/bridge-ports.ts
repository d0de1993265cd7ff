import { DROP_KINDS, REFUSAL_KINDS, ROTATOR_REFUSAL_KINDS } from '../bridge/port-stats.js';
import { CLIENT_BYTES_KEYS, HANDSHAKE_KEYS, LIST_SEPARATOR, NOT_CONNECTED, readShowportLine, readTlsValue, SHOWPORT_LABEL as L } from '../bridge/showport-labels.js';

/**
 * What `bridge run`'s control port (src/bridge/control.ts, ser2net 3's admin interface) says of its
 * ports in answer to `showport`, read by known keys only: a peer that is not our bridge cannot make
 * the watcher or the exporter show, or count, anything it invents.
 */

/** A disabled port's `enable`, for the readers of a view (the exporter, the web). */
export { PORT_DISABLED } from '../bridge/showport-labels.js';

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

/** `ok=N refused=N`, both or nothing. */
function handshakes(value: string): { ok: number; refused: number } | undefined {
  const c = counts(value, HANDSHAKE_KEYS);
  return c.ok !== undefined && c.refused !== undefined ? { ok: c.ok, refused: c.refused } : undefined;
}

/** `a=1 b=2` as a record of whole numbers, only of the keys known (a peer that is not our bridge
 *  cannot make the exporter invent series). */
function counts<K extends string>(value: string, known: readonly K[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const w of value.split(' ')) {
    const m = /^([a-z_]{1,32})=(\d{1,15})$/.exec(w);
    if (m && (known as readonly string[]).includes(m[1]!)) out[m[1] as K] = Number(m[2]);
  }
  return out;
}

/** What a label's line sets in a port's view; `skip` for the lines the view does not carry. */
type Reader<V> = (view: V, value: string) => void;
const skip = (): void => undefined;

/** Every label a port's block has, and what each sets: the writer's labels (showport-labels.ts), one
 *  entry each, so a line the control port prints and nobody reads is a decision, not an accident. */
export const PORT_READERS: Readonly<Record<string, Reader<BridgePortView>>> = {
  [L.enableState]: (v, value) => void (v.enable = value),
  [L.timeout]: skip,
  [L.connectedTo]: (v, value) => void (v.clients = value === NOT_CONNECTED ? [] : value.split(LIST_SEPARATOR)),
  [L.name]: (v, value) => void (v.name = value),
  [L.device]: (v, value) => {
    v.device = value;
    // a bridge without the name line names the port by what it shows as its device
    if (!v.name) v.name = value;
  },
  [L.deviceConfig]: skip,
  [L.tcpIn]: (v, value) => void (v.tcpIn = Number(value)),
  [L.tcpOut]: (v, value) => void (v.tcpOut = Number(value)),
  [L.deviceIn]: (v, value) => void (v.deviceIn = Number(value)),
  [L.deviceOut]: (v, value) => void (v.deviceOut = Number(value)),
  [L.dataPath]: skip,
  [L.tls]: (v, value) => void (v.tls = readTlsValue(value)),
  [L.refused]: (v, value) => void (v.refused = counts(value, REFUSAL_KINDS)),
  [L.dropped]: (v, value) => void (v.dropped = counts(value, DROP_KINDS)),
  [L.clientBytesTotal]: (v, value) => {
    const c = counts(value, CLIENT_BYTES_KEYS);
    if (c.in !== undefined && c.out !== undefined) v.clientBytesTotal = { in: c.in, out: c.out };
  },
  [L.tlsHandshakes]: (v, value) => void (v.tlsHandshakes = handshakes(value)),
};

/** Every label a rotator's block has, and what each sets. */
export const ROTATOR_READERS: Readonly<Record<string, Reader<BridgeRotatorView>>> = {
  [L.listen]: (r, value) => void (r.listen = value),
  [L.tls]: (r, value) => void (r.tls = readTlsValue(value)),
  [L.ports]: (r, value) => void (r.ports = value.split(LIST_SEPARATOR)),
  [L.clientsHanded]: (r, value) => {
    if (/^\d{1,15}$/.test(value)) r.handed = Number(value);
  },
  [L.refused]: (r, value) => void (r.refused = counts(value, ROTATOR_REFUSAL_KINDS)),
  [L.tlsHandshakes]: (r, value) => void (r.tlsHandshakes = handshakes(value)),
};

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
    const line = readShowportLine(raw);
    if (!line) continue;
    if ('head' in line) {
      cur = undefined;
      rot = undefined;
      if (line.head === 'port') ports.push((cur = { port: line.name, name: '', device: '', enable: '', clients: [], tcpIn: 0, tcpOut: 0, deviceIn: 0, deviceOut: 0 }));
      else rotators.push((rot = { name: line.name, listen: '', ports: [] }));
      continue;
    }
    // own keys only: a label such as `constructor` or `__proto__` is no reader
    if (rot) {
      if (Object.hasOwn(ROTATOR_READERS, line.label)) ROTATOR_READERS[line.label]!(rot, line.value);
    } else if (cur && Object.hasOwn(PORT_READERS, line.label)) PORT_READERS[line.label]!(cur, line.value);
  }
  return { ports, rotators };
}
