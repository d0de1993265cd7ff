/**
 * Many bridge ports in one process (ser2net's model): each port its own device and listener, plus
 * rotators (one TCP port handing each client to the first free of several ports) and one control port.
 */
import net from 'node:net';
import { LaplinkError, UsageError } from '../errors.js';
import { acquireLock, type HeldLock } from '../line/lock.js';
import { openSerialLine } from '../line/serial.js';
import type { BridgeConfig } from './config.js';
import { ControlServer } from './control.js';
import type { EventSink } from './events.js';
import { serverCodec } from './protocols.js';
import { BridgePort } from './server.js';
import { withPace } from './pace-option.js';

export function splitListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!m || Number(m[3]) > 65535) throw new UsageError(`"${text}" is not [HOST:]PORT`);
  return { host: m[1] || m[2] || '127.0.0.1', port: Number(m[3]) };
}

export class BridgeHub {
  readonly ports: BridgePort[] = [];
  private readonly locks: HeldLock[] = [];
  private readonly rotators: net.Server[] = [];
  private control: ControlServer | undefined;

  constructor(private readonly onEvent?: EventSink) {}

  /** Starts everything in the config; on any failure stops what was started and rethrows. */
  async start(cfg: BridgeConfig): Promise<void> {
    try {
      const names = new Set<string>();
      for (const pc of cfg.ports) {
        const name = pc.name ?? pc.device;
        if (names.has(name)) throw new UsageError(`ports: name "${name}" is used twice`);
        names.add(name);
        if (cfg.lock && cfg.lockDir !== undefined) this.locks.push(acquireLock(pc.device, cfg.lockDir));
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
        await port.start();
      }
      for (const rc of cfg.rotators) await this.startRotator(rc.name, rc.listen, rc.ports);
      if (cfg.control) await this.startControl(cfg.control);
    } catch (err) {
      await this.stop();
      throw err;
    }
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
      sock.end('All ports in use\r\n');
    });
    this.rotators.push(server);
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

  async stop(): Promise<void> {
    await this.control?.close();
    await Promise.all(this.rotators.map((r) => new Promise<void>((res) => r.close(() => res()))));
    await Promise.all(this.ports.map((p) => p.stop()));
    for (const l of this.locks) l.release();
  }
}
