import net from 'node:net';
import { LaplinkError } from '../errors.js';

/**
 * A client of `bridge run`'s control port (src/bridge/control.ts, ser2net 3's admin interface): one
 * connection per look, `showport`, parse, leave. A new connection each time (rather than one kept
 * open) survives the bridge restarting and holds nothing while the watcher sleeps.
 */

export interface BridgePortView {
  /** The TCP port number (or name) the bridge names the port by. */
  port: string;
  device: string;
  /** off, raw, telnet or rfc2217. */
  enable: string;
  /** Remote addresses of the connected clients. */
  clients: string[];
  tcpIn: number;
  tcpOut: number;
  deviceIn: number;
  deviceOut: number;
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
      cur = { port: head[1]!, device: '', enable: '', clients: [], tcpIn: 0, tcpOut: 0, deviceIn: 0, deviceOut: 0 };
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
      case 'device':
        cur.device = value;
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
