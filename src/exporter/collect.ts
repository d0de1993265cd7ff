/**
 * One look at the host, as metric families: the links (state files), the ttys they and the bridges
 * hold (kernel counters), the bridge ports (control ports), and the exporter's own cost. Between
 * looks it keeps only its error counts and the files it parsed (state files, bridge configs, each
 * read again when it changes): an idle exporter holds no timer and does no work.
 */
import { existsSync } from 'node:fs';
import { readTtyCounters, TtyCountersError, type TtyReading } from '../line/serial-counters.js';
import { readQueueStats, type QueueStats } from '../pppd/queue-stats.js';
import { IFACE_NAME } from '../status/counters.js';
import type { TlsClientSettings } from '../tls/settings.js';
import { PORT_DISABLED, type BridgeRotatorView } from '../status/bridge-ports.js';
import { BridgeConfigDirectory, readBridge, type BridgeReading, type ControlTarget } from './bridges.js';
import { renderFamilies, type ExpositionFormat, type MetricFamily, type Sample } from './exposition.js';
import { LINK_STATES, LinkStateDirectory, MAX_LABEL_CHARS, type LinkSnapshot } from './links.js';

/** More ttys than a host has serial lines. */
const MAX_TTYS = 256;

export const ERROR_SOURCES = ['state_file', 'bridge_config', 'control_port', 'tty', 'queue'] as const;
export type ErrorSource = (typeof ERROR_SOURCES)[number];

export interface ExporterOptions {
  stateDir: string;
  /** Control ports named on the command line; when empty, those of the configs in `bridgeConfigDir`. */
  controls: ControlTarget[];
  bridgeConfigDir: string;
  /** How to reach the control ports the configs put on TLS (--control-tls-*); without it, each bridge's own certificate is pinned. */
  controlTls?: TlsClientSettings;
  /** ttys to read whoever holds them (--tty): a line laplink does not run, a getty's, a lab guest's. */
  ttys?: readonly string[];
  version: string;
  /** Hears each problem once, when it appears (a journal line, not one per scrape). */
  onProblem?: (source: ErrorSource, text: string) => void;
}

interface Look {
  links: LinkSnapshot[];
  /** The queue of each up link whose interface exists (tc), by link name. */
  queues: Map<string, QueueStats>;
  bridges: BridgeReading[];
  ttys: TtyReading[];
  problems: Array<[ErrorSource, string]>;
}

const family = (name: string, type: MetricFamily['type'], help: string, samples: Sample[]): MetricFamily => ({ name, type, help, samples });
const bool = (b: boolean) => (b ? 1 : 0);

export class Exporter {
  private readonly configs: BridgeConfigDirectory;
  private readonly states: LinkStateDirectory;
  private readonly errors = new Map<ErrorSource, number>(ERROR_SOURCES.map((s) => [s, 0]));
  private shownProblems = new Set<string>();
  /** A scrape already running is shared: a flood of requests costs one look at a time. */
  private inFlight: Promise<MetricFamily[]> | undefined;

  constructor(private readonly o: ExporterOptions) {
    this.configs = new BridgeConfigDirectory(o.bridgeConfigDir, o.controlTls);
    this.states = new LinkStateDirectory(o.stateDir);
  }

  async scrape(format: ExpositionFormat, signal: AbortSignal): Promise<string> {
    this.inFlight ??= this.families(signal).finally(() => (this.inFlight = undefined));
    return renderFamilies(await this.inFlight, format);
  }

  async families(signal: AbortSignal): Promise<MetricFamily[]> {
    const started = performance.now();
    const look = await this.look(signal);
    this.count(look.problems);
    const seconds = (performance.now() - started) / 1000;
    return [...linkFamilies(look.links, Date.now() / 1000), ...queueFamilies(look.queues), ...ttyFamilies(look.ttys), ...bridgeFamilies(look.bridges), ...this.selfFamilies(seconds)];
  }

  private async look(signal: AbortSignal): Promise<Look> {
    const problems: Array<[ErrorSource, string]> = [];
    const targets = this.o.controls.length > 0 ? { targets: this.o.controls, problems: [] } : await this.configs.targets();
    // The ttys already known are read while the bridges build their answers (a showport of 64
    // ports is the longest wait of a scrape), not after. A config's devices only once its bridge
    // has greeted: a bridge that is down holds none of them, and opening an idle UART raises DTR.
    const early = new Map<string, TtyLook>();
    const readEarly = (paths: Iterable<string>) => {
      for (const p of paths) {
        if (early.size >= MAX_TTYS) return;
        if (!early.has(p)) early.set(p, lookAtTty(p));
      }
    };
    // the control ports asked first: each bridge builds its answer while this process reads the state files
    const bridgesAnswered = Promise.all(targets.targets.map((t) => readBridge(t, signal, () => readEarly(t.devices.values()))));
    const links = await this.states.read();
    problems.push(...links.problems.map((p): [ErrorSource, string] => ['state_file', p]));
    problems.push(...targets.problems.map((p): [ErrorSource, string] => ['bridge_config', p]));
    // the links' ttys are held by their pppd (deviceInUse), so opening them changes nothing
    const linkTtys = links.links.filter((l) => l.deviceInUse).map((l) => l.device!);
    readEarly([...linkTtys, ...(this.o.ttys ?? [])]);
    const bridges = await bridgesAnswered;
    for (const b of bridges) if (b.error) problems.push(['control_port', `${b.control}: ${b.error}`]);
    // what is shown is what the answers hold: a tty read early that no answer names is left out
    const paths = [...new Set([...linkTtys, ...bridges.flatMap((b) => b.ttys), ...(this.o.ttys ?? [])])].sort();
    if (paths.length > MAX_TTYS) problems.push(['tty', `${paths.length} ttys, only the first ${MAX_TTYS} are read`]);
    const readings: TtyReading[] = [];
    for (const p of paths.slice(0, MAX_TTYS)) {
      const seen = early.get(p) ?? lookAtTty(p);
      if (seen.reading) readings.push(seen.reading);
      else if (seen.problem) problems.push(['tty', seen.problem]);
    }
    const queues = await this.queues(links.links, signal, problems);
    return { links: links.links, queues, bridges, ttys: readings, problems };
  }

  /** tc for each up link whose interface exists: a link that is not up, or an interface already
   *  gone, costs no process. */
  private async queues(links: readonly LinkSnapshot[], signal: AbortSignal, problems: Array<[ErrorSource, string]>): Promise<Map<string, QueueStats>> {
    const up = links.filter((l) => l.state === 'up' && !l.stale && l.info.iface && IFACE_NAME.test(l.info.iface) && existsSync(`/sys/class/net/${l.info.iface}`));
    const read = await Promise.all(
      up.map(async (l) => {
        try {
          return [l.name, await readQueueStats(l.info.iface!, { signal })] as const;
        } catch (err) {
          problems.push(['queue', `${l.name}: ${(err as Error).message}`]);
          return undefined;
        }
      }),
    );
    return new Map(read.filter((r) => r !== undefined));
  }

  private count(problems: Array<[ErrorSource, string]>): void {
    const now = new Set<string>();
    for (const [source, text] of problems) {
      this.errors.set(source, this.errors.get(source)! + 1);
      const key = `${source}\0${text}`;
      now.add(key);
      if (!this.shownProblems.has(key)) this.o.onProblem?.(source, text);
    }
    this.shownProblems = now;
  }

  private selfFamilies(seconds: number): MetricFamily[] {
    return [
      family('laplink_exporter_scrape_duration_seconds', 'gauge', 'Time this scrape took to read state files, control ports and ttys.', [{ labels: {}, value: seconds }]),
      family('laplink_exporter_errors', 'counter', 'Things the exporter could not read, by source (each scrape counts again while the problem lasts).', ERROR_SOURCES.map((source) => ({ labels: { source }, value: this.errors.get(source)! }))),
      family('laplink_exporter_build', 'info', 'The laplink version serving these metrics.', [{ labels: { version: this.o.version }, value: 1 }]),
    ];
  }
}

/** One tty's reading, or what is wrong with it (nothing when it is merely missing). */
interface TtyLook { reading?: TtyReading; problem?: string }

function lookAtTty(path: string): TtyLook {
  try {
    return { reading: readTtyCounters(path) };
  } catch (err) {
    // a device unplugged is shown by its owner's state; anything else needs a look
    return err instanceof TtyCountersError && err.problem === 'missing' ? {} : { problem: (err as Error).message };
  }
}

export function linkFamilies(links: readonly LinkSnapshot[], now: number): MetricFamily[] {
  const per = (pick: (l: LinkSnapshot) => number | undefined): Sample[] =>
    links.flatMap((l) => {
      const v = pick(l);
      return v === undefined ? [] : [{ labels: { link: l.name }, value: v }];
    });
  const info = links.map((l) => {
    const i = l.info;
    const labels: Record<string, string | undefined> = { link: l.name, device: l.device, iface: i.iface, dialled: i.dialled, auth_method: i.authMethod, compression: i.compression, local_ipv4: i.localIp, remote_ipv4: i.remoteIp, local_ipv6: i.localIp6, remote_ipv6: i.remoteIp6, local_ipv6_prefix: i.localIp6Net, remote_ipv6_prefix: i.remoteIp6Net };
    return { labels: Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')), value: 1 };
  });
  const waiting = (l: LinkSnapshot) => l.state === 'backoff' || l.state === 'paused';
  return [
    family('laplink_link_state', 'gauge', 'The link state machine: 1 for the state the link is in, 0 for the others.', links.flatMap((l) => LINK_STATES.map((state) => ({ labels: { link: l.name, state }, value: bool(l.state === state) })))),
    family('laplink_link_up', 'gauge', 'Whether the link is up (IPCP finished): 1 or 0.', per((l) => bool(l.state === 'up'))),
    family('laplink_link_stale', 'gauge', 'Whether the state file claims a running link whose supervisor is gone: 1 or 0.', per((l) => bool(l.stale))),
    family('laplink_link_state_since_timestamp_seconds', 'gauge', 'When the link entered its current state (Unix time).', per((l) => l.since)),
    family('laplink_link_up_since_timestamp_seconds', 'gauge', 'When the link came up, while it is up (Unix time).', per((l) => l.upSince)),
    family('laplink_link_backoff_seconds', 'gauge', 'How long the link has waited in backoff or paused so far (0 in other states).', per((l) => (waiting(l) ? Math.max(0, now - l.since) : 0))),
    family('laplink_link_next_retry_timestamp_seconds', 'gauge', 'When the supervisor starts pppd again, while in backoff or paused (Unix time).', per((l) => l.nextRetry)),
    family('laplink_link_restarts', 'counter', 'pppd restarts since the supervisor started.', per((l) => l.restarts)),
    family('laplink_link_last_exit_status', 'gauge', 'Exit status of the last pppd run (pppd(8) EXIT STATUS).', per((l) => l.lastExit?.code)),
    family('laplink_link_last_exit_timestamp_seconds', 'gauge', 'When the last pppd run ended (Unix time).', per((l) => l.lastExit?.at)),
    family('laplink_link', 'info', 'What the link is: device, interface, dialled number, authentication, compression, addresses (IPv6: link-local, and on the profile prefix) (labels absent while unknown).', info),
  ];
}

export function queueFamilies(queues: ReadonlyMap<string, QueueStats>): MetricFamily[] {
  const all = [...queues];
  const per = (pick: (q: QueueStats) => number | undefined): Sample[] =>
    all.flatMap(([link, q]) => {
      const v = pick(q);
      return v === undefined ? [] : [{ labels: { link }, value: v }];
    });
  return [
    family('laplink_link_queue', 'info', 'What manages the link interface\'s egress queue (cake, htb+fq_codel, or the kernel default when queue management is off).', all.map(([link, q]) => ({ labels: { link, qdisc: q.managedBy.slice(0, MAX_LABEL_CHARS) }, value: 1 }))),
    family('laplink_link_queue_rate_bytes_per_second', 'gauge', 'The shaper rate set just below the line rate, while one is in place.', per((q) => (q.rateBits === undefined ? undefined : q.rateBits / 8))),
    family('laplink_link_queue_backlog_bytes', 'gauge', 'Bytes waiting in the queue now.', per((q) => q.backlogBytes)),
    family('laplink_link_queue_backlog_packets', 'gauge', 'Packets waiting in the queue now.', per((q) => q.backlogPackets)),
    family('laplink_link_queue_drops', 'counter', 'Packets the queue dropped since it was set up (each link-up sets it up anew).', per((q) => q.drops)),
    family('laplink_link_queue_marks', 'counter', 'Packets the queue ECN-marked instead of dropping, since it was set up.', per((q) => q.marks)),
  ];
}

export function ttyFamilies(ttys: readonly TtyReading[]): MetricFamily[] {
  const counted = ttys.filter((t) => t.counters);
  const per = (pick: (t: TtyReading) => number | undefined, from = ttys): Sample[] =>
    from.flatMap((t) => {
      const v = pick(t);
      return v === undefined ? [] : [{ labels: { tty: t.path }, value: v }];
    });
  const kinds = (pairs: ReadonlyArray<readonly [string, 'frame' | 'parity' | 'overrun' | 'bufOverrun' | 'cts' | 'dsr' | 'ri' | 'dcd']>, label: string): Sample[] =>
    counted.flatMap((t) => pairs.map(([name, field]) => ({ labels: { tty: t.path, [label]: name }, value: t.counters![field] })));
  return [
    family('laplink_tty_speed_baud', 'gauge', 'The line speed the kernel has configured for the tty (termios), in baud: bits per second on a UART.', per((t) => t.speed)),
    family('laplink_tty_counters_available', 'gauge', 'Whether the tty driver keeps error counters (TIOCGICOUNT): 0 for a pseudo-terminal.', per((t) => bool(t.counters !== undefined))),
    family('laplink_tty_receive_bytes', 'counter', 'Bytes the UART received (kernel counter, wraps at 2^32).', per((t) => t.counters?.rx, counted)),
    family('laplink_tty_transmit_bytes', 'counter', 'Bytes the UART sent (kernel counter, wraps at 2^32).', per((t) => t.counters?.tx, counted)),
    family('laplink_tty_errors', 'counter', 'Receive errors the UART counted: frame and parity (wrong speed, bad cable, noise), overrun (bytes lost in the UART), buffer_overrun (tty buffer full).', kinds([['frame', 'frame'], ['parity', 'parity'], ['overrun', 'overrun'], ['buffer_overrun', 'bufOverrun']], 'error')),
    family('laplink_tty_breaks', 'counter', 'Breaks the UART received.', per((t) => t.counters?.brk, counted)),
    family('laplink_tty_modem_line_changes', 'counter', 'Changes of each modem status line (cts, dsr, ri, dcd).', kinds([['cts', 'cts'], ['dsr', 'dsr'], ['ri', 'ri'], ['dcd', 'dcd']], 'line')),
  ];
}

export function bridgeFamilies(bridges: readonly BridgeReading[]): MetricFamily[] {
  const ports = bridges.flatMap((b) => b.ports.map((p) => ({ control: b.control, p })));
  const per = (pick: (p: BridgeReading['ports'][number]) => number): Sample[] => ports.map(({ control, p }) => ({ labels: { control, port: p.port }, value: pick(p) }));
  const kinds = (pick: (p: BridgeReading['ports'][number]) => Record<string, number> | undefined, label: string): Sample[] =>
    ports.flatMap(({ control, p }) => Object.entries(pick(p) ?? {}).map(([kind, value]) => ({ labels: { control, port: p.port, [label]: kind }, value })));
  return [
    family('laplink_bridge_control_up', 'gauge', 'Whether the bridge control port answered this scrape: 1 or 0.', bridges.map((b) => ({ labels: { control: b.control }, value: bool(!b.error) }))),
    family('laplink_bridge_port', 'info', 'A bridge port: its name, device path and protocol (off while disabled).', ports.map(({ control, p }) => ({ labels: { control, port: p.port, name: p.name, device: p.device.slice(0, MAX_LABEL_CHARS), protocol: p.enable }, value: 1 }))),
    family('laplink_bridge_port_tls', 'gauge', 'Whether the port listens with TLS: 1 or 0 (absent from a bridge too old to say).', ports.flatMap(({ control, p }) => (p.tls === undefined ? [] : [{ labels: { control, port: p.port }, value: bool(p.tls) }]))),
    family('laplink_bridge_port_enabled', 'gauge', 'Whether the port accepts clients: 1 or 0.', per((p) => bool(p.enable !== PORT_DISABLED))),
    family('laplink_bridge_port_clients', 'gauge', 'Clients connected to the port now.', per((p) => p.clients.length)),
    family('laplink_bridge_port_device_receive_bytes', 'counter', 'Bytes the port read from its serial device since the bridge started.', per((p) => p.deviceIn)),
    family('laplink_bridge_port_device_transmit_bytes', 'counter', 'Bytes the port wrote to its serial device since the bridge started.', per((p) => p.deviceOut)),
    family('laplink_bridge_port_refused', 'counter', 'Connections the port turned away since the bridge started, by reason: not_allowed (address allow-list), disabled, unavailable (no device), in_use (maxConnections), tls (handshake or client certificate).', kinds((p) => p.refused, 'reason')),
    family('laplink_bridge_port_dropped', 'counter', 'Clients the port disconnected since the bridge started, by reason: too_slow (slowClient: drop), kicked (kickOld), idle_timeout, device_gone.', kinds((p) => p.dropped, 'reason')),
    family('laplink_bridge_port_client_received_bytes', 'counter', 'Bytes read from all clients since the bridge started (ended sessions included).', ports.flatMap(({ control, p }) => (p.clientBytesTotal ? [{ labels: { control, port: p.port }, value: p.clientBytesTotal.in }] : []))),
    family('laplink_bridge_port_client_sent_bytes', 'counter', 'Bytes written to all clients since the bridge started (ended sessions included).', ports.flatMap(({ control, p }) => (p.clientBytesTotal ? [{ labels: { control, port: p.port }, value: p.clientBytesTotal.out }] : []))),
    family('laplink_bridge_port_tls_handshakes', 'counter', 'TLS handshakes on the port since the bridge started, by outcome (ok: a client got a session; refused: the handshake or its certificate failed).', ports.flatMap(({ control, p }) => (p.tlsHandshakes ? (['ok', 'refused'] as const).map((outcome) => ({ labels: { control, port: p.port, outcome }, value: p.tlsHandshakes![outcome] })) : []))),
    ...rotatorFamilies(bridges),
    family('laplink_bridge_port_client_receive_bytes', 'gauge', 'Bytes read from the clients connected now, over their sessions so far.', per((p) => p.tcpIn)),
    family('laplink_bridge_port_client_transmit_bytes', 'gauge', 'Bytes written to the clients connected now, over their sessions so far.', per((p) => p.tcpOut)),
  ];
}

/** A rotator's series: labelled by control and rotator name; counts since it last started listening. */
export function rotatorFamilies(bridges: readonly BridgeReading[]): MetricFamily[] {
  const rotators = bridges.flatMap((b) => b.rotators.map((r) => ({ control: b.control, r })));
  const labels = (control: string, r: BridgeRotatorView) => ({ control, rotator: r.name });
  const kinds = (pick: (r: BridgeRotatorView) => Record<string, number> | undefined, label: string): Sample[] =>
    rotators.flatMap(({ control, r }) => Object.entries(pick(r) ?? {}).map(([kind, value]) => ({ labels: { ...labels(control, r), [label]: kind }, value })));
  return [
    family('laplink_bridge_rotator', 'info', 'A rotator: one listener handing each client to the first free of its ports (listen address, ports in the order tried).', rotators.map(({ control, r }) => ({ labels: { ...labels(control, r), listen: r.listen, ports: r.ports.join(',').slice(0, MAX_LABEL_CHARS) }, value: 1 }))),
    family('laplink_bridge_rotator_tls', 'gauge', 'Whether the rotator listens with TLS: 1 or 0.', rotators.flatMap(({ control, r }) => (r.tls === undefined ? [] : [{ labels: labels(control, r), value: bool(r.tls) }]))),
    family('laplink_bridge_rotator_clients_handed', 'counter', 'Clients the rotator handed to one of its ports since it started listening.', rotators.flatMap(({ control, r }) => (r.handed === undefined ? [] : [{ labels: labels(control, r), value: r.handed }]))),
    family('laplink_bridge_rotator_refused', 'counter', 'Connections the rotator turned away since it started listening, by reason: all_in_use (every port busy), tls (handshake or client certificate).', kinds((r) => r.refused, 'reason')),
    family('laplink_bridge_rotator_tls_handshakes', 'counter', 'TLS handshakes on the rotator since it started listening, by outcome.', rotators.flatMap(({ control, r }) => (r.tlsHandshakes ? (['ok', 'refused'] as const).map((outcome) => ({ labels: { ...labels(control, r), outcome }, value: r.tlsHandshakes![outcome] })) : []))),
  ];
}
