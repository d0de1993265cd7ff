/**
 * The TLS contenders of the bridge benchmark: socat `OPENSSL-LISTEN`, ser2net 4's `ssl` accepter and
 * `laplink bridge serve --tls-cert`, each serving one end of the same pty pair with one self-signed
 * certificate made by openssl for the run; the driver is the same Node TLS client for all three, so
 * its own cost is the same in every row. Also the 64-port config with a `tls:` block on every port.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { freePort, laplinkArgs, startDaemon, startLaplinkServe, waitFor, type RunningBridge } from '../../test/helpers/bridge-processes.js';
import { isListening } from '../../test/helpers/proc.js';

export interface BenchCert {
  cert: string;
  key: string;
  dir: string;
  remove(): void;
}

let shared: BenchCert | undefined;

/** One certificate for the whole run (CN and SAN localhost / 127.0.0.1). */
export function benchCert(): BenchCert {
  if (shared) return shared;
  const dir = mkdtempSync(join(tmpdir(), 'laplink-bench-tls-'));
  const cert = join(dir, 'localhost.crt');
  const key = join(dir, 'localhost.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2'], { stdio: 'ignore' });
  shared = {
    cert,
    key,
    dir,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      shared = undefined;
    },
  };
  return shared;
}

/** The driver's end: a TLS client trusting the run's certificate. */
export function connectTlsDriver(port: number, timeoutMs = 10_000): Promise<TLSSocket> {
  const c = benchCert();
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(c.cert), servername: 'localhost' });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TLS connect to 127.0.0.1:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * The driver's end for a dialing bridge: a one-connection TLS server on a free loopback port with
 * the run's certificate; rejects if no handshake finishes in time.
 */
export async function acceptOneTls(timeoutMs = 30_000): Promise<{ port: number; accepted: Promise<TLSSocket>; close(): void }> {
  const c = benchCert();
  const server = createTlsServer({ cert: readFileSync(c.cert), key: readFileSync(c.key) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const accepted = new Promise<TLSSocket>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no TLS bridge connected within ${timeoutMs} ms`)), timeoutMs);
    server.once('secureConnection', (s) => {
      clearTimeout(timer);
      s.setNoDelay(true);
      server.close(); // one connection; a reconnect after the trial must not be taken
      resolve(s);
    });
  });
  return { port: (server.address() as AddressInfo).port, accepted, close: () => server.close() };
}

/** socat OPENSSL:127.0.0.1:P,cafile=… FILE:DEV,raw,echo=0: socat's TLS client link, verifying the driver's certificate. */
export function startSocatTlsDial(device: string, port: number): RunningBridge {
  const d = startDaemon('socat', [`OPENSSL:127.0.0.1:${port},cafile=${benchCert().cert}`, `FILE:${device},raw,echo=0`], 'install package socat');
  return { ports: [], pids: [d.child.pid!], stop: d.stop };
}

/** `laplink bridge connect 127.0.0.1:P DEV --no-lock --tls-ca …`, verifying the driver's certificate. */
export function startLaplinkTlsDial(device: string, port: number): RunningBridge {
  const d = startDaemon(process.execPath, laplinkArgs(['bridge', 'connect', `127.0.0.1:${port}`, device, '--no-lock', '--tls-ca', benchCert().cert]), 'run npm run build');
  return { ports: [], pids: [d.child.pid!], stop: d.stop };
}

/** socat OPENSSL-LISTEN:P,fork,cert=…,key=…,verify=0 FILE:DEV,raw,echo=0 */
export async function startSocatTls(device: string): Promise<RunningBridge> {
  const c = benchCert();
  const port = await freePort();
  const d = startDaemon('socat', [`OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,cert=${c.cert},key=${c.key},verify=0`, `FILE:${device},raw,echo=0`], 'install package socat');
  await waitFor(d, 'socat OPENSSL-LISTEN', () => isListening(port));
  return { ports: [port], pids: [d.child.pid!], stop: d.stop };
}

/** ser2net 4 with `ssl(key=…,cert=…),tcp,127.0.0.1,P` and the tuned options of the plain row. */
export async function startSer2netTls(device: string): Promise<RunningBridge> {
  const c = benchCert();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'laplink-ser2net-tls-'));
  const cfg = join(dir, 'ser2net.yaml');
  writeFileSync(
    cfg,
    [
      '%YAML 1.1',
      '---',
      'connection: &tls0',
      `    accepter: ssl(key=${c.key},cert=${c.cert}),tcp,127.0.0.1,${port}`,
      '    enable: on',
      `    connector: serialdev,${device},115200n81,local`,
      '    options:',
      '      chardelay: false',
      '      dev-to-net-bufsize: 65536',
      '      net-to-dev-bufsize: 65536',
      '',
    ].join('\n'),
  );
  const d = startDaemon('ser2net', ['-n', '-d', '-c', cfg], 'install package ser2net (version 4)');
  const stop = async (): Promise<void> => {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(d, 'ser2net ssl', () => isListening(port));
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports: [port], pids: [d.child.pid!], stop };
}

export function startLaplinkTls(device: string): Promise<RunningBridge> {
  const c = benchCert();
  return startLaplinkServe([device], ['--tls-cert', c.cert, '--tls-key', c.key]);
}

/** `bridge run` config with every port TLS (the 64-port memory row). */
export function laplinkTlsRunConfig(entries: ReadonlyArray<{ device: string; port: number }>): string {
  const c = benchCert();
  const lines = ['lock: false', 'ports:'];
  entries.forEach(({ device, port }, i) => lines.push(`  - name: port${i}`, `    device: ${device}`, `    listen: 127.0.0.1:${port}`, `    tls: { cert: ${c.cert}, key: ${c.key} }`));
  return `${lines.join('\n')}\n`;
}
