/**
 * showport's labels are written by the control port and read back by status --watch and the
 * exporter (status/bridge-ports.ts). A running hub's real answer, with bytes moved both ways, a
 * client refused and one handed on by a rotator, must have only lines the reader knows, one of its
 * readers for every label, and read back into views carrying every counter the hub holds: a label
 * renamed on one side only fails here. The devices are in-memory lines (a hub's port cannot tell),
 * the control port a real one on loopback.
 */
import { once } from 'node:events';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DROP_KINDS, REFUSAL_KINDS, ROTATOR_REFUSAL_KINDS } from '../../src/bridge/port-stats.js';
import { readShowportLine, SHOWPORT_LABEL } from '../../src/bridge/showport-labels.js';
import { parseBridgeAnswer, PORT_READERS, ROTATOR_READERS } from '../../src/status/bridge-ports.js';
import { ask, collect, connectTcp, openControl, waitUntil } from '../helpers/bridge.js';
import { startMemoryHub } from '../helpers/memory-hub.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A hub on in-memory devices, stopped after the test. */
async function startHub(config: unknown) {
  const h = await startMemoryHub(config);
  cleanups.push(() => h.hub.stop());
  return h;
}

async function client(port: number): Promise<net.Socket> {
  const sock = await connectTcp(port);
  cleanups.push(() => void sock.destroy());
  return sock;
}

const until = (cond: () => boolean, what: string) => waitUntil(cond, what, 20_000, 10);

describe('showport’s labels', () => {
  it('a running hub’s showport has only lines the reader knows, and reads back with every counter', async () => {
    const { hub, tcpPort, device } = await startHub({
      lock: false,
      control: '127.0.0.1:0',
      ports: [
        { name: 'direct', device: 'mem0', listen: '127.0.0.1:0' },
        { name: 'behind', device: 'mem1' },
      ],
      rotators: [{ name: 'any', listen: '127.0.0.1:0', ports: ['behind'] }],
    });
    const [direct, behind] = hub.ports;
    if (!direct || !behind) throw new Error('the hub has not both ports');

    // bytes both ways on the direct port: 5 to the device, 3 from it
    const a = await client(tcpPort('direct'));
    await until(() => direct.sessions.size === 1, 'the client on direct');
    const atDevice = collect(device('mem0').received, 5);
    a.write('hello');
    expect((await atDevice).toString()).toBe('hello');
    const atClient = collect(a, 3);
    device('mem0').send.write('abc');
    expect((await atClient).toString()).toBe('abc');
    // a second client of a port that takes one is refused (in_use)
    const b = await client(tcpPort('direct'));
    b.resume(); // read its refusal, so its end (and close) comes
    await once(b, 'close');
    // one handed on by the rotator
    await client(tcpPort('any'));
    await until(() => behind.sessions.size === 1, 'the rotator’s client on behind');

    const control = await openControl(tcpPort('control'));
    cleanups.push(() => void control.destroy());
    const text = await ask(control, 'showport');

    // every line is a head or a label line, and every label one the reader of its block knows
    let readers: Readonly<Record<string, unknown>> | undefined;
    const written = new Set<string>();
    for (const raw of text.split(/\r?\n/).filter(Boolean)) {
      const line = readShowportLine(raw);
      expect(line, `a line the reader cannot split: ${JSON.stringify(raw)}`).toBeDefined();
      if (!line) continue;
      if ('head' in line) {
        readers = line.head === 'port' ? PORT_READERS : ROTATOR_READERS;
        continue;
      }
      expect(readers, `a label line before any block: ${raw}`).toBeDefined();
      expect(Object.hasOwn(readers!, line.label), `"${line.label}" (${readers === PORT_READERS ? 'port' : 'rotator'}) is a label the reader knows`).toBe(true);
      written.add(line.label);
    }
    // and every label the reader knows is one the writer prints (no reader left for a renamed line)
    expect([...written].sort()).toEqual([...new Set([...Object.keys(PORT_READERS), ...Object.keys(ROTATOR_READERS)])].sort());
    expect(Object.values(SHOWPORT_LABEL).sort()).toEqual([...written].sort());

    const answer = parseBridgeAnswer(text);
    const [viewDirect, viewBehind] = answer.ports;
    const session = [...direct.sessions][0]!;
    const zeros = (kinds: readonly string[]) => Object.fromEntries(kinds.map((k) => [k, 0]));
    expect(viewDirect).toEqual({
      port: String(direct.address!.port),
      name: 'direct',
      device: 'mem0',
      enable: 'raw',
      clients: [session.remote],
      tcpIn: 5,
      tcpOut: 3,
      deviceIn: 3,
      deviceOut: 5,
      refused: { ...zeros(REFUSAL_KINDS), in_use: 1 },
      dropped: zeros(DROP_KINDS),
      clientBytesTotal: { in: 5, out: 3 },
      tlsHandshakes: { ok: 0, refused: 0 },
      tls: false,
    });
    expect([direct.deviceIn, direct.deviceOut, session.bytesIn, session.bytesOut]).toEqual([3, 5, 5, 3]);
    expect(viewBehind).toMatchObject({ name: 'behind', device: 'mem1', clients: [[...behind.sessions][0]!.remote], tls: false });
    expect(answer.rotators).toEqual([
      {
        name: 'any',
        listen: `127.0.0.1:${tcpPort('any')}`,
        tls: false,
        ports: ['behind'],
        handed: 1,
        refused: zeros(ROTATOR_REFUSAL_KINDS),
        tlsHandshakes: { ok: 0, refused: 0 },
      },
    ]);
  });
});
