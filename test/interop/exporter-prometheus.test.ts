/**
 * `laplink exporter` checked by Prometheus's own tools (Debian package `prometheus`): promtool on a
 * real scrape and on the example rules, and a real Prometheus server scraping the exporter over
 * loopback. What is scraped is real too: a `laplink serve` supervisor (its pppd is
 * test/helpers/fake-pppd.mjs, a STAND-IN, because this host's kernel has no PPP: the real pppd exits
 * 4 before a link could come up) whose line is one end of a socat pty pair, and a real `laplink
 * bridge run` on another pair with a client connected, found through its config file as the
 * exporter finds /etc/laplink/bridge/*.yaml. Needs a fresh build (`npm test` builds first).
 */
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../helpers/bridge-processes.js';
import { readStateFile } from '../../src/pppd/state.js';
import { connectTcp, startCli, stop } from '../helpers/bridge.js';
import { startPtyPair, type PtyPair } from '../helpers/ptypair.js';
import { fakePppd, laplinkBin, removeDir, repoRoot, tempDir } from '../helpers/supervisor-harness.js';

const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';
const rules = join(repoRoot, 'examples/prometheus/laplink-rules.yml');
const rulesTest = join(repoRoot, 'examples/prometheus/laplink-rules.test.yml');

let dir = '';
const cleanups: Array<() => unknown> = [];
let metricsUrl = '';
let linkTty = '';
let bridgeTty = '';
let dataPort = 0;

function needTool(path: string): void {
  expect(existsSync(path), `${path} is missing: apt-get install prometheus (it is in debian-packages.txt)`).toBe(true);
}

/** Polls `get` until it returns something; fails with `what` and the last thing seen. */
async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await get();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`no ${what} within ${ms / 1000} s${last ? `; last: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function spawnKept(file: string, args: string[], env: Record<string, string> = {}): ResultPromise & { output: () => string } {
  let output = '';
  const p = execa(file, args, { env, reject: false, buffer: false, stdin: 'ignore' });
  p.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  cleanups.push(() => stop(p));
  return Object.assign(p, { output: () => output });
}

beforeAll(async () => {
  dir = await tempDir('laplink-exporter-');
  const pairs: PtyPair[] = [];
  for (const name of ['pty-link', 'pty-bridge']) {
    await mkdir(join(dir, name));
    const p = await startPtyPair({ dir: join(dir, name) });
    cleanups.push(() => p.close());
    pairs.push(p);
  }
  // the profile schema takes device paths under /dev: the pty the socat link points at
  linkTty = await realpath(pairs[0]!.a);
  bridgeTty = pairs[1]!.a; // a tty is named by the path its owner was configured with (a symlink here)

  const stateDir = join(dir, 'state');
  const profile = join(dir, 'cable.yaml');
  await writeFile(profile, `name: cable\nrole: server\ndevice: ${linkTty}\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth:\n  require: none\nsystemd: false\n`);
  spawnKept(process.execPath, [laplinkBin, 'serve', profile, '--root', join(dir, 'root'), '--state-dir', stateDir, '--lock-dir', join(dir, 'lock'), '--run-dir', join(dir, 'run'), '--pppd', fakePppd], { FAKE_PPPD_SCENARIO: 'up-hold', FAKE_PPPD_STATE: join(dir, 'starts') });
  await until('link up in the state file', async () => ((await readStateFile(stateDir, 'cable').catch(() => undefined))?.state === 'up' ? true : undefined), 30_000);

  const [controlPort, listenPort] = await freePorts(2);
  const configs = join(dir, 'bridge');
  await mkdir(configs);
  await writeFile(join(configs, 'lab.yaml'), `lock: false\ncontrol: 127.0.0.1:${controlPort}\nports:\n  - name: cable0\n    device: ${pairs[1]!.a}\n    listen: 127.0.0.1:${listenPort}\n`);
  const bridge = await startCli(['bridge', 'run', join(configs, 'lab.yaml')], /control: listening on 127\.0\.0\.1:\d+\n/);
  cleanups.push(() => stop(bridge.proc));
  dataPort = listenPort!;
  const client = await connectTcp(dataPort);
  cleanups.push(() => client.destroy());
  client.write('hello');

  const exporter = await startCli(['exporter', '--listen', '127.0.0.1:0', '--state-dir', stateDir, '--bridge-configs', configs], /serving (http:\/\/127\.0\.0\.1:\d+\/metrics)\n/);
  cleanups.push(() => stop(exporter.proc));
  metricsUrl = exporter.match[1]!;
}, 90_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await removeDir(dir);
});

describe('laplink exporter, checked by promtool', () => {
  it('a real scrape passes `promtool check metrics` with nothing to say', async () => {
    needTool(PROMTOOL);
    const text = await until('bridge bytes in the scrape', async () => {
      const t = await (await fetch(metricsUrl)).text();
      return /laplink_bridge_port_device_transmit_bytes_total\{[^}]*\} 5\n/.test(t) ? t : undefined;
    });
    expect(text).toContain('laplink_link_state{link="cable",state="up"} 1\n');
    expect(text).toContain(`laplink_tty_counters_available{tty="${linkTty}"} 0\n`); // a pty keeps no counters
    expect(text).toContain(`laplink_tty_counters_available{tty="${bridgeTty}"} 0\n`);
    const r = await execa(PROMTOOL, ['check', 'metrics'], { input: text, reject: false, all: true });
    expect(r.all).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('promtool is a real check here: a misnamed counter is reported', async () => {
    needTool(PROMTOOL);
    const r = await execa(PROMTOOL, ['check', 'metrics'], { input: '# HELP laplink_link_restarts x\n# TYPE laplink_link_restarts counter\nlaplink_link_restarts 1\n', reject: false, all: true });
    expect(r.all).toMatch(/counter metrics should have "_total" suffix/);
    expect(r.exitCode).not.toBe(0);
  });

  it('accepts the example rules, and their unit tests pass (each alert fires on its case)', async () => {
    needTool(PROMTOOL);
    const check = await execa(PROMTOOL, ['check', 'rules', rules], { reject: false, all: true });
    expect(check.all, check.all).toMatch(/SUCCESS: 6 rules found/);
    expect(check.exitCode).toBe(0);
    const test = await execa(PROMTOOL, ['test', 'rules', rulesTest], { reject: false, all: true });
    expect(test.exitCode, test.all).toBe(0);
  });
});

describe('laplink exporter, scraped by a real Prometheus server', () => {
  it('its HTTP API returns the link, tty and bridge port series', async () => {
    needTool(PROMETHEUS);
    const [webPort] = await freePorts(1);
    const config = join(dir, 'prometheus.yml');
    await writeFile(config, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${rules}\nscrape_configs:\n  - job_name: laplink\n    static_configs:\n      - targets: ['${new URL(metricsUrl).host}']\n`);
    const server = spawnKept(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${webPort}`]);
    const api = `http://127.0.0.1:${webPort}/api/v1`;
    type Series = { metric: Record<string, string>; value: [number, string] };
    const query = async (q: string): Promise<Series[]> => {
      const body = (await (await fetch(`${api}/query?query=${encodeURIComponent(q)}`)).json()) as { status: string; data: { result: Series[] } };
      return body.data.result;
    };
    const seen = (q: string) =>
      until(`${q} from Prometheus (its log: ${server.output().slice(-2000)})`, async () => {
        const r = await query(q);
        return r.length > 0 ? r : undefined;
      });
    // the target is healthy: Prometheus parsed the exposition it negotiated (OpenMetrics)
    const up = await seen('up{job="laplink"} == 1');
    expect(up).toHaveLength(1);
    const targets = (await (await fetch(`${api}/targets`)).json()) as { data: { activeTargets: Array<{ health: string; lastError: string }> } };
    expect(targets.data.activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });

    expect((await seen('laplink_link_up == 1'))[0]!.metric).toMatchObject({ link: 'cable' });
    expect((await seen('laplink_link_state{state="up"} == 1'))[0]!.metric.link).toBe('cable');
    expect((await seen('laplink_link_info'))[0]!.metric).toMatchObject({ link: 'cable', device: linkTty, local_ipv4: '192.168.7.1', remote_ipv4: '192.168.7.2' });
    expect((await seen('laplink_tty_speed_baud')).map((s) => s.metric.tty).sort()).toEqual([linkTty, bridgeTty].sort());
    const clients = await seen('laplink_bridge_port_clients == 1');
    expect(clients[0]!.metric).toMatchObject({ port: String(dataPort) });
    expect((await seen('laplink_bridge_port_device_transmit_bytes_total'))[0]!.value[1]).toBe('5');
    expect((await seen('laplink_bridge_port_info'))[0]!.metric).toMatchObject({ name: 'cable0', device: bridgeTty, protocol: 'raw' });
    // every kind of refusal and drop is a series from the start (0 until it happens)
    expect((await seen('laplink_bridge_port_refused_total')).map((s) => s.metric.reason).sort()).toEqual(['disabled', 'in_use', 'not_allowed', 'tls', 'unavailable']);
    expect((await seen('laplink_bridge_port_dropped_total')).map((s) => s.metric.reason).sort()).toEqual(['device_gone', 'idle_timeout', 'kicked', 'too_slow']);
    expect((await seen('laplink_bridge_port_tls_handshakes_total')).map((s) => s.metric.outcome).sort()).toEqual(['ok', 'refused']);
    expect(await seen('laplink_bridge_control_up == 1')).toHaveLength(1);
    // the recording rule evaluates over the scraped series (empty: a pty counts no errors, so no series)
    const rulesApi = (await (await fetch(`${api}/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ health: string; name: string }> }> } };
    expect(rulesApi.data.groups.flatMap((g) => g.rules).every((r) => r.health !== 'err')).toBe(true);
  }, 120_000);
});

describe('laplink exporter --install-unit', () => {
  it('writes a Type=notify unit that systemd-analyze verify accepts with no warning', async () => {
    const ANALYZE = '/usr/bin/systemd-analyze';
    expect(existsSync(ANALYZE), `${ANALYZE} is missing: apt-get install systemd`).toBe(true);
    const root = join(dir, 'root-unit');
    const r = await execa(process.execPath, [laplinkBin, 'exporter', '--install-unit', '--root', root], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    const unit = join(root, 'etc/systemd/system/laplink-exporter.service');
    expect(r.stdout).toContain(`wrote ${unit}`);
    const text = await readFile(unit, 'utf8');
    expect(text.split('\n')).toContain('Type=notify');
    expect(text).toMatch(/^ExecStart=\/\S+ \/\S+\/bin\/laplink(\.js)? exporter \$LAPLINK_EXPORTER_ARGS$/m);
    const v = await execa(ANALYZE, ['verify', '--man=no', unit], { reject: false, all: true });
    expect(v.all).toBe('');
    expect(v.exitCode).toBe(0);
  });
});
