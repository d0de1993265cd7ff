/**
 * Many bridge ports in one process (ser2net's model): each port its own device and listener, plus
 * rotators (one TCP port handing each client to the first free of several ports) and one control port.
 */
import { UsageError } from '../errors.js';
import { acquireLock, type HeldLock } from '../line/uucp-lock.js';
import { openSerialLine } from '../line/serial.js';
import type { Line, LineSettings } from '../line/line.js';
import { Listener } from '../listen/listener.js';
import type { HostPort } from '../listen/address.js';
import type { TlsState } from '../tls/accepter.js';
import type { BridgeConfig, ControlConfig, ListenerTlsConfig, PortConfig } from './config.js';
import { ControlServer } from './control.js';
import type { EventSink } from './events.js';
import { serverCodec } from './protocols.js';
import { BridgePort } from './server.js';
import { REFUSALS } from './refusals.js';
import { RotatorStats } from './port-stats.js';
import { withPace } from '../line/pace-option.js';
import { lineSettingsOf } from './port-option-table.js';

/** Reads a `tls:` block's files; undefined for a plain listener. TLS code loads only when some port uses it. */
async function tlsStateOf(t: ListenerTlsConfig | undefined): Promise<TlsState | undefined> {
  if (!t) return undefined;
  return (await import('../tls/accepter.js')).loadTlsState(t);
}

/**
 * SIGHUP's renewed files under the same names for one listener: new handshakes get them, or, if
 * they cannot be read, the files read before stay and the report says why. Native TLS reads the
 * files itself in replaceTls: its error is the same kind of failure.
 */
async function rereadTls(name: string, config: ListenerTlsConfig, target: { replaceTls(state: TlsState): void }, report: ReloadReport): Promise<void> {
  await tlsStateOf(config)
    .then((state) => target.replaceTls(state!))
    .then(
      () => report.tlsReread.push(name),
      (err: Error) => report.failed.push(`${name}: keeping the TLS files read before: ${err.message}`),
    );
}

/** What a reload did, port by port (names), for the log line. */
export interface ReloadReport {
  added: string[];
  removed: string[];
  changed: string[];
  kept: string[];
  /** `NAME: why` for ports or rotators of the new config that could not start. */
  failed: string[];
  /** TLS listeners kept whose certificate files and allow lists were read again. */
  tlsReread: string[];
  /** Kept ports that have trace files (reopened). */
  tracesReopened: string[];
}

const portName = (pc: PortConfig) => pc.name ?? pc.device;

/** Opens a port's device with the settings its options ask for (and again after the device was lost). */
export type OpenDevice = (path: string, settings: LineSettings) => Promise<Line>;

const openSerialDevice: OpenDevice = (path, settings) => openSerialLine({ path, settings });

export class BridgeHub {
  readonly ports: BridgePort[] = [];
  private readonly locks = new Map<BridgePort, HeldLock>();
  private readonly rotators: Array<{ name: string; listener: Listener; ports: string[]; stats: RotatorStats }> = [];
  private controlListener: Listener | undefined;
  private control: ControlServer | undefined;
  /** The config running now (start or the last reload), to tell what a reload changes. */
  private current: BridgeConfig | undefined;

  /** `openDevice`: serial lines (ttys, ptys) unless told otherwise, e.g. in-memory lines in a test. */
  constructor(
    private readonly onEvent?: EventSink,
    private readonly openDevice: OpenDevice = openSerialDevice,
  ) {}

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
      for (const rc of cfg.rotators) await this.startRotator(rc.name, rc.listen, rc.ports, rc.tls);
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
    const report: ReloadReport = { added: [], removed: [], changed: [], kept: [], failed: [], tlsReread: [], tracesReopened: [] };
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
        if (kept.reopenTrace()) report.tracesReopened.push(name); // SIGHUP is also logrotate's signal
        report.kept.push(name);
        // Renewed certificate files under the same names: new handshakes use them, sessions go on.
        if (pc.tls) {
          await rereadTls(name, pc.tls, kept, report);
        }
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
      await this.startRotator(rc.name, rc.listen, rc.ports, rc.tls).catch((err: Error) => report.failed.push(err.message));
    }
    const controlTls = next.control && 'tls' in next.control ? next.control.tls : undefined;
    if (JSON.stringify(prev.control) !== JSON.stringify(next.control)) {
      await this.stopControl();
      if (next.control) await this.startControl(next.control).catch((err: Error) => report.failed.push(err.message));
    } else if (controlTls && this.controlListener) {
      const listener = this.controlListener;
      await rereadTls('control', controlTls, listener, report);
    }
    this.current = next;
    return report;
  }

  private async startPort(pc: PortConfig, cfg: BridgeConfig): Promise<void> {
    const name = portName(pc);
    const lock = cfg.lock && cfg.lockDir !== undefined ? acquireLock(pc.device, cfg.lockDir) : undefined;
    const settings = lineSettingsOf(pc);
    const tls = await tlsStateOf(pc.tls).catch((err: Error) => {
      lock?.release();
      throw new UsageError(`${name}: ${err.message}`);
    });
    const port = new BridgePort({
      ...pc,
      tls,
      name,
      open: async () => withPace(await this.openDevice(pc.device, settings), pc.pace),
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
    const closing = this.rotators.splice(0).map((r) => r.listener.close().then(() => r.name));
    for (const name of await Promise.all(closing)) this.onEvent?.({ type: 'closed', port: name });
  }

  /** The control port: the same listener as any port, TLS included (then only operators with a certificate). */
  async startControl(c: ControlConfig): Promise<HostPort> {
    const control = new ControlServer(
      () => this.ports,
      () => this.rotators.map((r) => ({ name: r.name, address: r.listener.address, tlsClientCert: r.listener.clientCert, ports: r.ports, stats: r.stats })),
    );
    const tls = await tlsStateOf('tls' in c ? c.tls : undefined).catch((err: Error) => {
      throw new UsageError(`control: ${err.message}`);
    });
    this.controlListener = await Listener.open({
      name: 'control',
      address: c.listen,
      tls,
      onClient: (socket) => control.serve(socket),
      onRefused: (remote, reason) => this.onEvent?.({ type: 'refused', port: 'control', remote, reason }),
    });
    this.control = control;
    const a = this.controlListener.address;
    this.onEvent?.({ type: 'listening', port: 'control', host: a.host, tcpPort: a.port, tls: this.controlListener.tls });
    return a;
  }

  private async stopControl(): Promise<void> {
    if (!this.controlListener) return;
    this.control?.close();
    await this.controlListener.close();
    this.controlListener = undefined;
    this.control = undefined;
    this.onEvent?.({ type: 'closed', port: 'control' });
  }

  private async startRotator(name: string, listen: HostPort, portNames: string[], tlsConfig: ListenerTlsConfig | undefined): Promise<void> {
    const members = portNames.map((n) => {
      const p = this.ports.find((x) => x.options.name === n);
      if (!p) throw new UsageError(`rotators: ${name}: no port named "${n}"`);
      return p;
    });
    let next = 0;
    const stats = new RotatorStats();
    const tls = await tlsStateOf(tlsConfig).catch((err: Error) => {
      throw new UsageError(`${name}: ${err.message}`);
    });
    const listener = await Listener.open({
      name,
      address: listen,
      tls,
      // Natively terminated TLS hands on a socket the pump may carry: only if every member lets it.
      nativeTls: members.every((p) => p.nativeTls),
      onClient: (sock, peer) => {
        stats.accepted(peer.tls);
        // First free port, starting after the one used last (ser2net rotates rather than always
        // loading the first device).
        for (let i = 0; i < members.length; i++) {
          const p = members[(next + i) % members.length]!;
          if (p.free) {
            next = (next + i + 1) % members.length;
            stats.handed++;
            return p.adopt(sock, peer);
          }
        }
        stats.refusal('all_in_use');
        this.onEvent?.({ type: 'refused', port: name, remote: peer.remote, reason: 'all ports in use' });
        sock.on('error', () => undefined);
        sock.end(REFUSALS.allInUse);
      },
      onRefused: (remote, reason) => this.onEvent?.({ type: 'refused', port: name, remote, reason }),
      countRefusal: () => stats.refusal('tls'),
    });
    this.rotators.push({ name, listener, ports: portNames, stats });
    const a = listener.address;
    this.onEvent?.({ type: 'listening', port: name, host: a.host, tcpPort: a.port, tls: listener.tls });
  }

  async stop(): Promise<void> {
    await this.stopControl();
    await this.stopRotators();
    await Promise.all(this.ports.map((p) => p.stop()));
    for (const l of this.locks.values()) l.release();
    this.locks.clear();
  }
}
