/**
 * The bridges the exporter asks: control ports given on the command line, or found in the bridge
 * configs (/etc/laplink/bridge/*.yaml, read with the bridge's own loader, never written). A config
 * is loaded again only when its file changed, so a scrape costs a stat per config, not a YAML parse.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBridgeConfig } from '../bridge/config.js';
import type { BridgePortView, BridgeRotatorView } from '../status/bridge-ports.js';
import { ControlPortError, controlLabel, queryBridge, type ControlAddress } from '../status/control-client.js';
import { certificateFingerprint } from '../tls/identity.js';
import type { TlsClientSettings } from '../tls/settings.js';
import { MAX_LABEL_CHARS } from './links.js';

/** Where `laplink-bridge@NAME.service` reads NAME.yaml. */
export const DEFAULT_BRIDGE_CONFIG_DIR = '/etc/laplink/bridge';
/** Past this, a config directory is not what we think it is. */
const MAX_CONFIGS = 64;
/** More ports than one host has serial lines; the rest are left out of the scrape. */
export const MAX_PORTS_PER_CONTROL = 1024;

export interface ControlTarget extends ControlAddress {
  /** HOST:PORT, as the `control` label shows it. */
  control: string;
  /** A TLS control port found in a config, read without client settings: its own certificate
   *  (the config's `control.tls.cert`) is pinned, read again at each look as it may be renewed. */
  pinCertFile?: string;
  /** Port name → device path, when the config is known (showport names the port, not the path). */
  devices: ReadonlyMap<string, string>;
}

export interface BridgeReading {
  control: string;
  /** Why the control port did not answer this time. */
  error?: string;
  ports: BridgePortView[];
  rotators: BridgeRotatorView[];
  /** Device paths of the ports the bridge reported: it holds them open while it runs. */
  ttys: string[];
}

/** A listening address as one to connect to: a bridge bound to every address is reached on loopback. */
function connectable(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

interface CachedConfig {
  mtimeMs: number;
  size: number;
  target?: ControlTarget;
  problem?: string;
}

/** The control ports of every bridge config in a directory, reloaded per file as files change. */
export class BridgeConfigDirectory {
  private readonly cache = new Map<string, CachedConfig>();

  /** `clientTls`: how to reach the control ports whose config puts them on TLS (see ControlTarget.pinCertFile when absent). */
  constructor(
    readonly dir: string,
    private readonly clientTls?: TlsClientSettings,
  ) {}

  async targets(): Promise<{ targets: ControlTarget[]; problems: string[] }> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { targets: [], problems: code === 'ENOENT' ? [] : [`${this.dir}: ${code ?? (err as Error).message}`] };
    }
    const problems = names.length > MAX_CONFIGS ? [`${this.dir}: ${names.length} configs, only the first ${MAX_CONFIGS} are read`] : [];
    names = names.slice(0, MAX_CONFIGS);
    for (const known of this.cache.keys()) if (!names.includes(known)) this.cache.delete(known);
    const targets: ControlTarget[] = [];
    for (const name of names) {
      const entry = await this.load(name);
      if (entry.problem) problems.push(entry.problem);
      if (entry.target) targets.push(entry.target);
    }
    return { targets, problems };
  }

  private async load(name: string): Promise<CachedConfig> {
    const file = join(this.dir, name);
    const st = await stat(file).catch(() => undefined);
    if (!st) return { mtimeMs: 0, size: 0, problem: `${file}: gone while reading the directory` };
    const cached = this.cache.get(name);
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached;
    let entry: CachedConfig;
    try {
      const config = await loadBridgeConfig(file);
      if (config.control === undefined) {
        entry = { mtimeMs: st.mtimeMs, size: st.size };
      } else {
        const { host, port } = config.control.listen;
        const to = connectable(host);
        const serverTls = config.control.tls;
        const tls = serverTls && !this.clientTls ? { pinCertFile: serverTls.cert } : serverTls ? { tls: this.clientTls } : {};
        entry = { mtimeMs: st.mtimeMs, size: st.size, target: { control: controlLabel(to, port), host: to, port, ...tls, devices: new Map(config.ports.map((p) => [p.name ?? p.device, p.device])) } };
      }
    } catch (err) {
      entry = { mtimeMs: st.mtimeMs, size: st.size, problem: (err as Error).message.split('\n')[0]! };
    }
    this.cache.set(name, entry);
    return entry;
  }
}

const counter = (n: number) => Number.isSafeInteger(n) && n >= 0;

/** A port as a label may carry it: names cut to length, counters that are counts (a peer that is
 *  not our bridge could send anything). */
function sane(p: BridgePortView): BridgePortView | undefined {
  if (![p.tcpIn, p.tcpOut, p.deviceIn, p.deviceOut].every(counter)) return undefined;
  return { ...p, port: p.port.slice(0, MAX_LABEL_CHARS), name: p.name.slice(0, MAX_LABEL_CHARS), device: p.device.slice(0, 4096), enable: p.enable.slice(0, MAX_LABEL_CHARS) };
}

/** A rotator as labels may carry it. */
function saneRotator(r: BridgeRotatorView): BridgeRotatorView {
  return { ...r, name: r.name.slice(0, MAX_LABEL_CHARS), listen: r.listen.slice(0, MAX_LABEL_CHARS), ports: r.ports.slice(0, MAX_PORTS_PER_CONTROL).map((p) => p.slice(0, MAX_LABEL_CHARS)) };
}

/** One look at a control port: its ports and rotators (bounded) and the device paths the ports hold.
 *  `onGreeting`: the bridge is running and composing its answer. */
export async function readBridge(target: ControlTarget, signal: AbortSignal, onGreeting?: () => void): Promise<BridgeReading> {
  try {
    const answer = await queryBridge(await withPin(target), signal, onGreeting);
    const ports = answer.ports.slice(0, MAX_PORTS_PER_CONTROL).map(sane).filter((p): p is BridgePortView => p !== undefined);
    if (ports.length < Math.min(answer.ports.length, MAX_PORTS_PER_CONTROL)) return { control: target.control, error: 'showport answered counters that are not counts', ports: [], rotators: [], ttys: [] };
    const rotators = answer.rotators.slice(0, MAX_PORTS_PER_CONTROL).map(saneRotator);
    // the device path as showport says it; from a bridge too old to say it, the config's path for the port's name
    const ttys = ports.map((p) => (p.device.startsWith('/') ? p.device : target.devices.get(p.name))).filter((d): d is string => d !== undefined);
    return { control: target.control, ports, rotators, ttys };
  } catch (err) {
    // the exporter's log line names the control port itself
    return { control: target.control, error: err instanceof ControlPortError ? err.reason : (err as Error).message, ports: [], rotators: [], ttys: [] };
  }
}

/** The target with its bridge's own certificate pinned, when that is how it is reached. */
async function withPin(target: ControlTarget): Promise<ControlAddress> {
  if (!target.pinCertFile) return target;
  let pin: string;
  try {
    pin = certificateFingerprint(await readFile(target.pinCertFile));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? 'not a PEM certificate';
    throw new ControlPortError(target.control, `TLS control port: its certificate ${target.pinCertFile} (pinned, as no --control-tls-* flags were given): ${why}`);
  }
  return { ...target, tls: { pin: [pin] } };
}
