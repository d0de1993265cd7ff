/**
 * A CallerServer on loopback whose pppd is test/helpers/echo-pppd.sh, a STAND-IN: this machine's
 * kernel has no PPP, so the real pppd exits 4 before it could negotiate anything.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { CallerGate, type GateOptions } from '../../src/callers/gate.js';
import { AddressPool, parsePool } from '../../src/callers/pool.js';
import type { TlsState } from '../../src/tls/accepter.js';
import { CallerServer, type CallerServerSettings } from '../../src/callers/server.js';

export const echoPppd = fileURLToPath(new URL('./echo-pppd.sh', import.meta.url));

export function settings(runDir: string, over: Partial<CallerServerSettings> & { gateOptions?: Partial<GateOptions> } = {}): CallerServerSettings {
  const { gateOptions, ...rest } = over;
  return {
    name: 'dialin',
    protocol: 'ppp',
    transport: 'raw',
    idleMs: 10_000,
    handshakeBytes: 4096,
    connectSpeed: 115200,
    pppd: echoPppd,
    pppdArgs: (device, lease) => ['file', '/nonexistent/peers/dialin', device, 'nodetach', `:${lease.ipv4}`],
    graceMs: 2000,
    runDir,
    max: 4,
    pool: new AddressPool(parsePool('192.168.7.10-192.168.7.40')),
    gate: new CallerGate({ perAddress: 1000, burst: 100_000, refillMs: 1, ...gateOptions }),
    ...rest,
  };
}

export async function openServer(s: CallerServerSettings, log: string[] = [], tls?: TlsState, onChange?: () => void): Promise<CallerServer> {
  return CallerServer.open({ name: 'dialin', address: { host: '127.0.0.1', port: 0 }, settings: s, log: (l) => log.push(l), ...(tls ? { tls } : {}), ...(onChange ? { onChange } : {}) });
}

export function connect(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads from `s` until `want` bytes arrived (or the socket closed). */
export function readBytes(s: net.Socket, want: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let n = 0;
    const done = (): void => {
      s.off('data', onData);
      s.off('close', done);
      resolve(Buffer.concat(parts));
    };
    const onData = (c: Buffer): void => {
      parts.push(c);
      n += c.length;
      if (n >= want) done();
    };
    s.on('data', onData);
    s.once('close', done);
  });
}

export function closed(s: net.Socket): Promise<void> {
  return new Promise((r) => (s.destroyed && s.readableEnded ? r() : s.once('close', () => r())));
}

/** This process's open file descriptors. */
export function openFds(): string[] {
  return readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '?';
    }
  });
}

/** Pids whose parent is this process. */
export function childPids(): number[] {
  const kids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) kids.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return kids;
}
