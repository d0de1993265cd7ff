/**
 * The words of `showport`'s answer, spelled once: the control port writes them (control.ts,
 * port-stats.ts) and status --watch and the exporter read them back (status/bridge-ports.ts), so a
 * label renamed here is renamed on both sides. A block starts with a head (`TCP port 4001`,
 * `Rotator any`), then one `  label: value` line each. Those ser2net's showport has keep its words
 * (`enable state` to `bytes written to device`, but for `name`); the rest, and a rotator's block, are ours.
 */

export const SHOWPORT_HEAD = { port: 'TCP port', rotator: 'Rotator' } as const;

export const SHOWPORT_LABEL = {
  enableState: 'enable state',
  timeout: 'timeout',
  connectedTo: 'connected to',
  name: 'name',
  device: 'device',
  deviceConfig: 'device config',
  tcpIn: 'bytes read from TCP',
  tcpOut: 'bytes written to TCP',
  deviceIn: 'bytes read from device',
  deviceOut: 'bytes written to device',
  dataPath: 'data path',
  tls: 'tls',
  refused: 'refused',
  dropped: 'dropped',
  clientBytesTotal: 'client bytes total',
  tlsHandshakes: 'tls handshakes',
  listen: 'listen',
  ports: 'ports',
  clientsHanded: 'clients handed',
} as const;

export type ShowportLabel = (typeof SHOWPORT_LABEL)[keyof typeof SHOWPORT_LABEL];

/** The value of `enable state` for a disabled port (setportenable's word for disabling one). */
export const PORT_DISABLED = 'off';
/** The value of `connected to` when no client is. */
export const NOT_CONNECTED = 'not connected';
/** What separates the clients of `connected to` and the ports of a rotator's `ports`. */
export const LIST_SEPARATOR = ', ';

/** One line of a block. */
export function showportLine(label: ShowportLabel, value: string | number): string {
  return `  ${label}: ${value}`;
}

/** A block's head line: `TCP port 4001`. */
export function showportHead(kind: keyof typeof SHOWPORT_HEAD, name: string): string {
  return `${SHOWPORT_HEAD[kind]} ${name}`;
}

/** A line read back: a block's head, a label's line (the label as written, known or not), or neither. */
export function readShowportLine(line: string): { head: keyof typeof SHOWPORT_HEAD; name: string } | { label: string; value: string } | undefined {
  for (const kind of Object.keys(SHOWPORT_HEAD) as Array<keyof typeof SHOWPORT_HEAD>) {
    const prefix = `${SHOWPORT_HEAD[kind]} `;
    if (line.startsWith(prefix) && /^\S+$/.test(line.slice(prefix.length))) return { head: kind, name: line.slice(prefix.length) };
  }
  const field = /^ {2}([A-Za-z ]+): (.*)$/.exec(line);
  return field ? { label: field[1]!, value: field[2]! } : undefined;
}

const TLS_OFF = 'off';
const TLS_ON = 'on';

/** The `tls` line's value: `off`, or `on, client certificates required` (its client certificate policy). */
export function tlsValue(clientCertPolicy: string | undefined): string {
  return clientCertPolicy === undefined ? TLS_OFF : `${TLS_ON}, client certificates ${clientCertPolicy}`;
}

/** The `tls` line read back; undefined for anything `tlsValue` does not write. */
export function readTlsValue(value: string): boolean | undefined {
  if (value === TLS_OFF) return false;
  return value.startsWith(TLS_ON) ? true : undefined;
}

/** The keys of `client bytes total` and of `tls handshakes`. */
export const CLIENT_BYTES_KEYS = ['in', 'out'] as const;
export const HANDSHAKE_KEYS = ['ok', 'refused'] as const;
export type ClientBytesKey = (typeof CLIENT_BYTES_KEYS)[number];
export type HandshakeKey = (typeof HANDSHAKE_KEYS)[number];

/** A line of counts by kind: `ok=3 refused=1`, in the order given. */
export function countsValue(counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>): string {
  const pairs = counts instanceof Map ? [...counts] : Object.entries(counts);
  return pairs.map(([k, v]) => `${k}=${v}`).join(' ');
}
