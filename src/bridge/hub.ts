/**
 * Many bridge ports in one process (ser2net's model): each port its own device and listener, plus
 * rotators (one TCP port handing each client to the first free of several ports) and one control port.
 */
import net from 'node:net';
import { LaplinkError, UsageError } from '../errors.js';
import { acquireLock, type HeldLock } from '../line/lock.js';
import { openSerialLine } from '../line/serial.js';
import type { BridgeConfig, PortConfig } from './config.js';
import { ControlServer } from './control.js';
import type { EventSink } from './events.js';
import { serverCodec } from './protocols.js';
import { BridgePort } from './server.js';
import { REFUSALS } from './refusals.js';
import { withPace } from './pace-option.js';

export function splitListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!m || Number(m[3]) > 65535) throw new UsageError(`"${text}" is not [HOST:]PORT`);
  return { host: m[1] || m[2] || '127.0.0.1', port: Number(m[3]) };
}

/** What a reload did, port by port (names), for the log line. */
export interface ReloadReport {
  added: string[];
  removed: string[];
  changed: string[];
  kept: string[];
  /** `NAME: why` for ports or rotators of the new config that could not start. */
  failed: string[];
}

const portName = (pc: PortConfig) => pc.name ?? pc.device;

export class BridgeHub {
  readonly ports: BridgePort[] = [];
  private readonly locks = new Map<BridgePort, HeldLock>();
  private readonly rotators: Array<{ name: string; server: net.Server }> = [];
  private control: ControlServer | undefined;
  /** The config running now (start or the last reload), to tell what a reload changes. */
  private current: BridgeConfig | undefined;

  constructor(private readonly onEvent?: EventSink) {}

  /** Starts everything in the config; on any failure stops what was started and rethrows. */
  async start(cfg: BridgeConfig): Promise<void> {
    this.current = cfg;
    try {
      const names = new Set<string>();
      for (const pc of cfg.ports) {
        const name = portName(pc);
        if (names.has(name)) throw new UsageError(`ports: name "${name}" is used twice`);
        names.add(name);
        await this.startPort(pc, cfg);
      }
      for (const rc of cfg.rotators) await this.startRotator(rc.name, rc.listen, rc.ports);
      if (cfg.control) await this.startControl(cfg.control);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /**
   * Applies a new, already validated config the way ser2net does on SIGHUP: ports that are gone
   * are stopped, new ones started, changed ones restarted; the clients of unchanged ports keep
   * their sessions and reopen their trace files. Rotators are re-bound (their clients already
   * belong to ports) and the control port moves only when its address changed. A port of the new
   * config that cannot start (device missing, address in use) is reported in `failed`; the rest
   * runs on.
   */
  async reload(next: BridgeConfig): Promise<ReloadReport> {
    const prev = this.current ?? next;
    const report: ReloadReport = { added: [], removed: [], changed: [], kept: [], failed: [] };
    const sameLocking = prev.lock === next.lock && prev.lockDir === next.lockDir;
    const prevByName = new Map(prev.ports.map((pc) => [portName(pc), pc]));
    const nextByName = new Map(next.ports.map((pc) => [portName(pc), pc]));
    await this.stopRotators();
    for (const port of [...this.ports]) {
      const name = port.options.name;
      const want = nextByName.get(name);
      if (want && sameLocking && JSON.stringify(want) === JSON.stringify(prevByName.get(name))) continue;
      (want ? report.changed : report.removed).push(name);
      await this.stopPort(port);
    }
    for (const pc of next.ports) {
      const name = portName(pc);
      const kept = this.ports.find((p) => p.options.name === name);
      if (kept) {
        kept.reopenTrace(); // SIGHUP is also logrotate's signal
        report.kept.push(name);
        continue;
      }
      if (!report.changed.includes(name)) report.added.push(name);
      await this.startPort(pc, next).catch(async (err: Error) => {
        report.failed.push(`${name}: ${err.message}`);
        const broken = this.ports.find((p) => p.options.name === name);
        if (broken) await this.stopPort(broken);
      });
    }
    // Keep the config's order: showport lists ports as the file does.
    const order = next.ports.map(portName);
    this.ports.sort((a, b) => order.indexOf(a.options.name) - order.indexOf(b.options.name));
    for (const rc of next.rotators) {
      await this.startRotator(rc.name, rc.listen, rc.ports).catch((err: Error) => report.failed.push(`${rc.name}: ${err.message}`));
    }
    if (prev.control !== next.control) {
      if (this.control) {
        await this.control.close();
        this.onEvent?.({ type: 'closed', port: 'control' });
      }
      this.control = undefined;
      if (next.control) await this.startControl(next.control).catch((err: Error) => report.failed.push(`control: ${err.message}`));
    }
    this.current = next;
    return report;
  }

  private async startPort(pc: PortConfig, cfg: BridgeConfig): Promise<void> {
    const name = portName(pc);
    const lock = cfg.lock && cfg.lockDir !== undefined ? acquireLock(pc.device, cfg.lockDir) : undefined;
    const where = pc.listen ? splitListen(pc.listen) : undefined;
    const settings = { speed: pc.speed, dataBits: pc.databits, parity: pc.parity, stopBits: pc.stopbits, flow: pc.flow, local: pc.local, hupcl: pc.hupcl };
    const port = new BridgePort({
      ...pc,
      name,
      host: where?.host,
      port: where?.port,
      open: async () => withPace(await openSerialLine({ path: pc.device, settings }), pc.pace),
      codecFor: serverCodec,
      onEvent: this.onEvent,
    });
    this.ports.push(port);
    if (lock) this.locks.set(port, lock);
    await port.start();
  }

  private async stopPort(port: BridgePort): Promise<void> {
    await port.stop();
    this.locks.get(port)?.release();
    this.locks.delete(port);
    this.ports.splice(this.ports.indexOf(port), 1);
    this.onEvent?.({ type: 'closed', port: port.options.name });
  }

  private async stopRotators(): Promise<void> {
    const closing = this.rotators.splice(0).map((r) => new Promise<void>((res) => r.server.close(() => res())).then(() => r.name));
    for (const name of await Promise.all(closing)) this.onEvent?.({ type: 'closed', port: name });
  }

  async startControl(listen: string): Promise<{ host: string; port: number }> {
    const { host, port } = splitListen(listen);
    this.control = new ControlServer(() => this.ports);
    const a = await this.control.listen(host, port).catch((err: Error) => {
      throw new LaplinkError(`control port ${listen}: ${err.message}`);
    });
    this.onEvent?.({ type: 'listening', port: 'control', host: a.host, tcpPort: a.port });
    return a;
  }

  private async startRotator(name: string, listen: string, portNames: string[]): Promise<void> {
    const members = portNames.map((n) => {
      const p = this.ports.find((x) => x.options.name === n);
      if (!p) throw new UsageError(`rotators: ${name}: no port named "${n}"`);
      return p;
    });
    let next = 0;
    const server = net.createServer({ highWaterMark: 64 * 1024, noDelay: true }, (sock) => {
      // First free port, starting after the one used last (ser2net rotates rather than always
      // loading the first device).
      for (let i = 0; i < members.length; i++) {
        const p = members[(next + i) % members.length]!;
        if (p.free) {
          next = (next + i + 1) % members.length;
          return p.adopt(sock);
        }
      }
      this.onEvent?.({ type: 'refused', port: name, remote: `${sock.remoteAddress}:${sock.remotePort}`, reason: 'all ports in use' });
      sock.on('error', () => undefined);
      sock.end(REFUSALS.allInUse);
    });
    this.rotators.push({ name, server });
    const { host, port } = splitListen(listen);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    }).catch((err: Error) => {
      throw new LaplinkError(`rotator ${name}: cannot listen on ${listen}: ${err.message}`);
    });
    const a = server.address() as net.AddressInfo;
    this.onEvent?.({ type: 'listening', port: name, host: a.address, tcpPort: a.port });
  }

  /** SIGHUP after logrotate: every port reopens its trace files by name. */
  reopenTraces(): void {
    for (const p of this.ports) p.reopenTrace();
  }

  async stop(): Promise<void> {
    await this.control?.close();
    await this.stopRotators();
    await Promise.all(this.ports.map((p) => p.stop()));
    for (const l of this.locks.values()) l.release();
    this.locks.clear();
  }
}
