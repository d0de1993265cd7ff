/**
 * A BridgeHub whose devices are in-memory lines: a port cannot tell them from a tty, and a test can
 * read what reached each device and send from it, with no pty and no process. The control port and
 * the ports' listeners are real, on loopback.
 */
import { Duplex, PassThrough } from 'node:stream';
import { expect } from 'vitest';
import { bridgeConfigSchema } from '../../src/bridge/config.js';
import type { BridgeEvent } from '../../src/bridge/events.js';
import { BridgeHub } from '../../src/bridge/hub.js';
import { StreamLine } from '../../src/line/socket.js';

/** The far end of an in-memory device: what the hub wrote to it, and a stream to send into it. */
export interface MemoryDevice {
  received: PassThrough;
  send: PassThrough;
  line: StreamLine;
}

export interface MemoryHub {
  hub: BridgeHub;
  events: BridgeEvent[];
  /** The TCP port a listener of that name (a port, a rotator, `control`) is on. */
  tcpPort(name: string): number;
  /** The device opened at `path` (fails the test if it never was). */
  device(path: string): MemoryDevice;
}

/** Starts a hub on `config` (parsed as a `bridge run` config); the caller stops it (`hub.stop()`). */
export async function startMemoryHub(config: unknown): Promise<MemoryHub> {
  const devices = new Map<string, MemoryDevice>();
  const events: BridgeEvent[] = [];
  const hub = new BridgeHub(
    (e) => events.push(e),
    async (path, settings) => {
      const received = new PassThrough();
      const send = new PassThrough();
      const line = new StreamLine(path, Duplex.from({ readable: send, writable: received }));
      await line.apply(settings);
      devices.set(path, { received, send, line });
      return line;
    },
  );
  await hub.start(bridgeConfigSchema.parse(config));
  const tcpPort = (name: string) => {
    const e = events.find((x): x is Extract<BridgeEvent, { type: 'listening' }> => x.type === 'listening' && x.port === name);
    return e?.tcpPort ?? expect.fail(`nothing named ${name} is listening`);
  };
  const device = (path: string) => devices.get(path) ?? expect.fail(`device ${path} was never opened`);
  return { hub, events, tcpPort, device };
}
