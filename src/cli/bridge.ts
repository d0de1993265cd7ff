/** `laplink bridge serve|connect|stdio|run|keygen`: thin wiring of src/bridge/* to flags and exit codes. */
import { Command, Option } from 'commander';
import { ConfigError, LineError, UsageError } from '../errors.js';
import type { Line, LineSettings } from '../line/line.js';
import { describeEvent, type BridgeEvent } from '../bridge/events.js';
import type { BridgeConfig, PortConfig } from '../bridge/config.js';
import { isTermiosSpeed, type Protocol } from '../bridge/port-options.js';
import { lineSettingsOf, portOptionRows, TERMIOS_SPEED_PROBLEM, type PortOptionKey, type PortOptionRow, type PortOptionValues } from '../bridge/port-option-table.js';
import { parseListenAddress, parseTargetAddress, type HostPort } from '../listen/address.js';
import type { TlsClientSettings } from '../tls/settings.js';
import { tlsClientFrom, withTlsClientFlags } from './tls-client-flags.js';
import { tlsServerFrom, withTlsServerFlags } from './tls-server-flags.js';
import { deferOptimizer } from '../runtime/optimizer.js';
import { EXIT } from '../exit-codes.js';
import { wholeNumber } from './int-flag.js';

export function register(program: Command): void {
  const bridge = program.command('bridge').description('Carry a serial line over TCP (remserial / ser2net / socat class).');

  withPortOptionFlags(
    bridge
      .command('serve')
      .description('Serve DEVICE (serial port or pty) on a TCP port.')
      .argument('<device>', 'serial device or pty slave path')
      .requiredOption('--listen <[host:]port>', 'address to listen on (host defaults to 127.0.0.1; port 0 picks one)'),
  )
    .option('--control <[host:]port>', 'control port (host defaults to 127.0.0.1)')
    .option('--lock-dir <dir>', 'UUCP lock directory', '/var/lock')
    .option('--no-lock', 'do not take a UUCP lock file');
  withTlsServerFlags(bridge.commands.at(-1)!).action(async (device: string, opts: Record<string, unknown>) => {
    deferOptimizer();
    const { runConfig } = await import('../bridge/run-config.js');
    // serve is a config of one port, so it starts, reloads and fails exactly as `bridge run` does.
    const cfg = serveConfig(device, opts);
    const onEvent = await withDataPath(pumpTurnedOffBy(opts), eventPrinter(device));
    let running: import('../bridge/hub.js').BridgeHub | undefined;
    const reloading = serially();
    // SIGHUP is logrotate's "reopen your files" (and a renewed certificate's), not the end (the
    // default action would leave the lock behind).
    const ac = stopOnSignals(() => reloading(async () => running && sayReloaded(await running.reload(cfg))));
    await runConfig(cfg, onEvent, ac.signal, (hub) => (running = hub));
  });

  withPortOptionFlags(
    bridge
      .command('connect')
      .description('Join a local DEVICE, or a new pty linked at --pty PATH, to a remote TCP port; reconnects.')
      .argument('<host:port>', 'remote bridge')
      .argument('[device]', 'local serial device or pty slave')
      .option('--pty <path>', 'create a new pty and link PATH to it'),
    CONNECT_OPTIONS,
  )
    .option('--lock-dir <dir>', 'UUCP lock directory for DEVICE (a new --pty needs none)', '/var/lock')
    .option('--no-lock', 'do not take a UUCP lock file');
  withTlsClientFlags(bridge.commands.at(-1)!).action(async (target: string, device: string | undefined, opts: Record<string, unknown>) => {
    const { host, port } = parseTarget(target);
    if (!device === !opts.pty) throw new UsageError('bridge connect: give exactly one of DEVICE or --pty PATH');
    const tls = tlsClientFrom(opts); // flag problems before a device is locked or a pty made
    // The same HDB lock as serve and pppd's `lock`: a local device is never shared by accident.
    const lock = device && opts.lock !== false ? (await import('../line/uucp-lock.js')).acquireLock(device, String(opts.lockDir)) : undefined;
    try {
      await connectLine(host, port, device, opts, tls);
    } finally {
      lock?.release();
    }
  });

  async function connectLine(host: string, port: number, device: string | undefined, opts: Record<string, unknown>, tls: TlsClientSettings | undefined): Promise<void> {
    deferOptimizer(); // a long-lived daemon too; a telnet or RFC 2217 session turns it back on
    // A daemon like serve: SIGHUP must not end it (nor leave its lock behind); it has no files to reopen.
    const ac = stopOnSignals(() => process.stderr.write('laplink bridge: SIGHUP: nothing to reopen (connect keeps no trace files)\n'));
    const pace = paceFrom(opts);
    const local = await openLocal(device, opts.pty as string | undefined, lineSettingsOf(portOptionsFrom(opts)));
    const line = await (await import('../line/pace-option.js')).withPace(local, pace);
    const { runClient } = await import('../bridge/client.js');
    const { clientCodec } = await import('../bridge/protocols.js');
    await logDataPath(pumpTurnedOffBy(opts));
    if (opts.pty) process.stdout.write(`pty ${opts.pty} -> ${(local as { slavePath?: string }).slavePath}\n`);
    let end: Awaited<ReturnType<typeof runClient>>;
    try {
      end = await runClient({
        host,
        port,
        line,
        reconnect: true,
        codec: clientCodec(opts.protocol as Protocol),
        nativePump: opts.nativePump !== false,
        tls,
        onEvent: printEvent,
        signal: ac.signal,
      });
    } finally {
      await line.close();
    }
    // The caller's finally releases the lock; the status tells a supervisor the device is gone.
    if (end === 'line-gone') throw new LineError(`${device ?? String(opts.pty)}: device gone; not reconnecting`);
  }

  bridge
    .command('run')
    .description('Serve every port, rotator and the control port of a YAML config file.')
    .argument('<config>', 'YAML file (see README "bridge")')
    .action(async (file: string) => {
      deferOptimizer();
      const { loadBridgeConfigIsolated } = await import('../bridge/config-isolated.js');
      const { runConfig } = await import('../bridge/run-config.js');
      const cfg = await loadBridgeConfigIsolated(file);
      const onEvent = await withDataPath(cfg.ports.some((p) => p.nativePump) ? undefined : 'nativePump: false', printEvent);
      let running: import('../bridge/hub.js').BridgeHub | undefined;
      let runningWeb: import('../web/config.js').BridgeWeb | undefined;
      const reloading = serially();
      const ac = stopOnSignals(() => reloading(async () => running && (await reloadConfig(file, running, runningWeb))));
      const { notifySystemdOfBridge } = await import('../bridge/sd-bridge.js');
      const sink = notifySystemdOfBridge(cfg, onEvent, ac.signal, (l) => process.stderr.write(`laplink bridge: ${l}\n`));
      // the `web:` section's pages read this bridge's control port, wherever it came to listen
      let controlAt: { host: string; port: number } | undefined;
      const seen: typeof sink = (e) => (e.type === 'listening' && e.port === 'control' && (controlAt = { host: e.host, port: e.tcpPort }), sink(e));
      const web = cfg.web && (await import('../web/config.js'));
      await runConfig(cfg, seen, ac.signal, (hub) => {
        running = hub;
        if (web && cfg.web && controlAt) void web.startBridgeWeb(cfg.web, controlAt, ac.signal, (l) => process.stdout.write(`${l}\n`)).then((w) => (runningWeb = w)).catch((err: Error) => (process.stderr.write(`laplink bridge: web: ${err.message}\n`), (process.exitCode = EXIT.FAILED), ac.abort()));
      });
    });

  withTlsClientFlags(
    withPortOptionFlags(
      bridge
        .command('stdio')
        .description('Join stdin/stdout to a remote TCP port (for pppd `pty`); exits when TCP closes.')
        .argument('<host:port>', 'remote bridge'),
      ['protocol'],
    ),
  ).action(async (target: string, opts: Record<string, unknown>) => {
      const { host, port } = parseTarget(target);
      const tls = tlsClientFrom(opts);
      const { StreamLine, stdioDuplex } = await import('../line/socket.js');
      const { runClient } = await import('../bridge/client.js');
      const { clientCodec } = await import('../bridge/protocols.js');
      const ac = stopOnSignals();
      const line = new StreamLine('stdio', stdioDuplex());
      try {
        await runClient({ host, port, line, reconnect: false, detectRefusal: true, codec: clientCodec(opts.protocol as Protocol), tls, onEvent: printEvent, signal: ac.signal });
      } catch (err) {
        process.stdin.destroy(); // let the process end once the error is reported
        throw err;
      }
      // stdin keeps the event loop alive; the session is over, so is the process.
      process.exit(process.exitCode ?? EXIT.OK);
    });
  bridge
    .command('keygen')
    .description('Write NAME.key (mode 0600) and a self-signed NAME.crt for a TLS port or client, and print the fingerprint for the other side.')
    .argument('<name>', "the certificate's CN: the port's host name, or a name for a client")
    .option('--dir <dir>', 'where to write the files', '.')
    .option('--days <n>', 'validity of the certificate', wholeNumber(1, 36500), 825)
    .option('--force', 'replace existing files')
    .action(async (name: string, opts: Record<string, unknown>) => {
      const { keygen } = await import('../tls/keygen.js');
      const r = await keygen({ name, dir: String(opts.dir), days: opts.days as number, force: Boolean(opts.force) });
      process.stdout.write(
        [
          `key          ${r.key} (mode 0600: keep it here)`,
          `certificate  ${r.cert} (CN=${name}, self-signed, valid until ${r.notAfter.toISOString().slice(0, 10)})`,
          `fingerprint  ${r.fingerprint}`,
          '',
          'On the other side:',
          `  a port that lets this client in:   --tls-allow ${r.fingerprint}`,
          `  a client that trusts this port:    --tls-pin ${r.fingerprint}`,
          '',
        ].join('\n'),
      );
    });
}

/**
 * SIGHUP for `bridge run`: reads FILE again (same worker-thread loader) and applies it. A config
 * that does not load leaves the running one untouched and says why, one line per problem.
 */
async function reloadConfig(file: string, hub: import('../bridge/hub.js').BridgeHub, web?: import('../web/config.js').BridgeWeb): Promise<void> {
  const { loadBridgeConfigIsolated } = await import('../bridge/config-isolated.js');
  let next;
  try {
    next = await loadBridgeConfigIsolated(file);
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
    for (const p of problems) process.stderr.write(`laplink bridge: SIGHUP: keeping the running config: ${p}\n`);
    return;
  }
  const r = await hub.reload(next);
  const list = (what: string, names: string[]) => (names.length ? [`${what} ${names.join(', ')}`] : []);
  const summary = [...list('added', r.added), ...list('removed', r.removed), ...list('restarted', r.changed), ...list('kept', r.kept), ...list('TLS files read again for', r.tlsReread)].join('; ');
  process.stderr.write(`laplink bridge: SIGHUP: reloaded ${file}: ${summary || 'nothing to do'}\n`);
  for (const f of r.failed) process.stderr.write(`laplink bridge: SIGHUP: cannot start ${f}\n`);
  if (web) process.stderr.write(`laplink bridge: SIGHUP: ${await web.reload(next.web)}\n`);
  // the pages listen where the bridge started them: a web: section that was not there needs a restart
  else if (next.web) process.stderr.write('laplink bridge: SIGHUP: web: section added: it starts with the bridge (restart it to serve the pages)\n');
}

/** `bridge serve`'s SIGHUP: one line saying what it did (nothing to reopen is said as such). */
function sayReloaded(r: import('../bridge/hub.js').ReloadReport): void {
  const did = [...(r.tracesReopened.length ? ['trace files reopened'] : []), ...(r.tlsReread.length ? ['TLS certificate, key, CA and allow list read again'] : [])];
  process.stderr.write(`laplink bridge: SIGHUP: ${did.join('; ') || 'nothing to reopen (no trace files, no TLS files)'}\n`);
  for (const f of r.failed) process.stderr.write(`laplink bridge: SIGHUP: ${f}\n`);
}

/** The one-port config `bridge serve DEVICE` runs, from its flags. */
export function serveConfig(device: string, opts: Record<string, unknown>): BridgeConfig {
  const options = portOptionsFrom(opts);
  const port: PortConfig = {
    device,
    listen: flagAddress('--listen', () => parseListenAddress(String(opts.listen))),
    tls: tlsServerFrom(opts),
    ...options,
  };
  const control = opts.control === undefined ? undefined : { listen: flagAddress('--control', () => parseListenAddress(String(opts.control))) };
  return { ports: [port], rotators: [], control, lock: opts.lock !== false, lockDir: opts.lock === false ? undefined : String(opts.lockDir) };
}

function flagAddress(flag: string, parse: () => HostPort): HostPort {
  try {
    return parse();
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

/** Runs tasks one after another (a second SIGHUP waits for the first reload to finish). */
function serially(): (task: () => Promise<unknown>) => void {
  let tail: Promise<unknown> = Promise.resolve();
  return (task) => {
    tail = tail.then(task).catch((err: Error) => process.stderr.write(`laplink bridge: ${err.message}\n`));
  };
}

/** The port options `bridge connect` takes: the device's settings, its protocol, and how bytes move. */
const CONNECT_OPTIONS: readonly PortOptionKey[] = ['protocol', 'speed', 'databits', 'parity', 'stopbits', 'flow', 'local', 'hupcl', 'nativePump', 'pace'];

/** Adds the flags of the port options table (all of them, or those named), in the table's order. */
function withPortOptionFlags(cmd: Command, keys?: readonly PortOptionKey[]): Command {
  for (const { path, row } of portOptionRows()) {
    if (keys && !keys.includes(path[0] as PortOptionKey)) continue;
    if (row.type === 'switch' && row.sayDefault) cmd.option(row.flag.replace(/^--no-/, '--'), row.sayDefault);
    cmd.addOption(flagOf(row));
  }
  return cmd;
}

/** A row's flag: its choices, its parser and its default, shown in --help. */
function flagOf(row: PortOptionRow): Option {
  const flag = new Option(row.flag, row.help);
  switch (row.type) {
    case 'choice':
      flag.choices(row.values.map(String));
      return row.default === undefined ? flag : flag.default(row.default);
    case 'speed':
      return flag.default(row.default); // checked when read, so the message names the flag and lists the speeds
    case 'whole':
      flag.argParser(wholeFlag(row.min, row.max));
      return row.default === undefined ? flag : flag.default(row.default);
    default:
      return flag; // a switch's default is its flag's opposite; text has none
  }
}

/** A whole number from min: a word or a sign is told "MIN or more", a number too large the whole range. */
function wholeFlag(min: number, max: number | undefined): (value: string) => number {
  const atLeast = wholeNumber(min);
  const within = max === undefined ? atLeast : wholeNumber(min, max);
  return (value) => {
    atLeast(value);
    return within(value);
  };
}

/** A port's options from the flags of the table's rows, defaults where a flag was not given. */
function portOptionsFrom(opts: Record<string, unknown>): PortOptionValues {
  const values: Record<string, unknown> = {};
  for (const { path, row } of portOptionRows()) {
    const given = opts[new Option(row.flag).attributeName()];
    const value = flagValue(row, given);
    if (path.length === 1) values[path[0]] = value;
    else ((values[path[0]] ??= {}) as Record<string, unknown>)[path[1]] = value;
  }
  return values as PortOptionValues;
}

function flagValue(row: PortOptionRow, given: unknown): unknown {
  switch (row.type) {
    case 'choice':
      return given === undefined ? row.default : typeof row.values[0] === 'number' ? Number(given) : given;
    case 'speed':
      return termiosSpeed(given ?? row.default);
    case 'text':
      return row.escapes ? unescape(given as string | undefined) : given;
    default:
      return given ?? (row.type === 'texts' ? undefined : row.default);
  }
}

async function openLocal(device: string | undefined, pty: string | undefined, settings: Partial<LineSettings>): Promise<Line> {
  if (pty) return (await import('../line/pty.js')).openPtyLine(pty);
  return (await import('../line/serial.js')).openSerialLine({ path: device!, settings });
}

/** HOST:PORT of a remote end, as `bridge connect`, `bridge stdio` and `status --control` take it. */
export function parseTarget(text: string): HostPort {
  return flagAddress('HOST:PORT', () => parseTargetAddress(text));
}

/** --speed: what termios (and so pppd and stty) can set, as the profile and the config take it. */
function termiosSpeed(v: unknown): number {
  const n = Number(v);
  if (!isTermiosSpeed(n)) throw new UsageError(`--speed: "${String(v)}" is ${TERMIOS_SPEED_PROBLEM}`);
  return n;
}

/** --pace BAUD: a positive whole number of bit/s (checked as the flag is parsed), or undefined when not given. */
function paceFrom(opts: Record<string, unknown>): number | undefined {
  return opts.pace as number | undefined;
}

/** Lets flags carry \r, \n, \t and \xHH like ser2net's banner strings. */
export function unescape(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  return s.replace(/\\(r|n|t|\\|x[0-9a-fA-F]{2})/g, (_, c: string) =>
    c === 'r' ? '\r' : c === 'n' ? '\n' : c === 't' ? '\t' : c === '\\' ? '\\' : String.fromCharCode(parseInt(c.slice(1), 16)),
  );
}

/**
 * Prints events: `listening` lines go to stdout (tests and the lab wait for them) — plain for the
 * served device, `NAME: listening on …` for the others (control port, config ports, rotators).
 */
function eventPrinter(plainName?: string): (e: BridgeEvent) => void {
  return (e) => {
    const text = describeEvent(e);
    if (!text) return;
    if (e.type === 'listening') process.stdout.write(e.port === plainName ? `${text}\n` : `${e.port}: ${text}\n`);
    else process.stderr.write(`laplink bridge: ${text}\n`);
  };
}

const printEvent = eventPrinter();

/** Which flag keeps a serve/connect session off the native pump, if any (a paced line has no fd to hand over). */
function pumpTurnedOffBy(opts: Record<string, unknown>): string | undefined {
  if (opts.nativePump === false) return '--no-native-pump';
  return paceFrom(opts) !== undefined ? '--pace' : undefined;
}

async function logDataPath(turnedOff: string | undefined): Promise<void> {
  process.stderr.write(`laplink bridge: ${(await import('../bridge/data-path.js')).dataPathLine(turnedOff)}\n`);
}

/** `sink`, but the data-path line goes out just before the first `listening`: once the bridge really
 *  serves, so a bridge that fails to start still says one line, its error. */
async function withDataPath(turnedOff: string | undefined, sink: (e: BridgeEvent) => void): Promise<(e: BridgeEvent) => void> {
  const line = `laplink bridge: ${(await import('../bridge/data-path.js')).dataPathLine(turnedOff)}\n`;
  let said = false;
  return (e) => {
    if (!said && e.type === 'listening') {
      said = true;
      process.stderr.write(line);
    }
    sink(e);
  };
}

/**
 * SIGINT and SIGTERM end the command through its AbortSignal, so every `finally` runs (the UUCP
 * lock is released, the device closed) and the exit status is 0. SIGHUP calls `hangup` when given
 * (daemons reopen or reload), else ends the command the same way (`stdio`: pppd hung up). A second
 * SIGINT or SIGTERM during the shutdown is ignored rather than killing the process half-way.
 */
function stopOnSignals(hangup?: () => void): AbortController {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', () => (ac.signal.aborted || !hangup ? stop() : hangup()));
  return ac;
}
