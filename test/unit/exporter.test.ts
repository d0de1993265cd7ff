/**
 * The exporter's pieces in process: the two exposition formats and label escaping, the bounded
 * state-file reading (hostile files cost an error line, never the scrape), and the families built
 * from real state files written by the supervisor's own writer.
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { BridgeConfigDirectory, readBridge } from '../../src/exporter/bridges.js';
import { Exporter } from '../../src/exporter/collect.js';
import { escapeLabelValue, formatFor, renderFamilies, type MetricFamily } from '../../src/exporter/exposition.js';
import { LinkStateDirectory, MAX_LABEL_CHARS, MAX_STATE_FILE_BYTES, readLinks } from '../../src/exporter/links.js';
import { readStateDir, writeStateFile, type LinkStatus } from '../../src/pppd/state.js';
import { startPtyPair } from '../helpers/ptypair.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = '';
});

const link = (over: Partial<LinkStatus>): LinkStatus => ({ name: 'cable0', state: 'up', since: '2026-12-05T03:00:00.000Z', supervisorPid: process.pid, restarts: 0, ...over });

describe('exposition', () => {
  const families: MetricFamily[] = [
    { name: 'x_restarts', type: 'counter', help: 'Restarts.', samples: [{ labels: { link: 'a' }, value: 3 }] },
    { name: 'x_link', type: 'info', help: 'What.', samples: [{ labels: { link: 'a', v: 'q"\\\n' }, value: 1 }] },
    { name: 'x_up', type: 'gauge', help: 'Up.', samples: [{ labels: {}, value: NaN }] },
  ];

  it('writes the classic text format: suffixed family names, info as a gauge, no EOF', () => {
    expect(renderFamilies(families, 'prometheus')).toBe(
      ['# HELP x_restarts_total Restarts.', '# TYPE x_restarts_total counter', 'x_restarts_total{link="a"} 3', '# HELP x_link_info What.', '# TYPE x_link_info gauge', 'x_link_info{link="a",v="q\\"\\\\\\n"} 1', '# HELP x_up Up.', '# TYPE x_up gauge', 'x_up NaN', ''].join('\n'),
    );
  });

  it('writes OpenMetrics: bare family names, the info type, # EOF last', () => {
    const text = renderFamilies(families, 'openmetrics');
    expect(text).toContain('# TYPE x_restarts counter\nx_restarts_total{link="a"} 3\n');
    expect(text).toContain('# TYPE x_link info\nx_link_info{');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('escapes backslash, quote and newline, and turns a lone surrogate into valid UTF-8', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(Buffer.from(escapeLabelValue('x\ud800y')).toString()).toBe('x\ufffdy');
  });

  it('answers OpenMetrics only to a scraper that asks for it', () => {
    expect(formatFor('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5')).toBe('openmetrics');
    expect(formatFor('text/plain')).toBe('prometheus');
    expect(formatFor(undefined)).toBe('prometheus');
  });
});

describe('state files, bounded', () => {
  it('shows good files and names each hostile one, without throwing', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-exp-'));
    await writeStateFile(dir, link({ name: 'good', compression: 'x'.repeat(1000) }));
    await writeFile(join(dir, 'huge.json'), `{"pad":"${'x'.repeat(MAX_STATE_FILE_BYTES)}"}`);
    await writeFile(join(dir, 'broken.json'), '{"state":');
    await writeFile(join(dir, 'array.json'), '[1,2]');
    await writeFile(join(dir, 'wrongstate.json'), JSON.stringify(link({ state: 'exploded' as LinkStatus['state'] })));
    await writeFile(join(dir, 'negative.json'), JSON.stringify(link({ restarts: -1 })));
    await mkdir(join(dir, 'adir.json'));
    await writeFile(join(dir, 'Not A Link.json'), JSON.stringify(link({})));
    const r = await readLinks(dir);
    expect(r.links.map((l) => l.name)).toEqual(['good']);
    expect(r.links[0]!.info.compression).toHaveLength(MAX_LABEL_CHARS);
    expect(r.problems.sort()).toEqual([
      'adir: not a regular file',
      expect.stringMatching(/^array: is not in the expected format \(.*expected object, received array\)$/),
      expect.stringMatching(/^broken: is not JSON \(/),
      `huge: ${MAX_STATE_FILE_BYTES + 10} bytes, more than a state file ever holds (${MAX_STATE_FILE_BYTES})`,
      expect.stringMatching(/^negative: is not in the expected format \(restarts: /),
      expect.stringMatching(/^wrongstate: is not in the expected format \(state: /),
    ]);
  });

  it('accepts and refuses exactly the files `status` does, in its words: one schema for both', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-exp-'));
    await writeStateFile(dir, link({ name: 'good' }));
    // fields of the wrong type, which a second, forgiving schema used to drop and show the rest
    await writeFile(join(dir, 'numiface.json'), JSON.stringify({ ...link({ name: 'numiface' }), iface: 12 }));
    await writeFile(join(dir, 'badexit.json'), JSON.stringify({ ...link({ name: 'badexit' }), lastExit: { code: 'sixteen', meaning: 'x', at: '2026-12-05T03:00:00.000Z' } }));
    const status = await readStateDir(dir);
    const exporter = await readLinks(dir);
    expect(exporter.links.map((l) => l.name)).toEqual(status.links.map((l) => l.name));
    expect(exporter.problems).toEqual(status.unreadable.map((u) => `${u.name}: ${u.reason}`));
    expect(exporter.problems).toEqual([expect.stringMatching(/^badexit: is not in the expected format \(lastExit\.code: /), expect.stringMatching(/^numiface: is not in the expected format \(iface: /)]);
  });

  it('shows what `status` shows of a file it accepts, no field dropped by a stricter second reading', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-exp-'));
    // an exit status pppd never gives, but the state file holds it and `status` shows it
    await writeStateFile(dir, link({ name: 'odd', state: 'backoff', lastExit: { code: 300, meaning: 'unknown', at: '2026-12-05T03:00:00.000Z' } }));
    const [shown] = (await readStateDir(dir)).links;
    const [exported] = (await readLinks(dir)).links;
    expect(exported!.lastExit).toEqual({ code: shown!.lastExit!.code, at: Date.parse(shown!.lastExit!.at) / 1000 });
  });

  it('a state file rewritten by its supervisor is read again; a removed one is gone', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-exp-'));
    const states = new LinkStateDirectory(dir);
    await writeStateFile(dir, link({ name: 'a', state: 'up', restarts: 1 }));
    expect((await states.read()).links.map((l) => [l.state, l.restarts])).toEqual([['up', 1]]);
    // same size, same second: only the new inode of the rename tells the files apart
    await writeStateFile(dir, link({ name: 'a', state: 'up', restarts: 2 }));
    expect((await states.read()).links.map((l) => [l.state, l.restarts])).toEqual([['up', 2]]);
    await writeStateFile(dir, link({ name: 'a', state: 'backoff', restarts: 3 }));
    expect((await states.read()).links.map((l) => [l.state, l.restarts])).toEqual([['backoff', 3]]);
    await rm(join(dir, 'a.json'));
    expect((await states.read()).links).toEqual([]);
  });

  it('a state directory that does not exist yet is no links and no problem', async () => {
    expect(await readLinks('/nonexistent/laplink-state')).toEqual({ links: [], problems: [] });
  });
});

describe('Exporter', () => {
  it('turns state files into link series, and counts what it could not read', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-exp-'));
    const problems: string[] = [];
    await writeStateFile(dir, link({ name: 'a', upSince: '2026-12-05T03:00:00.000Z', localIp: '192.168.7.1', remoteIp: '192.168.7.2', authMethod: 'chap', restarts: 2, lastExit: { code: 16, meaning: 'line hung up', at: '2026-12-05T02:59:00.000Z' } }));
    await writeStateFile(dir, link({ name: 'b', state: 'backoff', since: new Date(Date.now() - 30_000).toISOString(), nextRetry: '2026-12-05T03:01:00.000Z' }));
    await writeFile(join(dir, 'c.json'), 'not json');
    const exporter = new Exporter({ stateDir: dir, controls: [], bridgeConfigDir: join(dir, 'no-bridges'), version: '9.9.9', onProblem: (s, t) => problems.push(`${s}: ${t}`) });
    const text = await exporter.scrape('prometheus', AbortSignal.timeout(5000));
    for (const line of [
      'laplink_link_state{link="a",state="up"} 1',
      'laplink_link_state{link="b",state="up"} 0',
      'laplink_link_state{link="b",state="backoff"} 1',
      'laplink_link_up{link="a"} 1',
      'laplink_link_restarts_total{link="a"} 2',
      'laplink_link_last_exit_status{link="a"} 16',
      `laplink_link_up_since_timestamp_seconds{link="a"} ${Date.parse('2026-12-05T03:00:00.000Z') / 1000}`,
      `laplink_link_next_retry_timestamp_seconds{link="b"} ${Date.parse('2026-12-05T03:01:00.000Z') / 1000}`,
    ]) {
      expect(text).toContain(`${line}\n`);
    }
    expect(Number(/laplink_link_backoff_seconds\{link="b"\} (\S+)/.exec(text)![1])).toBeGreaterThanOrEqual(30);
    expect(text).toContain('laplink_link_info{link="a",auth_method="chap",local_ipv4="192.168.7.1",remote_ipv4="192.168.7.2"} 1\n');
    expect(text).toContain('laplink_exporter_errors_total{source="state_file"} 1\n');
    expect(problems).toEqual([expect.stringMatching(/^state_file: c: is not JSON \(/)]);
    // the same problem next scrape counts again but is not logged again
    expect(await exporter.scrape('prometheus', AbortSignal.timeout(5000))).toContain('laplink_exporter_errors_total{source="state_file"} 2\n');
    expect(problems).toHaveLength(1);
  });
});

describe('the queue of an up link', () => {
  it('is read with the real tc for an up link whose interface exists (lo stands in for ppp0: this kernel has no PPP), and not for a link whose interface is gone', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-exp-'));
    await writeStateFile(dir, link({ name: 'q', iface: 'lo', pppdPid: process.pid }));
    await writeStateFile(dir, link({ name: 'gone', iface: 'ppp7', pppdPid: process.pid }));
    const exporter = new Exporter({ stateDir: dir, controls: [], bridgeConfigDir: join(dir, 'no-bridges'), version: '9.9.9' });
    const text = await exporter.scrape('prometheus', AbortSignal.timeout(5000));
    expect(text).toContain('laplink_link_queue_info{link="q",qdisc="noqueue"} 1\n');
    expect(text).toContain('laplink_link_queue_backlog_bytes{link="q"} 0\n');
    expect(text).toContain('laplink_link_queue_drops_total{link="q"} 0\n');
    expect(text).not.toContain('link="gone",qdisc');
    expect(text).toContain('laplink_exporter_errors_total{source="queue"} 0\n');
  });
});

describe('which ttys are opened', () => {
  it('a link\'s tty is read while pppd holds it (starting … up), not while the link waits or is stale', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-exp-'));
    const pair = await startPtyPair();
    try {
      const tty = await realpath(pair.a);
      const exporter = new Exporter({ stateDir: dir, controls: [], bridgeConfigDir: join(dir, 'no-bridges'), version: '0', onProblem: () => undefined });
      const ttySeries = async () => (await exporter.scrape('prometheus', AbortSignal.timeout(5000))).includes(`laplink_tty_counters_available{tty="${tty}"} 0\n`);
      await writeStateFile(dir, link({ state: 'up', pppdPid: process.pid, device: tty }));
      expect(await ttySeries()).toBe(true);
      await writeStateFile(dir, link({ state: 'backoff', device: tty }));
      expect(await ttySeries()).toBe(false);
      await writeStateFile(dir, link({ state: 'up', pppdPid: process.pid, device: tty, supervisorPid: 2 ** 22 + 1 })); // no such process: stale
      expect(await ttySeries()).toBe(false);
    } finally {
      await pair.close();
    }
  });
});

/** A control port that greets and answers `showport` with whatever `answer` holds at the time. */
async function fakeControlPort(): Promise<{ port: number; answer: string; close(): void }> {
  const control = { port: 0, answer: '', close: () => void server.close() };
  const server = net.createServer((sock) => {
    sock.write('-> ');
    sock.on('data', (d) => {
      if (d.toString().startsWith('showport')) sock.write(`${control.answer}\r\n-> `);
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  control.port = (server.address() as net.AddressInfo).port;
  return control;
}

describe('ttys read while the bridges answer', () => {
  it('a config\'s device is shown only when showport names it, and its problem counted only then', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-exp-'));
    const pair = await startPtyPair();
    const notATty = join(dir, 'plain-file');
    await writeFile(notATty, '');
    const control = await fakeControlPort();
    try {
      const tty = await realpath(pair.a);
      const port = (name: string, device: string) => `TCP port 40${name === 'a' ? '01' : '02'}\r\n  name: ${name}\r\n  device: ${device}`;
      // the config knows both ports' devices, so both are read before the answer comes
      const target = { control: 'test', host: '127.0.0.1', port: control.port, devices: new Map([['a', tty], ['b', notATty]]) };
      const problems: string[] = [];
      const exporter = new Exporter({ stateDir: join(dir, 'state'), controls: [target], bridgeConfigDir: join(dir, 'no-bridges'), version: '0', onProblem: (_source, text) => problems.push(text) });
      control.answer = port('a', tty);
      const first = await exporter.scrape('prometheus', AbortSignal.timeout(5000));
      expect(first).toContain(`laplink_tty_counters_available{tty="${tty}"} 0\n`);
      expect(first).not.toContain(notATty);
      expect(first).toContain('laplink_exporter_errors_total{source="tty"} 0\n');
      expect(problems).toEqual([]);
      control.answer = `${port('a', tty)}\r\n${port('b', notATty)}`;
      expect(await exporter.scrape('prometheus', AbortSignal.timeout(5000))).toContain('laplink_exporter_errors_total{source="tty"} 1\n');
      expect(problems).toEqual([`${notATty}: not a tty device (not opened)`]);
    } finally {
      control.close();
      await pair.close();
    }
  });
});

describe('bridges', () => {
  it('finds each config\'s control port as one to connect to, and names a broken config by file and line', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-exp-'));
    const port = (device: string) => `ports:\n  - device: ${device}\n    listen: 4001\n`;
    await writeFile(join(dir, 'a.yaml'), `control: 7001\n${port('/dev/ttyS0')}`);
    await writeFile(join(dir, 'b.yaml'), `control: 0.0.0.0:7002\n${port('/dev/ttyS1')}`);
    await writeFile(join(dir, 'c.yaml'), `control: "[::]:7003"\n${port('/dev/ttyS2')}`);
    await writeFile(join(dir, 'd.yaml'), port('/dev/ttyS3')); // no control port: nothing to ask
    await writeFile(join(dir, 'e.yaml'), `control: 7005\nports:\n  - device: /dev/ttyS4\n    speed: fast\n`);
    const configs = new BridgeConfigDirectory(dir);
    const r = await configs.targets();
    expect(r.targets.map((t) => [t.control, [...t.devices]])).toEqual([
      ['127.0.0.1:7001', [['/dev/ttyS0', '/dev/ttyS0']]],
      ['127.0.0.1:7002', [['/dev/ttyS1', '/dev/ttyS1']]],
      ['[::1]:7003', [['/dev/ttyS2', '/dev/ttyS2']]],
    ]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.startsWith(`${join(dir, 'e.yaml')}:4:12: ports[0].speed: `)).toBe(true); // the bridge loader's own words
    // a config fixed on disk is read again
    await writeFile(join(dir, 'e.yaml'), `control: 7005\n${port('/dev/ttyS4')}`);
    expect((await configs.targets()).targets.map((t) => t.control)).toContain('127.0.0.1:7005');
  });

  it('a control port answering what our bridge never would costs an error, not the scrape', async () => {
    const control = await fakeControlPort();
    try {
      const target = { control: 'test', host: '127.0.0.1', port: control.port, devices: new Map<string, string>() };
      control.answer = `TCP port ${'9'.repeat(5000)}\r\n  device: /dev/watchdog\r\n  bytes read from device: 12`;
      const long = await readBridge(target, AbortSignal.timeout(5000));
      expect(long.error).toBeUndefined();
      expect(long.ports[0]!.port).toHaveLength(MAX_LABEL_CHARS);
      expect(long.ttys).toEqual(['/dev/watchdog']); // named, but readTtyCounters opens only ttys
      control.answer = 'TCP port 4001\r\n  bytes read from device: lots';
      expect(await readBridge(target, AbortSignal.timeout(5000))).toMatchObject({ error: 'showport answered counters that are not counts', ports: [] });
    } finally {
      control.close();
    }
  });
});
