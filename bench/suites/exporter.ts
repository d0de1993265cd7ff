import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeStateFile } from '../../src/pppd/state.js';
import { queryBridgePorts } from '../../src/status/control-client.js';
import { freePorts, spawnLaplink } from '../../test/helpers/bridge-processes.js';
import { cpuSeconds, processTree } from '../../test/helpers/proc.js';
import { percentile } from '../lib/stats.js';
import type { BenchSuite } from '../lib/suite.js';
import { contextSwitches, ticks } from './watch.js';
import { sleep } from '../../src/runtime/sleep.js';

/**
 * `npm run bench -- exporter`: what a Prometheus scrape of `laplink exporter` costs on a host with
 * 8 links (state files, each link's tty open by "pppd") and one `bridge run` of 64 ports (64 ttys,
 * one control port): the HTTP round trip of GET /metrics, p50 and p95 (target p50 < 5 ms), beside
 * its floor, one bare `showport` on the same control port. Then the exporter left alone: CPU
 * ticks over a window once V8 has settled (target 0: no timer runs while nobody scrapes).
 * The ttys are pseudo-terminals (72 made by one python3 process): each read is the same stat, open,
 * two ioctls and close as on a UART, which answers the counters ioctl where a pty says ENOTTY.
 */
const LINKS = 8;
const PORTS = 64;
/** As the watch suite measured: V8's memory reducer wakes up to +24 s after a process falls idle. */
const SETTLED_AT_S = 30;

/** One python3 holding the masters of n ptys; prints each slave's path. */
async function ptys(n: number): Promise<{ paths: string[]; stop(): void }> {
  const code = `import os,sys\nm=[]\nfor i in range(${n}):\n  a,b=os.openpty(); m.append(a); print(os.ttyname(b)); os.close(b)\nsys.stdout.flush()\nsys.stdin.read()\n`;
  const child = spawn('python3', ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const paths = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const lines = out.split('\n').filter(Boolean);
      if (lines.length >= n) resolve(lines.slice(0, n));
    });
    child.once('exit', (c) => reject(new Error(`python3 exited ${c} before making ${n} ptys`)));
  });
  return { paths, stop: () => child.stdin!.end() };
}

const ms = (s: number) => s.toFixed(2);

const suite: BenchSuite = {
  name: 'exporter',
  async run({ quick, signal }) {
    const dir = await mkdtemp(join(tmpdir(), 'laplink-bench-exporter-'));
    const held = await ptys(LINKS + PORTS);
    const stops: Array<() => Promise<void> | void> = [held.stop];
    try {
      const stateDir = join(dir, 'state');
      const now = new Date().toISOString();
      // "supervisor" and "pppd" are this bench process: the links are live, their ttys in use
      for (let i = 0; i < LINKS; i++) {
        await writeStateFile(stateDir, { name: `link${i}`, state: 'up', since: now, upSince: now, supervisorPid: process.pid, pppdPid: process.pid, device: held.paths[i], iface: `ppp${i}`, localIp: `192.168.${i}.1`, remoteIp: `192.168.${i}.2`, authMethod: 'chap', compression: 'deflate 15', restarts: i });
      }
      const ports = await freePorts(PORTS + 1);
      const control = ports[PORTS]!;
      // found by the exporter as it finds /etc/laplink/bridge/*.yaml: the config maps the port names to their ttys
      const configs = join(dir, 'bridge');
      await mkdir(configs);
      const config = join(configs, 'bench.yaml');
      await writeFile(config, `lock: false\ncontrol: 127.0.0.1:${control}\nports:\n${held.paths.slice(LINKS).map((d, i) => `  - name: port${i}\n    device: ${d}\n    listen: 127.0.0.1:${ports[i]}\n`).join('')}`);
      const bridge = spawnLaplink(['bridge', 'run', config]);
      stops.push(bridge.stop);
      await bridge.waitForOutput(`control: listening on 127.0.0.1:${control}`);
      const [listen] = await freePorts(1);
      const exporter = spawnLaplink(['exporter', '--listen', `127.0.0.1:${listen}`, '--state-dir', stateDir, '--bridge-configs', configs]);
      stops.push(exporter.stop);
      await exporter.waitForOutput('exporter: serving');
      const url = `http://127.0.0.1:${listen}/metrics`;

      const scrapes = quick ? 50 : 300;
      const roundTrips: number[] = [];
      const selfReported: number[] = [];
      let lines = 0;
      for (let i = 0; i < 20 + scrapes && !signal.aborted; i++) {
        const t0 = performance.now();
        const text = await (await fetch(url, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
        const dt = performance.now() - t0;
        if (i < 20) continue; // warm-up: JIT, the config parse, the first tty opens
        roundTrips.push(dt);
        selfReported.push(Number(/^laplink_exporter_scrape_duration_seconds (\S+)$/m.exec(text)?.[1]) * 1000);
        lines = text.split('\n').length;
        if (!text.includes('laplink_bridge_port_clients{control="127.0.0.1:') || !text.includes(`laplink_tty_counters_available{tty="${held.paths[LINKS + PORTS - 1]}"}`)) throw new Error(`scrape lacks the bridge ports or ttys:\n${text.slice(0, 2000)}`);
      }
      const showports: number[] = [];
      for (let i = 0; i < 20 + scrapes && !signal.aborted; i++) {
        const t0 = performance.now();
        const seen = await queryBridgePorts({ host: '127.0.0.1', port: control }, signal);
        if (i >= 20) showports.push(performance.now() - t0);
        if (seen.length !== PORTS) throw new Error(`showport listed ${seen.length} ports, not ${PORTS}`);
      }

      const pids = processTree(exporter.pid);
      const window = async () => {
        const before = { ticks: await ticks(pids), cpu: cpuSeconds([exporter.pid]), switches: await contextSwitches(pids) };
        await sleep((quick ? 3 : 10) * 1000);
        return { ticks: (await ticks(pids)) - before.ticks, cpuMs: (cpuSeconds([exporter.pid]) - before.cpu) * 1000, switches: (await contextSwitches(pids)) - before.switches };
      };
      const idleAt = Date.now();
      const justAfter = await window();
      await sleep(Math.max(0, SETTLED_AT_S * 1000 - (Date.now() - idleAt)));
      const settled = await window();

      const p50 = percentile(roundTrips, 50);
      const floor = percentile(showports, 50);
      const seconds = quick ? 3 : 10;
      return [
        `${LINKS} links (state files, ttys in use) + 1 bridge run of ${PORTS} ports (${PORTS} ttys, one control port); ${scrapes} scrapes one after another, ${lines} lines each. The machine is shared with other work: absolute times vary, the ratio less.`,
        '',
        '| measure | p50 ms | p95 ms |',
        '|---|---|---|',
        `| GET /metrics round trip (OpenMetrics) | ${ms(p50)} | ${ms(percentile(roundTrips, 95))} |`,
        `| the exporter's own laplink_exporter_scrape_duration_seconds | ${ms(percentile(selfReported, 50))} | ${ms(percentile(selfReported, 95))} |`,
        `| floor: one bare showport of the ${PORTS} ports | ${ms(floor)} | ${ms(percentile(showports, 95))} |`,
        '',
        `scrape / showport (p50): ${(p50 / floor).toFixed(1)}x; goal p50 < 5 ms → ${p50 < 5 ? 'met' : 'NOT met'}`,
        '',
        '| exporter left alone, window | CPU ticks (utime+stime, 10 ms) | CPU ms (schedstat) | context switches (all threads) |',
        '|---|---|---|---|',
        `| ${seconds} s right after the last scrape | ${justAfter.ticks} | ${justAfter.cpuMs.toFixed(1)} | ${justAfter.switches} |`,
        `| ${seconds} s from +${SETTLED_AT_S} s after it (V8 settled) | ${settled.ticks} | ${settled.cpuMs.toFixed(1)} | ${settled.switches} |`,
        '',
        `goal: 0 ticks over ${seconds} s once settled → ${settled.ticks === 0 ? 'met' : 'NOT met'}`,
      ].join('\n');
    } finally {
      for (const stop of stops.reverse()) await stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
