/**
 * `laplink bridge run` as a systemd Type=notify service (templates/systemd/laplink-bridge@.service):
 * READY=1 once every port, rotator and the control port of the config listens; STATUS= with what
 * listens, how many clients are connected and which devices are unavailable, after every change;
 * STOPPING=1 when asked to stop. Fed by the bridge's own events, so the bridge itself knows nothing of it.
 */
import { plural } from '../plural.js';
import { serviceNotifier } from '../runtime/sd-notify.js';
import type { BridgeConfig } from './config.js';
import type { BridgeEvent, EventSink } from './events.js';

export interface BridgeActivity {
  /** Listening sockets: ports, rotators and the control port. */
  listening: string[];
  clients: number;
  /** Ports whose device is gone or cannot be reopened. */
  devicesDown: string[];
}

/** e.g. `listening on 3 ports (lab0 127.0.0.1:3001, any 127.0.0.1:3000, control 127.0.0.1:2000), 1 client; device down: lab1` */
export function bridgeStatusLine(a: BridgeActivity): string {
  const names = a.listening.length <= 4 ? ` (${a.listening.join(', ')})` : '';
  const down = a.devicesDown.length ? `; device down: ${a.devicesDown.join(', ')}` : '';
  return `listening on ${plural(a.listening.length, 'port')}${names}, ${plural(a.clients, 'client')}${down}`;
}

/** Wraps `sink`: the returned sink forwards every event and keeps systemd informed. */
export function notifySystemdOfBridge(cfg: BridgeConfig, sink: EventSink, signal: AbortSignal, log: (line: string) => void): EventSink {
  const sd = serviceNotifier(process.env, log);
  const expected = cfg.ports.filter((p) => p.listen).length + cfg.rotators.length + (cfg.control ? 1 : 0);
  const a: BridgeActivity = { listening: [], clients: 0, devicesDown: [] };
  signal.addEventListener('abort', () => {
    sd.stopping();
    sd.close();
  }, { once: true });
  return (e: BridgeEvent) => {
    sink(e);
    if (!trackActivity(a, e)) return;
    sd.status(bridgeStatusLine(a));
    if (a.listening.length >= expected) sd.ready();
  };
}

/** Applies one event to what the bridge is doing; false when the event changes none of it. */
export function trackActivity(a: BridgeActivity, e: BridgeEvent): boolean {
  switch (e.type) {
    case 'listening':
      a.listening.push(`${e.port} ${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.tcpPort}`);
      return true;
    case 'closed':
      // a reload removed or restarted it: a restarted one says `listening` again
      a.listening = a.listening.filter((l) => !l.startsWith(`${e.port} `));
      return true;
    case 'connect':
      if (!e.outgoing) a.clients++;
      return true;
    case 'disconnect':
      a.clients = Math.max(0, a.clients - 1);
      return true;
    case 'device':
      a.devicesDown = a.devicesDown.filter((p) => p !== e.port);
      if (e.state !== 'open') a.devicesDown.push(e.port);
      return true;
    default:
      return false;
  }
}
