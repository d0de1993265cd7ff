/**
 * A hub, its ports and a client in one process, no CLI and no stdout to wait for: BridgeHub started
 * from a config object (parsed by the config schema, as `bridge run` does after its YAML), reloaded
 * with one port changed, stopped; runClient joined to one of its ports. The devices are real socat pty
 * pairs (the null-modem cable) opened by the same serial code as a tty; UUCP locks in a temp dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { bridgeConfigSchema } from '../../src/bridge/config.js';
import { BridgeHub } from '../../src/bridge/hub.js';
import { runClient } from '../../src/bridge/client.js';
import { clientCodec } from '../../src/bridge/protocols.js';
import { nativePumpMayCarry } from '../../src/bridge/codec.js';
import { openSerialLine } from '../../src/line/serial.js';
import { PROTOCOLS } from '../../src/bridge/port-options.js';
import type { BridgeEvent } from '../../src/bridge/events.js';
import type { BridgePort } from '../../src/bridge/server.js';
import { REFUSALS } from '../../src/bridge/refusals.js';
import type { PtyPair } from '../helpers/ptypair.js';
import { bothWays, bridgeRig, collect, connectTcp, linkUp, rm, waitUntil } from '../helpers/bridge.js';
import { randomPayload, sha256 } from '../helpers/driver.js';

const rig = bridgeRig();
const until = (cond: () => boolean, what: string) => waitUntil(cond, what, 20_000, 10);

function lockDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laplink-hub-'));
  rig.cleanups.push(() => rm(dir));
  return dir;
}

/** A hub that is stopped after the test (twice is harmless: a test may stop it itself). */
async function startHub(config: unknown, events: BridgeEvent[] = []): Promise<BridgeHub> {
  const hub = new BridgeHub((e) => events.push(e));
  await hub.start(bridgeConfigSchema.parse(config));
  rig.cleanups.push(() => hub.stop());
  return hub;
}

function tcpPortOf(hub: BridgeHub, name: string): number {
  const port = hub.ports.find((p) => p.options.name === name);
  if (!port?.address) throw new Error(`port ${name} is not listening`);
  return port.address.port;
}

async function client(port: number): Promise<net.Socket> {
  const sock = await connectTcp(port);
  rig.cleanups.push(() => void sock.destroy());
  return sock;
}

/** One short message each way between a TCP client and the far end of the port's cable. */
async function roundTrip(sock: net.Socket, far: NodeJS.ReadWriteStream, tag: string): Promise<void> {
  const atDevice = collect(far, tag.length);
  sock.write(tag);
  expect((await atDevice).toString()).toBe(tag);
  const atClient = collect(sock, tag.length + 1);
  far.write(`${tag}!`);
  expect((await atClient).toString()).toBe(`${tag}!`);
}

const locks = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('LCK..'));

describe('BridgeHub in process', () => {
  it('serves two ports of a config, restarts the one a reload changes and keeps the other’s session, and stops', async () => {
    const [d0, d1] = await Promise.all([rig.pair(), rig.pair()]);
    const dir = lockDir();
    const port = (name: string, pair: PtyPair, extra: object = {}) => ({ name, device: pair.a, listen: '127.0.0.1:0', ...extra });
    const events: BridgeEvent[] = [];
    const hub = await startHub({ lockDir: dir, ports: [port('lab0', d0), port('lab1', d1)] }, events);
    expect(hub.ports.map((p) => p.options.name)).toEqual(['lab0', 'lab1']);
    expect(locks(dir)).toHaveLength(2);
    const far0 = rig.end(d0.b);
    const far1 = rig.end(d1.b);
    const c0 = await client(tcpPortOf(hub, 'lab0'));
    const c1 = await client(tcpPortOf(hub, 'lab1'));
    await roundTrip(c0, far0, 'zero');
    await roundTrip(c1, far1, 'one');
    const [session0] = hub.ports[0]!.sessions;

    // lab1's line settings change; lab0's config is the same as before
    const c1Closed = once(c1, 'close');
    const report = await hub.reload(bridgeConfigSchema.parse({ lockDir: dir, ports: [port('lab0', d0), port('lab1', d1, { speed: 9600, idleTimeout: 600 })] }));
    expect(report).toMatchObject({ added: [], removed: [], changed: ['lab1'], kept: ['lab0'], failed: [] });
    await c1Closed; // a restarted port's clients are let go
    expect([...hub.ports[0]!.sessions]).toEqual([session0]);
    await roundTrip(c0, far0, 'still zero'); // the same TCP connection, never interrupted
    const lab1 = hub.ports.find((p) => p.options.name === 'lab1')!;
    expect(lab1.line?.settings.speed).toBe(9600);
    expect(lab1.idleTimeout).toBe(600);
    await roundTrip(await client(tcpPortOf(hub, 'lab1')), far1, 'one again');
    expect(locks(dir)).toHaveLength(2);

    const c0Closed = once(c0, 'close');
    await hub.stop();
    await c0Closed;
    expect(locks(dir)).toEqual([]);
    expect(events.filter((e) => e.type === 'listening').map((e) => e.port)).toEqual(['lab0', 'lab1', 'lab1']);
  });

  it('reports a port of a reloaded config that cannot start, and runs the rest on', async () => {
    const [d0] = await Promise.all([rig.pair()]);
    const hub = await startHub({ lock: false, ports: [{ name: 'lab0', device: d0.a, listen: '127.0.0.1:0' }] });
    const c0 = await client(tcpPortOf(hub, 'lab0'));
    const far0 = rig.end(d0.b);
    const missing = path.join(d0.dir, 'not-a-device');
    const report = await hub.reload(
      bridgeConfigSchema.parse({ lock: false, ports: [{ name: 'lab0', device: d0.a, listen: '127.0.0.1:0' }, { name: 'gone', device: missing, listen: '127.0.0.1:0' }] }),
    );
    expect(report.added).toEqual(['gone']);
    expect(report.kept).toEqual(['lab0']);
    expect(report.failed).toEqual([expect.stringMatching(/^gone: cannot open .*not-a-device/)]);
    expect(hub.ports.map((p) => p.options.name)).toEqual(['lab0']);
    await roundTrip(c0, far0, 'unharmed');
  });

  it('hands each client of a rotator to the first free port, and turns one away when all are busy', async () => {
    const [d0, d1] = await Promise.all([rig.pair(), rig.pair()]);
    const events: BridgeEvent[] = [];
    const hub = await startHub(
      {
        lock: false,
        ports: [
          { name: 'lab0', device: d0.a },
          { name: 'lab1', device: d1.a },
        ],
        rotators: [{ name: 'any', listen: '127.0.0.1:0', ports: ['lab0', 'lab1'] }],
      },
      events,
    );
    const listening = events.find((e) => e.type === 'listening' && e.port === 'any') as Extract<BridgeEvent, { type: 'listening' }>;
    const [lab0, lab1] = hub.ports as [BridgePort, BridgePort];
    expect([lab0.address, lab1.address]).toEqual([undefined, undefined]); // reachable through the rotator only
    const far0 = rig.end(d0.b);
    const far1 = rig.end(d1.b);
    const first = await client(listening.tcpPort);
    await until(() => lab0.sessions.size === 1, 'the first client on lab0');
    const second = await client(listening.tcpPort);
    await until(() => lab1.sessions.size === 1, 'the second client on lab1');
    await roundTrip(first, far0, 'first');
    await roundTrip(second, far1, 'second');

    const third = await client(listening.tcpPort);
    const refusal = collect(third, REFUSALS.allInUse.length);
    const thirdClosed = once(third, 'close');
    expect((await refusal).toString()).toBe(REFUSALS.allInUse);
    await thirdClosed;
    expect(events).toContainEqual(expect.objectContaining({ type: 'refused', port: 'any', reason: 'all ports in use' }));

    first.destroy();
    await until(() => lab0.sessions.size === 0, 'lab0 to see its client go');
    await roundTrip(await client(listening.tcpPort), far0, 'fourth'); // lab0 is the free one again
  });

  describe.each(PROTOCOLS.map((p) => [p]))('runClient to a %s port', (protocol) => {
    it('carries 64 KiB of every byte value both ways between two cables, and ends on abort', async () => {
      const [device, local] = await Promise.all([rig.pair(), rig.pair()]);
      const hub = await startHub({ lock: false, ports: [{ name: 'lab', device: device.a, listen: '127.0.0.1:0', protocol }] });
      // the client's own device at 9600 7E2: an RFC 2217 client asks the port for its settings
      const line = await openSerialLine({ path: local.a, settings: { speed: 9600, dataBits: 7, parity: 'even', stopBits: 2 } });
      rig.cleanups.push(() => line.close());
      const ac = new AbortController();
      const events: BridgeEvent[] = [];
      const done = runClient({ host: '127.0.0.1', port: tcpPortOf(hub, 'lab'), line, reconnect: true, codec: clientCodec(protocol), onEvent: (e) => events.push(e), signal: ac.signal });
      rig.cleanups.push(async () => {
        ac.abort();
        await done;
      });
      const port = hub.ports[0]!;
      await until(() => port.sessions.size === 1, 'the client’s session on the port');
      const [session] = port.sessions;
      expect(session!.filters.map((f) => f.name)).toEqual(['tcp', protocol]);
      expect(nativePumpMayCarry(session!.filters)).toBe(protocol === 'raw'); // a codec's bytes are never the pump's

      const farDevice = rig.end(device.b);
      const farLocal = rig.end(local.b);
      await linkUp(farLocal, farDevice, ['client cable', 'port cable']);
      const toDevice = randomPayload(64 * 1024);
      const toLocal = randomPayload(64 * 1024);
      expect(await bothWays(farLocal, farDevice, toDevice, toLocal)).toEqual([sha256(toDevice), sha256(toLocal)]);
      const frame = () => {
        const s = port.line!.settings;
        return [s.speed, s.dataBits, s.parity, s.stopBits];
      };
      // the requests come before the data on the wire; they are applied as the device allows
      if (protocol === 'rfc2217') await until(() => frame().join() === [9600, 7, 'even', 2].join(), `the port's device at 9600 7E2, not ${frame().join()}`);
      else expect(frame()).toEqual([115200, 8, 'none', 1]); // raw and telnet carry no settings

      ac.abort();
      expect(await done).toBe('aborted');
      await until(() => port.sessions.size === 0, 'the port to see the client go');
      expect(events.filter((e) => e.type === 'retry')).toEqual([]);
    });
  });
});
