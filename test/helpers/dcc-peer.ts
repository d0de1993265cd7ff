/**
 * Emulates the Windows end of a Direct Cable Connection (there is no Windows machine here): what
 * Windows 9x/2000/XP send on the null-modem cable before PPP starts, as documented in ppp's
 * README.win9x and observed in DCC captures.
 *  - Windows as guest: sends `CLIENT` every `interval` ms, each followed by trailing garbage (Windows
 *    is already probing), until `CLIENTSERVER` arrives.
 *  - Windows as host: waits for `CLIENT` and answers `CLIENTSERVER` (no CR). It may miss the first
 *    CLIENT (its port was not open yet), modelled by `ignoreFirst`.
 * After the handshake it sends the start of an LCP frame, as Windows would, so the other side sees
 * PPP bytes right after the handshake.
 */
import type { Duplex } from 'node:stream';

export type WindowsRole = 'windows-guest' | 'windows-host';

export interface DccPeerOptions {
  /** Guest: ms between CLIENTs. */
  interval?: number;
  /** Guest: bytes sent after each CLIENT (default: a bit of line noise). */
  garbage?: Buffer;
  /** Host: pretend the first CLIENT was lost. */
  ignoreFirst?: boolean;
  /** Give up after this many ms. */
  timeout?: number;
}

export interface DccPeerResult {
  completed: boolean;
  /** Everything the emulator received. */
  received: Buffer;
  /** How many CLIENTs the emulator sent (guest) or saw (host). */
  clients: number;
}

export const LCP_START = Buffer.from([0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21]);

export function emulateWindows(line: Duplex, role: WindowsRole, o: DccPeerOptions = {}): Promise<DccPeerResult> {
  const interval = o.interval ?? 300;
  const garbage = o.garbage ?? Buffer.from([0x00, 0xff, 0x20, 0x0d]);
  const chunks: Buffer[] = [];
  let clients = 0;
  return new Promise((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const all = (): Buffer => Buffer.concat(chunks);
    const finish = (completed: boolean): void => {
      timers.forEach(clearTimeout);
      timers.forEach(clearInterval);
      line.off('data', onData);
      resolve({ completed, received: all(), clients });
    };
    timers.push(setTimeout(() => finish(false), o.timeout ?? 15_000));
    const onData = (d: Buffer): void => {
      chunks.push(d);
      const text = all().toString('latin1');
      if (role === 'windows-guest') {
        if (text.includes('CLIENTSERVER')) {
          line.write(LCP_START);
          finish(true);
        }
      } else {
        const seen = text.split('CLIENT').length - 1;
        if (seen > clients) {
          clients = seen;
          if (o.ignoreFirst && clients === 1) return;
          line.write('CLIENTSERVER', () => {
            line.write(LCP_START);
            finish(true);
          });
        }
      }
    };
    line.on('data', onData);
    if (role === 'windows-guest') {
      const sendClient = (): void => {
        clients++;
        line.write(Buffer.concat([Buffer.from('CLIENT'), garbage]));
      };
      sendClient();
      timers.push(setInterval(sendClient, interval));
    }
  });
}
