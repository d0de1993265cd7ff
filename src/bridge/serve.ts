/** serve mode: one device on one TCP port (plus an optional control port) until aborted; the UUCP lock is held throughout. */
import { acquireLock } from '../line/lock.js';
import { openSerialLine } from '../line/serial.js';
import type { LineSettings } from '../line/line.js';
import type { EventSink } from './events.js';
import { BridgeHub } from './hub.js';
import { serverCodec } from './protocols.js';
import { BridgePort, type PortOptions } from './server.js';
import { withPace } from './pace-option.js';

export interface ServeOptions extends Omit<PortOptions, 'name' | 'open'> {
  device: string;
  settings: Partial<LineSettings>;
  /** UUCP lock directory; undefined = no lock. */
  lockDir?: string;
  /** [HOST:]PORT of a control port; undefined = none. */
  control?: string;
  /** Deliver bytes both ways no faster than a UART at this baud rate (undefined: not paced). */
  pace?: number;
  onEvent?: EventSink;
  /** Called once the port listens, with the running hub (the CLI wires SIGHUP to it). */
  onStarted?: (hub: BridgeHub) => void;
}

export async function serve(o: ServeOptions): Promise<void> {
  const lock = o.lockDir ? acquireLock(o.device, o.lockDir) : undefined;
  const hub = new BridgeHub(o.onEvent);
  try {
    const port = new BridgePort({
      ...o,
      name: o.device,
      open: async () => withPace(await openSerialLine({ path: o.device, settings: o.settings }), o.pace),
      codecFor: serverCodec,
    });
    hub.ports.push(port);
    await port.start();
    if (o.control) await hub.startControl(o.control);
    o.onStarted?.(hub);
    await untilAborted(o.signal);
  } finally {
    await hub.stop();
    lock?.release();
  }
}

/** `bridge run CONFIG`: every port of the config until aborted; `onStarted` gets the hub (for `reload`). */
export async function runConfig(cfg: import('./config.js').BridgeConfig, onEvent: EventSink, signal: AbortSignal, onStarted?: (hub: BridgeHub) => void): Promise<void> {
  const hub = new BridgeHub(onEvent);
  await hub.start(cfg);
  onStarted?.(hub);
  try {
    await untilAborted(signal);
  } finally {
    await hub.stop();
  }
}

function untilAborted(signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!signal || signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
