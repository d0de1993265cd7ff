/**
 * `bridge run CONFIG` and `bridge serve DEVICE` alike: every port of a config until aborted (serve
 * is a config of one port, built from its flags); `onStarted` gets the hub (SIGHUP reloads it).
 */
import type { BridgeConfig } from './config.js';
import type { EventSink } from './events.js';
import { BridgeHub } from './hub.js';

export async function runConfig(cfg: BridgeConfig, onEvent: EventSink, signal: AbortSignal, onStarted?: (hub: BridgeHub) => void): Promise<void> {
  const hub = new BridgeHub(onEvent);
  await hub.start(cfg);
  onStarted?.(hub);
  try {
    await untilAborted(signal);
  } finally {
    await hub.stop();
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
