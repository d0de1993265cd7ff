/** serve mode: one device on one TCP port until aborted; the UUCP lock is held for the whole run. */
import { acquireLock } from '../line/lock.js';
import { openSerialLine } from '../line/serial.js';
import type { LineSettings } from '../line/line.js';
import type { EventSink } from './events.js';
import { serverCodec } from './protocols.js';
import { BridgePort, type PortOptions } from './server.js';

export interface ServeOptions extends Omit<PortOptions, 'name' | 'open'> {
  device: string;
  settings: Partial<LineSettings>;
  /** UUCP lock directory; undefined = no lock. */
  lockDir?: string;
  onEvent?: EventSink;
}

export async function serve(o: ServeOptions): Promise<void> {
  const lock = o.lockDir ? acquireLock(o.device, o.lockDir) : undefined;
  try {
    await serveLocked(o);
  } finally {
    lock?.release();
  }
}

async function serveLocked(o: ServeOptions): Promise<void> {
  const port = new BridgePort({
    ...o,
    name: o.device,
    open: () => openSerialLine({ path: o.device, settings: o.settings }),
    codecFor: serverCodec,
  });
  await port.start();
  await new Promise<void>((resolve) => {
    if (o.signal?.aborted) resolve();
    o.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await port.stop();
}
