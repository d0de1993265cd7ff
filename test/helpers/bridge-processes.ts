import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { isListening, processTree } from './proc.js';

/**
 * Launchers for the bridges under comparison, all serving pty link(s) on 127.0.0.1 TCP ports.
 * Each returns the PIDs to account CPU/RSS to and a stop() that kills only those PIDs.
 */
export interface RunningBridge {
  /** TCP port per served device, in the order given. */
  ports: number[];
  pids: number[];
  stop(): Promise<void>;
}

export interface ServedDevice {
  device: string;
}

/** A port that was free a moment ago (bind 0, read, close); the tiny race is acceptable here. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * n distinct ports that were free a moment ago. All n listeners stay open until every port is
 * known: closing each before asking for the next lets the kernel hand the same port out twice, and
 * a 64-port config then fails with EADDRINUSE (seen in the bench).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

export interface Daemon {
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
  stop: () => Promise<void>;
}

export function startDaemon(cmd: string, args: string[], hint: string): Daemon {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, sig) => {
      // Say how it ended: a signal or a silent exit code is otherwise invisible in the bench table.
      log += `\n[exited: ${sig ?? `code ${code}`}]`;
      resolve();
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      log += err.code === 'ENOENT' ? `\n${cmd} not found: ${hint}` : `\n${err.message}`;
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      // Children first (socat forks one per client): a survivor would keep reading the device and
      // steal bytes from whatever bridge opens it next. These are PIDs this daemon started.
      for (const pid of processTree(child.pid).slice(1)) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
  return { child, output: () => log, exited, stop };
}

export async function waitFor(daemon: Daemon, what: string, ready: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void daemon.exited.then(() => (gone = true));
  while (!ready()) {
    if (gone) throw new Error(`${what} exited before it was ready: ${daemon.output().trim().split('\n').filter((l) => l.trim()).slice(-3).join(' | ')}`);
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`${what} not ready after ${timeoutMs} ms: ${daemon.output().trim().slice(-300)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stopAll(daemons: Daemon[], cleanup?: () => void): Promise<void> {
  await Promise.all(daemons.map((d) => d.stop()));
  cleanup?.();
}

/** socat TCP-LISTEN:P,bind=127.0.0.1,reuseaddr,fork FILE:DEV,raw,echo=0 — one process per port. */
export async function startSocat(devices: readonly string[]): Promise<RunningBridge> {
  const daemons: Daemon[] = [];
  const ports: number[] = [];
  try {
    for (const device of devices) {
      const port = await freePort();
      const d = startDaemon('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `FILE:${device},raw,echo=0`], 'install package socat');
      daemons.push(d);
      ports.push(port);
      await waitFor(d, 'socat bridge', () => isListening(port));
    }
  } catch (err) {
    await stopAll(daemons);
    throw err;
  }
  return { ports, pids: daemons.map((d) => d.child.pid!), stop: () => stopAll(daemons) };
}

/** ser2net 4 YAML with one raw TCP accepter per device; `tuned` adds the fast options (no chardelay, 64 KiB buffers: its defaults hold device data about 3 ms and cap it near 12 MB/s). */
export function ser2netConfig(entries: ReadonlyArray<{ device: string; port: number }>, opts: { tuned?: boolean; accepter?: 'tcp' | 'telnet,tcp' | 'telnet(rfc2217),tcp' } = {}): string {
  const accepter = opts.accepter ?? 'tcp';
  const blocks = entries.map(({ device, port }, i) => {
    const lines = [
      `connection: &port${i}`,
      `    accepter: ${accepter},127.0.0.1,${port}`,
      '    enable: on',
      `    connector: serialdev,${device},115200n81,local`,
    ];
    if (opts.tuned) {
      lines.push('    options:', '      chardelay: false', '      dev-to-net-bufsize: 65536', '      net-to-dev-bufsize: 65536');
    }
    return lines.join('\n');
  });
  return `%YAML 1.1\n---\n${blocks.join('\n\n')}\n`;
}

/** One ser2net process serving every device (`ser2net -n -d -c cfg.yaml`). */
export async function startSer2net(devices: readonly string[], opts: { tuned?: boolean; accepter?: 'tcp' | 'telnet,tcp' | 'telnet(rfc2217),tcp' } = {}): Promise<RunningBridge> {
  const dir = mkdtempSync(join(tmpdir(), 'laplink-ser2net-'));
  const ports = await freePorts(devices.length);
  const entries = devices.map((device, i) => ({ device, port: ports[i]! }));
  const cfg = join(dir, 'ser2net.yaml');
  writeFileSync(cfg, ser2netConfig(entries, opts));
  const d = startDaemon('ser2net', ['-n', '-d', '-c', cfg], 'install package ser2net (version 4)');
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    await waitFor(d, 'ser2net', () => entries.every((e) => isListening(e.port)));
  } catch (err) {
    await stopAll([d], cleanup);
    throw err;
  }
  return { ports: entries.map((e) => e.port), pids: [d.child.pid!], stop: () => stopAll([d], cleanup) };
}


export function laplinkArgs(args: string[]): string[] {
  return [join(packageRoot(), 'bin', 'laplink.js'), ...args];
}

/** `node bin/laplink.js bridge serve DEV --listen 127.0.0.1:P`, one process per device. */
export async function startLaplinkServe(devices: readonly string[], extra: string[] = []): Promise<RunningBridge> {
  const daemons: Daemon[] = [];
  const ports: number[] = [];
  try {
    for (const device of devices) {
      const port = await freePort();
      const lockDir = mkdtempSync(join(tmpdir(), 'laplink-lock-'));
      const d = startDaemon(
        process.execPath,
        laplinkArgs(['bridge', 'serve', device, '--listen', `127.0.0.1:${port}`, '--lock-dir', lockDir, ...extra]),
        'run npm run build',
      );
      const stop = d.stop;
      d.stop = async () => {
        await stop();
        rmSync(lockDir, { recursive: true, force: true });
      };
      daemons.push(d);
      ports.push(port);
      await waitFor(d, 'laplink bridge serve', () => d.output().includes('listening on') && isListening(port));
    }
  } catch (err) {
    await stopAll(daemons);
    throw err;
  }
  return { ports, pids: daemons.map((d) => d.child.pid!), stop: () => stopAll(daemons) };
}

/** `node bin/laplink.js bridge run CONFIG` with a config generated by `makeConfig` (one process, many ports). */
export async function startLaplinkRun(
  devices: readonly string[],
  makeConfig: (entries: ReadonlyArray<{ device: string; port: number }>) => string,
): Promise<RunningBridge> {
  const dir = mkdtempSync(join(tmpdir(), 'laplink-run-'));
  const ports = await freePorts(devices.length);
  const entries = devices.map((device, i) => ({ device, port: ports[i]! }));
  const cfg = join(dir, 'bridge.yaml');
  writeFileSync(cfg, makeConfig(entries));
  const d = startDaemon(process.execPath, laplinkArgs(['bridge', 'run', cfg]), 'run npm run build');
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    await waitFor(d, 'laplink bridge run', () => entries.every((e) => isListening(e.port)));
  } catch (err) {
    await stopAll([d], cleanup);
    throw err;
  }
  return { ports: entries.map((e) => e.port), pids: [d.child.pid!], stop: () => stopAll([d], cleanup) };
}

/**
 * A bridge that dials out (socat `TCP:` client, `laplink bridge connect`) to the driver's listener
 * on 127.0.0.1:`port`. It is ready when the driver accepts its connection, so this only starts it.
 */
function dialingBridge(cmd: string, args: string[], hint: string): RunningBridge {
  const d = startDaemon(cmd, args, hint);
  return { ports: [], pids: [d.child.pid!], stop: () => stopAll([d]) };
}

/** socat TCP:127.0.0.1:P FILE:DEV,raw,echo=0 — socat's side of a remserial-style client link. */
export function startSocatDial(device: string, port: number): RunningBridge {
  return dialingBridge('socat', [`TCP:127.0.0.1:${port}`, `FILE:${device},raw,echo=0`], 'install package socat');
}

/** `node bin/laplink.js bridge connect 127.0.0.1:P DEV --no-lock`. */
export function startLaplinkDial(device: string, port: number): RunningBridge {
  return dialingBridge(process.execPath, laplinkArgs(['bridge', 'connect', `127.0.0.1:${port}`, device, '--no-lock']), 'run npm run build');
}

/** A one-connection listener on a free loopback port for a dialing bridge; rejects if nothing connects in time. */
export async function acceptOne(timeoutMs = 30_000): Promise<{ port: number; accepted: Promise<net.Socket>; close(): void }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const accepted = new Promise<net.Socket>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no bridge connected within ${timeoutMs} ms`)), timeoutMs);
    server.once('connection', (s) => {
      clearTimeout(timer);
      s.setNoDelay(true);
      server.close(); // one connection; a reconnect after the trial must not be taken
      resolve(s);
    });
  });
  return { port: (server.address() as net.AddressInfo).port, accepted, close: () => server.close() };
}

/** A running `node bin/laplink.js …` process (any subcommand), for tests that drive the CLI. */
export interface LaplinkProcess {
  pid: number;
  /** Last few KB of stdout+stderr. */
  output(): string;
  /** Resolves once the output contains `text` (rejects if the process exits first or on timeout). */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<void>;
  exitCode(): number | null;
  stop(): Promise<void>;
}

export function spawnLaplink(args: string[]): LaplinkProcess {
  const d = startDaemon(process.execPath, laplinkArgs(args), 'run npm run build');
  return {
    pid: d.child.pid ?? -1,
    output: d.output,
    exited: d.exited,
    exitCode: () => d.child.exitCode,
    stop: d.stop,
    async waitForOutput(text, timeoutMs = 30_000) {
      const matches = (): boolean => (typeof text === 'string' ? d.output().includes(text) : text.test(d.output()));
      await waitFor(d, `laplink ${args.slice(0, 2).join(' ')}`, matches, timeoutMs);
      return d.output();
    },
  };
}

/** `laplink bridge serve DEVICE --listen 127.0.0.1:P …` on a free port; resolves once it printed `listening on`. */
export async function serveLaplink(device: string, extra: string[] = []): Promise<LaplinkProcess & { port: number }> {
  const port = await freePort();
  // A private UUCP lock directory: /var/lock is shared with everything else on the machine, and
  // every pair's link is called `a`, so parallel tests would lock each other out.
  const lockDir = mkdtempSync(join(tmpdir(), 'laplink-lock-'));
  const p = spawnLaplink(['bridge', 'serve', device, '--listen', `127.0.0.1:${port}`, '--lock-dir', lockDir, ...extra]);
  const stopProcess = p.stop;
  const stop = async (): Promise<void> => {
    await stopProcess();
    rmSync(lockDir, { recursive: true, force: true });
  };
  try {
    await p.waitForOutput(`listening on 127.0.0.1:${port}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return Object.assign(p, { port, stop });
}
