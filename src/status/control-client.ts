/**
 * The one client of `bridge run`'s control port, for `status --watch`, the web page and the
 * exporter: one connection per look, `showport`, parse, leave. A new connection each time (rather
 * than one kept open) survives the bridge restarting and holds nothing while the caller sleeps.
 * A control port on a network is TLS (its config's `control: { tls: … }`); the client side then
 * takes the same settings as `bridge connect` (a CA, pins, a client certificate), and the files are
 * read at each look, so a renewed client certificate is used without a restart.
 */
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { LaplinkError } from '../errors.js';
import { formatAddress } from '../listen/address.js';
import { dialFailure, type DialFailureOptions } from '../tls/dial-failure.js';
import type { TlsClientSettings } from '../tls/settings.js';
import { parseBridgeAnswer, type BridgeAnswer, type BridgePortView } from './bridge-ports.js';

export interface ControlAddress {
  host: string;
  port: number;
  /** Speak TLS, checking the server (and showing our certificate) by these settings. */
  tls?: TlsClientSettings;
}

/** A control port that could not be read, in one line naming it (`message`); `reason` is the line
 *  without the name, for views that show the control port beside it. */
export class ControlPortError extends LaplinkError {
  constructor(
    readonly control: string,
    readonly reason: string,
  ) {
    super(`control port ${control}: ${reason}`);
  }
}

/** More than any showport answer of a few hundred ports; a peer sending more is not our bridge. */
const MAX_ANSWER_BYTES = 1 << 20;
/** A control port that accepts but does not answer is reported, not waited for (a TLS handshake included). */
const ANSWER_TIMEOUT_MS = 2000;

/** HOST:PORT as a person writes it: IPv6 hosts in brackets, like the command line takes them. */
export function controlLabel(host: string, port: number): string {
  return formatAddress({ host, port });
}

/** How the control-port client names the far end in a failed TLS dial. */
const CONTROL_PORT: DialFailureOptions = { who: 'the control port' };

/** Asks the control port for every port; rejects with a ControlPortError saying why in one line. */
export async function queryBridgePorts(control: ControlAddress, signal: AbortSignal): Promise<BridgePortView[]> {
  return (await queryBridge(control, signal)).ports;
}

/** Asks the control port for every port and rotator; rejects with a ControlPortError saying why in one line.
 *  `onGreeting` as for askControl. */
export async function queryBridge(control: ControlAddress, signal: AbortSignal, onGreeting?: () => void): Promise<BridgeAnswer> {
  return parseBridgeAnswer(await askControl(control, 'showport', signal, onGreeting));
}

/** Sends one command to the control port and returns its answer (the text before the next prompt);
 *  rejects with a ControlPortError saying why in one line. `onGreeting` is called once the bridge
 *  has greeted (it is running, and our command is on its way), before its answer. */
export async function askControl(control: ControlAddress, command: string, signal: AbortSignal, onGreeting?: () => void): Promise<string> {
  const label = controlLabel(control.host, control.port);
  const fail = (reason: string) => new ControlPortError(label, reason);
  const limit = AbortSignal.any([signal, AbortSignal.timeout(ANSWER_TIMEOUT_MS)]);
  let sock: net.Socket;
  let dialer: import('../tls/dial.js').TlsDialer | undefined;
  if (control.tls) {
    const { TlsDialer } = await import('../tls/dial.js');
    try {
      dialer = await TlsDialer.create(control.tls);
    } catch (err) {
      // a client certificate, key or CA file that cannot be read: said at each look, as it may come back
      throw fail((err as Error).message);
    }
    sock = dialer.connect(control.host, control.port);
  } else sock = net.connect({ host: control.host, port: control.port });
  return new Promise((resolve, reject) => {
    let text = '';
    // where the greeting's prompt ends (the answer starts there), once it came
    let greeting = -1;
    let settled = false;
    let secured = false;
    const finish = (err: Error | undefined, answer?: string) => {
      if (settled) return;
      settled = true;
      limit.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    // A TLS port waits for a ClientHello in silence; a plain port never completes a handshake.
    const silence = () => (dialer ? (secured ? '' : ' (TLS handshake not finished: is the control port TLS?)') : text === '' ? ' (a TLS control port says nothing to a plain client: give it TLS client settings)' : '');
    const onAbort = () => finish(fail(signal.aborted ? 'stopped' : `no answer within ${ANSWER_TIMEOUT_MS / 1000} s${silence()}`));
    if (limit.aborted) return onAbort();
    limit.addEventListener('abort', onAbort, { once: true });
    sock.setEncoding('latin1');
    // The command goes out at once, not after the greeting's prompt: one round trip less per look
    // (a scrape asks every control port each time). Over TLS only once the server is the one wanted.
    const ask = () => void sock.write(`${command}\r\n`);
    if (dialer) {
      sock.once('secureConnect', () => {
        secured = true;
        const refusal = dialer.refusal(sock as TLSSocket);
        if (refusal) finish(fail(refusal));
        else ask();
      });
    } else ask();
    sock.on('error', (err: NodeJS.ErrnoException) => finish(fail(dialer ? dialFailure(err, CONTROL_PORT) : (err.code ?? err.message))));
    sock.on('close', () => {
      // A TLS port checks our certificate after the handshake and closes without a word when it
      // does not take it (its log says why): the only sign is a close before the first prompt.
      if (dialer && secured && greeting < 0) return finish(fail(control.tls?.cert ? 'closed after the TLS handshake: our client certificate was not accepted' : 'closed after the TLS handshake: it wants a client certificate'));
      // a plain control port greets first; a TLS one reads our command as a broken ClientHello and hangs up
      finish(fail(!dialer && greeting < 0 ? 'closed before greeting (a TLS control port hangs up on a plain client: give it TLS client settings)' : 'closed before answering'));
    });
    sock.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_ANSWER_BYTES) return finish(fail(`answer longer than ${MAX_ANSWER_BYTES} bytes`));
      if (greeting < 0) {
        const at = text.indexOf('-> ');
        if (at < 0) return;
        greeting = at + 3;
        onGreeting?.();
        if (settled) return;
      }
      // a TLS socket gives no data before secureConnect, which asks or settles: by now we have asked
      if (text.length === greeting || !text.endsWith('-> ')) return;
      sock.end('exit\r\n');
      finish(undefined, text.slice(greeting, -3));
    });
  });
}
