/**
 * The control port (ser2net 3's admin interface): one text command per line, a "-> " prompt.
 * Ports are named by their TCP port number or their name.
 */
import type net from 'node:net';
import { LaplinkError } from '../errors.js';
import type { BridgePort, Protocol, Session } from './server.js';
import type { RotatorStats } from './port-stats.js';
import type { HostPort } from '../listen/address.js';
import { formatAddress } from '../listen/address.js';
import { describePeer } from '../tls/identity.js';
import { PROTOCOLS } from './port-options.js';
import { DEVICE_CONFIG_DEFAULTS, deviceConfigText, parsePortConfig, portConfigSettings } from './device-config-words.js';
import { PORT_OPTIONS, showportText, type ShownOptionKey } from './port-option-table.js';
import { LIST_SEPARATOR, NOT_CONNECTED, PORT_DISABLED, SHOWPORT_LABEL as L, showportHead, showportLine, tlsValue } from './showport-labels.js';
import { CLIENT_LABEL, ControlLineReader, MAX_CONTROL_LINE, parseControlLine, type ControlInput } from './control-lines.js';

export { parsePortConfig };

export const controlHelp = [
  'exit - leave the control port',
  'help - this text',
  'showport [<port>] - details of one or all ports',
  'showshortport [<port>] - one line per port',
  'disconnect <port> - disconnect the clients of a port',
  'setporttimeout <port> <seconds> - idle timeout, 0 = none',
  `setportconfig <port> <config> - e.g. 9600 EVEN 1STOPBIT 8DATABITS -XONXOFF RTSCTS LOCAL, or as showport writes it: 9600E81 RTSCTS CLOCAL; what it does not say is reset to ${deviceConfigText(DEVICE_CONFIG_DEFAULTS)}`,
  'setportcontrol <port> <controls> - DTRHI DTRLO RTSHI RTSLO',
  `setportenable <port> ${[PORT_DISABLED, ...PROTOCOLS].join('|')} - disable a port or set its protocol`,
  'setclientlabel <port> <client> [<label>] - name who is behind a client (e.g. web: alice writes); none clears it',
  'monitor tcp|term <port> - copy data from the network (tcp) or the device (term) here',
  'monitor stop - stop monitoring',
].join('\r\n');

function portKey(p: BridgePort): string {
  return String(p.address?.port ?? p.options.listen?.port ?? p.options.name);
}

/** A rotator as showport lists it after the ports. */
export interface ShownRotator {
  name: string;
  address: HostPort;
  /** Client certificate policy when it listens with TLS; undefined for plain TCP. */
  tlsClientCert: string | undefined;
  /** Its ports' names, in the order it tries them. */
  ports: readonly string[];
  stats: RotatorStats;
}

/** `127.0.0.1:40000`, with the client's certificate on a TLS session: `127.0.0.1:40000 (CN=laptop sha256:1f2e…)`. */
function sessionText(s: Session): string {
  const who = s.peer.identity ? `${s.remote} (${describePeer(s.peer.identity)})` : s.remote;
  return s.label ? `${who} [${s.label}]` : who;
}

/** A showport line of a port option, under the label the option table gives it. */
function optionLine(key: ShownOptionKey, text: string): string {
  return showportLine(PORT_OPTIONS[key].showport.label, text);
}

/** What the operator reads when a command fails: a refusal in its own words (a bad word, a device
 *  that cannot take a setting); anything else is a bug, said as one rather than ending the bridge. */
function failureText(err: unknown): string {
  return err instanceof LaplinkError ? err.message : `internal error: ${err instanceof Error ? err.message : String(err)}`;
}

/** The control port's sessions; its listener (TCP or TLS) belongs to the hub. */
export class ControlServer {
  private readonly clients = new Set<net.Socket>();

  constructor(
    private readonly ports: () => BridgePort[],
    private readonly rotators: () => readonly ShownRotator[] = () => [],
  ) {}

  /** Serves one accepted operator connection. */
  serve(sock: net.Socket): void {
    this.session(sock);
  }

  close(): void {
    for (const c of this.clients) c.destroy();
  }

  private find(key: string | undefined): BridgePort | undefined {
    if (!key) return undefined;
    return this.ports().find((p) => portKey(p) === key || p.options.name === key);
  }

  private session(sock: net.Socket): void {
    this.clients.add(sock);
    let stopMonitor: (() => void) | undefined;
    const reader = new ControlLineReader();
    // Lines read and not yet answered: the socket is paused while any wait, so at most one read's
    // worth (64 KiB) is ever held, and a client that never reads its answers is paused, not buffered.
    let waiting: ControlInput[] = [];
    let next = 0;
    let working = false;
    let closed = false;
    const out = (text: string) => sock.write(text.replace(/\r?\n/g, '\r\n'));
    const end = () => {
      closed = true;
      stopMonitor?.();
      this.clients.delete(sock);
    };
    sock.on('close', end);
    sock.on('error', end);
    out('-> ');
    const answer = async (input: ControlInput): Promise<void> => {
      if (input.kind === 'too-long') return void out(`Line too long (${input.length} bytes, at most ${MAX_CONTROL_LINE})\n-> `);
      const parsed = parseControlLine(input.text);
      if (!parsed) return void out('-> ');
      const { command: cmd, args } = parsed;
      if (cmd === 'exit') {
        closed = true;
        return void sock.end();
      }
      if (cmd === 'monitor') {
        stopMonitor?.();
        stopMonitor = undefined;
        if (args[0] !== 'stop') {
          const p = this.find(args[1]);
          if ((args[0] !== 'tcp' && args[0] !== 'term') || !p) out(p ? 'Invalid monitor type\n' : `Invalid port number: ${args[1] ?? ''}\n`);
          else {
            const want = args[0] === 'tcp' ? 'write' : 'read';
            // Best effort like ser2net: drop monitor data when the controller cannot keep up.
            stopMonitor = p.monitor((dir, bytes) => dir === want && sock.writableLength < 65536 && sock.write(bytes));
          }
        }
        return void out('-> ');
      }
      const text = await this.command(cmd, args);
      if (!closed) out(`${text}${text && !text.endsWith('\n') ? '\n' : ''}-> `);
    };
    const work = async (): Promise<void> => {
      if (working) return;
      working = true;
      while (next < waiting.length && !closed) {
        await answer(waiting[next++]!).catch((err: unknown) => void (!closed && out(`${failureText(err)}\n-> `)));
        if (sock.writableNeedDrain && !closed) await new Promise<void>((r) => (sock.once('drain', r), sock.once('close', r)));
      }
      waiting = [];
      next = 0;
      working = false;
      if (!closed) sock.resume();
    };
    sock.on('data', (chunk: Buffer) => {
      const lines = reader.push(chunk);
      if (!lines.length) return;
      for (const l of lines) waiting.push(l);
      sock.pause();
      void work();
    });
  }

  async command(cmd: string, args: string[]): Promise<string> {
    const need = (n: number) => args.length < n;
    const port = this.find(args[0]);
    const badPort = `Invalid port number: ${args[0] ?? ''}`;
    switch (cmd) {
      case 'help':
        return controlHelp;
      case 'showport': {
        // a rotator is named by its name only (ports are named by number too)
        const rotator = args[0] ? this.rotators().find((r) => r.name === args[0]) : undefined;
        if (args[0] && !port && !rotator) return badPort;
        const ports = args[0] ? (port ? [port] : []) : this.ports();
        const rotators = args[0] ? (rotator && !port ? [rotator] : []) : this.rotators();
        return [...ports.map((p) => this.showport(p)), ...rotators.map(showRotator)].join('\n');
      }
      case 'showshortport': {
        if (args[0] && !port) return badPort;
        const list = args[0] ? [port!] : this.ports();
        const head = 'Port   Type    Timeout Remote address        Device         TCP in     TCP out    Dev in     Dev out    State';
        return [head, ...list.map((p) => this.shortLine(p))].join('\n');
      }
      case 'disconnect':
        if (!port) return badPort;
        for (const s of [...port.sessions]) port.drop(s, 'disconnected by control port');
        return '';
      case 'setporttimeout': {
        if (!port) return badPort;
        const n = Number(args[1]);
        if (need(2) || !Number.isInteger(n) || n < PORT_OPTIONS.idleTimeout.min) return `Invalid timeout: ${args[1] ?? ''}`;
        port.idleTimeout = n;
        return '';
      }
      case 'setportconfig': {
        if (!port) return badPort;
        // ser2net 3's answer: with no words it would reset the port to the defaults, surely not what was meant
        if (need(2)) return 'No device config';
        try {
          // every word is read before the device is touched, so a bad one changes nothing. ser2net 3
          // writes the settings at the device's next open (its next client); a port here holds its
          // device open between clients, so they are written now, as RFC 2217's are.
          const settings = portConfigSettings(args.slice(1));
          if (!port.line) return 'Device unavailable';
          await port.line.apply(settings);
          return '';
        } catch (err) {
          return failureText(err);
        }
      }
      case 'setportcontrol': {
        if (!port) return badPort;
        const lines: { dtr?: boolean; rts?: boolean } = {};
        for (const w of args.slice(1).map((a) => a.toUpperCase())) {
          if (w === 'DTRHI' || w === 'DTRLO') lines.dtr = w === 'DTRHI';
          else if (w === 'RTSHI' || w === 'RTSLO') lines.rts = w === 'RTSHI';
          else return `Invalid control: ${w}`;
        }
        try {
          await port.line?.setModem(lines);
          return '';
        } catch (err) {
          return failureText(err);
        }
      }
      case 'setportenable': {
        if (!port) return badPort;
        const v = args[1];
        if (v === PORT_DISABLED) {
          port.enabled = false;
          for (const s of [...port.sessions]) port.drop(s, 'port disabled by control port');
          return '';
        }
        if ((PROTOCOLS as readonly string[]).includes(v ?? '')) {
          port.enabled = true;
          port.protocol = v as Protocol; // applies to the next client, as ser2net does
          return '';
        }
        return `Invalid enable: ${v ?? ''}`;
      }
      case 'setclientlabel': {
        // who is behind a client the bridge sees as one address: the web's pages behind its one
        // session to a port, so showport and status name them
        if (!port) return badPort;
        const session = [...port.sessions].find((x) => x.remote === args[1]);
        if (!session) return `No client ${args[1] ?? ''} on port ${args[0]}`;
        const label = args.slice(2).join(' ');
        if (label && !CLIENT_LABEL.test(label)) return `Invalid label: ${label.slice(0, 40)} (allowed: up to 160 letters, digits, spaces and _ . : ; @ ( ) + = / ' # -)`;
        session.label = label || undefined;
        return '';
      }
      default:
        return `Unknown command: ${cmd}`;
    }
  }

  private showport(p: BridgePort): string {
    p.refreshCounters();
    const sessions = [...p.sessions];
    const s = p.line?.settings;
    return [
      showportHead('port', portKey(p)),
      optionLine('protocol', p.enabled ? showportText('protocol', p.protocol) : PORT_DISABLED),
      optionLine('idleTimeout', showportText('idleTimeout', p.idleTimeout)),
      showportLine(L.connectedTo, sessions.length ? sessions.map(sessionText).join(LIST_SEPARATOR) : NOT_CONNECTED),
      showportLine(L.name, p.options.name),
      showportLine(L.device, p.options.device ?? p.options.name),
      optionLine('speed', s ? deviceConfigText(s) : 'device unavailable'), // the line settings share ser2net's one line
      showportLine(L.tcpIn, sessions.reduce((n, x) => n + x.bytesIn, 0)),
      showportLine(L.tcpOut, sessions.reduce((n, x) => n + x.bytesOut, 0)),
      showportLine(L.deviceIn, p.deviceIn),
      showportLine(L.deviceOut, p.deviceOut),
      showportLine(L.dataPath, p.dataPath),
      showportLine(L.tls, tlsValue(p.tlsClientCert)),
      ...p.stats.lines(sessions),
    ].join('\n');
  }

  private shortLine(p: BridgePort): string {
    p.refreshCounters();
    const s = [...p.sessions][0];
    return [
      portKey(p).padEnd(6),
      (p.enabled ? p.protocol : PORT_DISABLED).padEnd(7),
      String(p.idleTimeout).padEnd(7),
      (s?.remote ?? 'unconnected').padEnd(21),
      p.options.name.padEnd(14),
      String(s?.bytesIn ?? 0).padEnd(10),
      String(s?.bytesOut ?? 0).padEnd(10),
      String(p.deviceIn).padEnd(10),
      String(p.deviceOut).padEnd(10),
      p.line ? 'open' : 'device gone',
    ].join(' ');
  }
}

/** A rotator's block: after the ports, so a reader of ports alone (ser2net's tools) stops at its head. */
function showRotator(r: ShownRotator): string {
  return [
    showportHead('rotator', r.name),
    showportLine(L.listen, formatAddress(r.address)),
    showportLine(L.tls, tlsValue(r.tlsClientCert)),
    showportLine(L.ports, r.ports.join(LIST_SEPARATOR)),
    ...r.stats.lines(),
  ].join('\n');
}
