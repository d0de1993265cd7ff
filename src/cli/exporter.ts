import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { DEFAULT_BRIDGE_CONFIG_DIR, type ControlTarget } from '../exporter/bridges.js';
import { controlLabel } from '../status/control-client.js';
import type { TlsClientSettings } from '../tls/settings.js';
import { Exporter } from '../exporter/collect.js';
import { DEFAULT_EXPORTER_LISTEN, startExporterServer } from '../exporter/server.js';
import { runTextfile, TEXTFILE_NAME } from '../exporter/textfile.js';
import { laplinkArgv, packageRoot } from '../paths.js';
import { DEFAULT_STATE_DIR } from '../pppd/defaults.js';
import { renderTemplate } from '../render/template.js';
import { writeDurably } from '../render/journal.js';
import { underRoot } from '../render/write.js';
import { serviceNotifier } from '../runtime/sd-notify.js';
import { isLoopbackHost, parseListenAddress, parseTargetAddress } from '../listen/address.js';
import { tlsServerFrom, withTlsServerFlags } from './tls-server-flags.js';
import { checkTlsClientFiles, tlsClientFrom, withTlsClientFlags } from './tls-client-flags.js';

export const EXPORTER_UNIT_PATH = '/etc/systemd/system/laplink-exporter.service';

interface ExporterFlags extends Record<string, unknown> {
  listen: string;
  stateDir: string;
  control: string[];
  bridgeConfigs: string;
  textfileDir?: string;
  interval: string;
  installUnit?: boolean;
  once?: boolean;
  tty: string[];
  root?: string;
}


function listenFlag(text: string): { host: string; port: number } {
  try {
    return parseListenAddress(text);
  } catch (err) {
    throw new UsageError(`--listen: ${(err as Error).message}`);
  }
}

function controlTarget(text: string, tls: TlsClientSettings | undefined): ControlTarget {
  try {
    const a = parseTargetAddress(text);
    return { control: controlLabel(a.host, a.port), ...a, tls, devices: new Map() };
  } catch (err) {
    throw new UsageError(`--control: ${(err as Error).message}`);
  }
}

function intervalMs(text: string): number {
  const s = Number(text);
  if (!Number.isFinite(s) || s < 1 || s > 86_400) throw new UsageError(`--interval: "${text}" is not a number of seconds from 1 to 86400`);
  return Math.round(s * 1000);
}

/** The generated unit: this installation's laplink, flags from /etc/default/laplink-exporter. */
async function installUnit(root: string | undefined): Promise<void> {
  const path = underRoot(root, EXPORTER_UNIT_PATH);
  await writeDurably(path, renderTemplate('systemd/laplink-exporter.service', { laplink: laplinkArgv().join(' ') }), 0o644);
  process.stdout.write(`wrote ${path}\nnext: systemctl daemon-reload && systemctl enable --now laplink-exporter\n`);
}

export function register(program: Command): void {
  const cmd = program
    .command('exporter')
    .description(`serve Prometheus metrics of the links (state files), their ttys (kernel error counters) and the bridge ports (control ports) on http://${DEFAULT_EXPORTER_LISTEN}/metrics, or write them for node_exporter's textfile collector`)
    .option('--listen <HOST:PORT>', 'where to serve /metrics; anything but loopback needs --tls-cert and --tls-key', DEFAULT_EXPORTER_LISTEN)
    .option('--state-dir <dir>', 'the supervisors\' state file directory', DEFAULT_STATE_DIR)
    .option('--control <HOST:PORT>', 'a bridge control port to read (repeatable; default: the control ports of the configs in --bridge-configs)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--bridge-configs <dir>', 'bridge configs whose control ports are read when no --control is given (a TLS control port is reached with --control-tls-*, or else by pinning its own certificate)', DEFAULT_BRIDGE_CONFIG_DIR)
    .option('--tty <path>', 'also read this tty\'s counters, whoever holds it (repeatable; opening a line nobody holds raises DTR)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--textfile-dir <dir>', `write ${TEXTFILE_NAME} there every --interval instead of serving HTTP (node_exporter --collector.textfile.directory)`)
    .option('--interval <seconds>', 'with --textfile-dir: how often to write', '15')
    .option('--once', 'print one scrape (Prometheus text) on stdout and exit, e.g. to read the tty counters by hand')
    .option('--install-unit', `write ${EXPORTER_UNIT_PATH} (Type=notify; flags from /etc/default/laplink-exporter) and exit`)
    .option('--root <dir>', 'with --install-unit: write under this directory instead of /');
  // reaching TLS control ports: the same client flags as `bridge connect`, as --control-tls-*
  withTlsClientFlags(cmd, 'control-tls');
  // HTTPS with the bridge's TLS flags: client certificates and an allow list as on a bridge port
  withTlsServerFlags(cmd).action(async (opts: ExporterFlags) => {
      if (opts.installUnit) return installUnit(opts.root);
      if (opts.root !== undefined) throw new UsageError('exporter: --root needs --install-unit');
      const listen = listenFlag(opts.listen);
      const everyMs = intervalMs(opts.interval);
      const tls = tlsServerFrom(opts);
      if (!tls && !opts.textfileDir && !opts.once && !isLoopbackHost(listen.host)) throw new UsageError(`--listen: ${opts.listen} is not a loopback address: serving metrics beyond this host needs --tls-cert and --tls-key`);
      const controlTls = tlsClientFrom(opts, 'control-tls');
      if (controlTls) await checkTlsClientFiles(controlTls, 'control-tls');
      // with --control, the flags are for those; else for the configs' TLS control ports
      const controls = opts.control.map((c) => controlTarget(c, controlTls));
      const bad = opts.tty.find((t) => !t.startsWith('/'));
      if (bad !== undefined) throw new UsageError(`--tty: "${bad}" is not an absolute path`);
      const log = (line: string) => process.stderr.write(`exporter: ${line}\n`);
      const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
      const exporter = new Exporter({ stateDir: opts.stateDir, controls, bridgeConfigDir: opts.bridgeConfigs, controlTls, ttys: opts.tty, version, onProblem: (source, text) => log(`${source}: ${text}`) });

      if (opts.once) {
        process.stdout.write(await exporter.scrape('prometheus', AbortSignal.timeout(10_000)));
        return;
      }
      const stop = new AbortController();
      const signals = ['SIGINT', 'SIGTERM'] as const;
      const onSignal = () => stop.abort();
      for (const s of signals) process.on(s, onSignal);
      const sd = serviceNotifier(process.env, log);
      try {
        if (opts.textfileDir) {
          const dir = opts.textfileDir;
          let first = true;
          await runTextfile(exporter, dir, everyMs, stop.signal, log, () => {
            if (!first) return;
            first = false;
            process.stdout.write(`exporter: writing ${join(dir, TEXTFILE_NAME)} every ${opts.interval} s\n`);
            sd.status(`writing ${join(dir, TEXTFILE_NAME)}`);
            sd.ready();
          });
          sd.stopping();
          return;
        }
        const server = await startExporterServer(exporter, listen, tls, log);
        const where = `${tls ? 'https' : 'http'}://${controlLabel(server.address.host, server.address.port)}/metrics`;
        process.stdout.write(`exporter: serving ${where}\n`);
        sd.status(`serving ${where}`);
        sd.ready();
        await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
        sd.stopping();
        await server.close();
      } finally {
        sd.close();
        for (const s of signals) process.off(s, onSignal);
      }
    });
}
