/**
 * RFC 2217's codes for parity and flow come from the option table on both sides: over every
 * combination of settings, what our client asks in its greeting (SET-DATASIZE, SET-PARITY,
 * SET-STOPSIZE, SET-CONTROL) is what our server applies to its device, and what the server answers
 * is what the client asked. The devices are in-memory lines, which keep the settings they are given.
 */
import { Duplex, PassThrough } from 'node:stream';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { CodecHost } from '../../src/bridge/codec.js';
import { PORT_OPTIONS } from '../../src/bridge/port-option-table.js';
import { DATA_BITS, FLOWS, PARITIES, STOP_BITS } from '../../src/bridge/port-options.js';
import { Rfc2217Client } from '../../src/bridge/rfc2217-client.js';
import { Rfc2217Server, SET_CONTROL, SET_PARITY } from '../../src/bridge/rfc2217.js';
import { defaultSettings, type LineSettings } from '../../src/line/line.js';
import { StreamLine } from '../../src/line/socket.js';

function memLine(settings: LineSettings): StreamLine {
  const line = new StreamLine('mem', Duplex.from({ readable: new PassThrough(), writable: new PassThrough() }));
  line.settings = { ...settings };
  return line;
}

it('what the client asks for its line is what the server sets on its device, for every parity and flow', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({ dataBits: fc.constantFrom(...DATA_BITS), parity: fc.constantFrom(...PARITIES), stopBits: fc.constantFrom(...STOP_BITS), flow: fc.constantFrom(...FLOWS) }),
      async (asked) => {
        const local = memLine({ ...defaultSettings, ...asked });
        const device = memLine({ ...defaultSettings, parity: asked.parity === 'odd' ? 'even' : 'odd', flow: asked.flow === 'rtscts' ? 'xonxoff' : 'rtscts' });
        const answers: Buffer[] = [];
        let settled!: () => void;
        const done = new Promise<void>((r) => (settled = r));
        const serverHost: CodecHost = { reply: (b) => answers.push(b), line: () => device, log: () => undefined, flow: () => undefined, settled: () => settled() };
        const clientHost: CodecHost = { reply: () => undefined, line: () => local, log: () => undefined, flow: () => undefined };
        const server = new Rfc2217Server(serverHost);
        const client = new Rfc2217Client(clientHost);
        try {
          server.decode(client.greeting());
          await done;
          expect(device.settings).toMatchObject(asked);
          // the server's answers, read by the client, confirm the codes it sent
          client.decode(Buffer.concat(answers));
          expect([...client.confirmed.get(SET_PARITY)!]).toEqual([PORT_OPTIONS.parity.rfc2217[asked.parity]]);
          expect([...client.confirmed.get(SET_CONTROL)!]).toEqual([PORT_OPTIONS.flow.rfc2217[asked.flow]]);
        } finally {
          client.dispose();
          server.dispose();
        }
      },
    ),
    { numRuns: 200, seed: 22 },
  );
});
