/**
 * When the exporter opens a bridge config's ttys: while that bridge composes its showport answer
 * (after its greeting), so the reads cost the scrape nothing; never when the bridge is down, as a
 * bridge that is not running holds none of them and opening an idle UART raises DTR and RTS.
 * readTtyCounters is wrapped to record each open and when it came.
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startPtyPair } from '../helpers/ptypair.js';

const opened: Array<{ path: string; at: number }> = [];
vi.mock('../../src/line/serial-counters.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/line/serial-counters.js')>();
  return {
    ...real,
    readTtyCounters: (path: string) => {
      opened.push({ path, at: performance.now() });
      return real.readTtyCounters(path);
    },
  };
});
const { Exporter } = await import('../../src/exporter/collect.js');

/** A control port that greets at once and answers showport only after `delayMs`, noting when. */
async function slowControlPort(answer: string, delayMs: number): Promise<{ port: number; answeredAt: () => number; close(): void }> {
  let answeredAt = Number.NaN;
  const server = net.createServer((sock) => {
    sock.write('-> ');
    sock.on('data', (d) => {
      if (!d.toString().startsWith('showport')) return;
      setTimeout(() => {
        answeredAt = performance.now();
        sock.write(`${answer}\r\n-> `);
      }, delayMs);
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, answeredAt: () => answeredAt, close: () => void server.close() };
}

let dir = '';
afterEach(async () => {
  opened.length = 0;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = '';
});

describe('a bridge config\'s ttys', () => {
  it('are read after the bridge greets and before it answers; never while it is down', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-exp-timing-'));
    const pair = await startPtyPair();
    try {
      const tty = await realpath(pair.a);
      const answer = `TCP port 4001\r\n  name: a\r\n  device: ${tty}`;
      const up = await slowControlPort(answer, 300);
      const exporter = (port: number) =>
        new Exporter({ stateDir: join(dir, 'state'), controls: [{ control: 'test', host: '127.0.0.1', port, devices: new Map([['a', tty]]) }], bridgeConfigDir: join(dir, 'none'), version: '0' });
      try {
        const text = await exporter(up.port).scrape('prometheus', AbortSignal.timeout(5000));
        expect(text).toContain(`laplink_tty_counters_available{tty="${tty}"} 0\n`);
        expect(opened.map((o) => o.path)).toEqual([tty]); // once, not again after the answer
        expect(opened[0]!.at).toBeLessThan(up.answeredAt());
      } finally {
        up.close();
      }
      // a bridge that is down: a port nothing listens on (the closed server's)
      opened.length = 0;
      const down = await exporter(up.port).scrape('prometheus', AbortSignal.timeout(5000));
      expect(down).toContain('laplink_exporter_errors_total{source="control_port"} 1\n');
      expect(opened).toEqual([]);
    } finally {
      await pair.close();
    }
  });
});
