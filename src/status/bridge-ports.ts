import net from 'node:net';
import { LaplinkError } from '../errors.js';
import { DROP_KINDS, REFUSAL_KINDS } from '../bridge/port-stats.js';

/**
 * A client of `bridge run`'s control port (src/bridge/control.ts, ser2net 3's admin interface): one
 * connection per look, `showport`, parse, leave. A new connection each time (rather than one kept
 * open) survives the bridge restarting and holds nothing while the watcher sleeps.
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

/** More than any showport answer of a few hundred ports; a peer sending more is not our bridge. */
const MAX_ANSWER_BYTES = 1 << 20;
/** A control port that accepts but does not answer is reported, not waited for. */
const ANSWER_TIMEOUT_MS = 2000;

export class ControlPortError extends LaplinkError {}

/** Parses `showport`'s blocks ("TCP port N" then indented "key: value" lines). */
export function parseShowport(text: string): BridgePortView[] {
  const ports: BridgePortView[] = [];
  let cur: BridgePortView | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const head = /^TCP port (\S+)$/.exec(raw);
    if (head) {
      cur = { port: head[1]!, name: '', device: '', enable: '', clients: [], tcpIn: 0, tcpOut: 0, deviceIn: 0, deviceOut: 0 };
      ports.push(cur);
      continue;
    }
    const field = /^ {2}([A-Za-z ]+): (.*)$/.exec(raw);
    if (!cur || !field) continue;
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
      case 'tls handshakes': {
        const c = counts(value, ['ok', 'refused']);
        if (c.ok !== undefined && c.refused !== undefined) cur.tlsHandshakes = { ok: c.ok, refused: c.refused };
        break;
      }
      case 'tls':
        cur.tls = value.startsWith('on');
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
  return ports;
}

/** Asks the control port at host:port for every port; throws ControlPortError with a one-line reason. */
export function queryBridgePorts(host: string, port: number, signal: AbortSignal): Promise<BridgePortView[]> {
  const limit = AbortSignal.any([signal, AbortSignal.timeout(ANSWER_TIMEOUT_MS)]);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let text = '';
    let asked = false;
    let settled = false;
    const finish = (err: Error | undefined, ports?: BridgePortView[]) => {
      if (settled) return;
      settled = true;
      limit.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(ports!);
    };
    const onAbort = () => finish(new ControlPortError(signal.aborted ? 'stopped' : `no answer within ${ANSWER_TIMEOUT_MS / 1000} s`));
    if (limit.aborted) return onAbort();
    limit.addEventListener('abort', onAbort, { once: true });
    sock.setEncoding('latin1');
    sock.on('error', (err: NodeJS.ErrnoException) => finish(new ControlPortError(err.code ?? err.message)));
    sock.on('close', () => finish(new ControlPortError('closed before answering')));
    sock.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_ANSWER_BYTES) return finish(new ControlPortError(`answer longer than ${MAX_ANSWER_BYTES} bytes`));
      if (!text.endsWith('-> ')) return;
      if (!asked) {
        asked = true;
        text = '';
        sock.write('showport\r\n');
        return;
      }
      sock.end('exit\r\n');
      finish(undefined, parseShowport(text.slice(0, -3)));
    });
  });
}
