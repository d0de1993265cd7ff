import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { pppdArgs } from '../../src/pppd/args.js';
import { readStateFile } from '../../src/pppd/state.js';
import { Supervisor } from '../../src/pppd/supervise.js';
import type { BenchSuite } from '../lib/suite.js';

/**
 * Supervisor benchmarks. pppd is test/helpers/fake-pppd.mjs, a STAND-IN (this kernel has no PPP, the
 * real pppd exits 4 at once). Measured: (1) time from pppd's exit 16 to the next pppd start, against
 * a bare respawner (child 'exit' → spawn, what init's respawn amounts to) as the anchor; (2) the
 * supervisor's own CPU time while the link is up.
 */

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function exitTimes(file: string): Promise<number[]> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => Number(l.split(' ')[1]));
}

async function supervisorRespawn(dir: string, fake: string, samples: number): Promise<number[]> {
  const exitLog = join(dir, 'exits-sup');
  const spawns: number[] = [];
  const sup = new Supervisor({
    name: 'bench',
    args: pppdArgs({ name: 'bench', root: dir }),
    pppd: fake,
    stateDir: join(dir, 'state'),
    tooFast: { starts: 1e9, windowMs: 1, pauseMs: 1 },
    env: { FAKE_PPPD_SCENARIO: 'exit:16', FAKE_PPPD_EXITLOG: exitLog },
  });
  await new Promise<void>((resolve) => {
    sup.on('spawn', ({ at }) => {
      spawns.push(at);
      if (spawns.length > samples) {
        void sup.stop().then(resolve);
      }
    });
    void sup.run();
  });
  const exits = await exitTimes(exitLog);
  return exits.slice(0, samples).map((e, i) => spawns[i + 1]! - e);
}

/** The anchor: respawn on the child's 'exit' event with nothing else to do. */
async function bareRespawn(dir: string, fake: string, samples: number): Promise<number[]> {
  const exitLog = join(dir, 'exits-bare');
  const spawns: number[] = [];
  await new Promise<void>((resolve) => {
    const start = () => {
      const c = spawn(fake, ['call', 'bench', 'nodetach'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FAKE_PPPD_SCENARIO: 'exit:16', FAKE_PPPD_EXITLOG: exitLog } });
      spawns.push(performance.timeOrigin + performance.now());
      c.stdout.resume();
      c.stderr.resume();
      c.on('exit', () => (spawns.length > samples ? resolve() : start()));
    };
    start();
  });
  const exits = await exitTimes(exitLog);
  return exits.slice(0, samples).map((e, i) => spawns[i + 1]! - e);
}

function cpuTicks(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14 and 15)
}

async function idleCpu(dir: string, fake: string, seconds: number): Promise<{ ms: number; seconds: number }> {
  const profile = join(dir, 'idle.yaml');
  await writeFile(profile, 'name: idle\nrole: server\ndevice: /dev/ttyS0\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth:\n  require: none\nsystemd: false\n');
  const stateDir = join(dir, 'state-idle');
  const child = spawn(process.execPath, [join(packageRoot(), 'bin/laplink.js'), 'serve', profile, '--root', join(dir, 'root'), '--state-dir', stateDir, '--pppd', fake], {
    stdio: 'ignore',
    env: { ...process.env, FAKE_PPPD_SCENARIO: 'up-hold' },
  });
  try {
    for (let i = 0; ; i++) {
      const s = await readStateFile(stateDir, 'idle').catch(() => undefined);
      if (s?.state === 'up') break;
      if (i > 400) throw new Error('supervisor did not bring the stand-in link up');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 2000)); // let start-up work (module loading, JIT, GC) settle
    const before = cpuTicks(await readFile(`/proc/${child.pid}/stat`, 'utf8'));
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = cpuTicks(await readFile(`/proc/${child.pid}/stat`, 'utf8'));
    return { ms: ((after - before) * 1000) / 100, seconds }; // USER_HZ is 100 on Linux
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const suite: BenchSuite = {
  name: 'supervisor',
  async run({ quick }) {
    const dir = await mkdtemp(join(tmpdir(), 'laplink-bench-sup-'));
    const fake = join(packageRoot(), 'test/helpers/fake-pppd.mjs');
    try {
      const n = quick ? 20 : 100;
      const bare = await bareRespawn(dir, fake, n);
      const sup = await supervisorRespawn(dir, fake, n);
      const idle = await idleCpu(dir, fake, quick ? 3 : 10);
      const f = (x: number) => x.toFixed(2);
      return [
        'pppd is a stand-in (test/helpers/fake-pppd.mjs): this kernel has no PPP.',
        '',
        `| exit 16 → next pppd start (${n} samples) | p50 ms | p99 ms | max ms |`,
        '|---|---|---|---|',
        `| bare respawner (child exit → spawn) | ${f(pct(bare, 50))} | ${f(pct(bare, 99))} | ${f(Math.max(...bare))} |`,
        `| laplink supervisor | ${f(pct(sup, 50))} | ${f(pct(sup, 99))} | ${f(Math.max(...sup))} |`,
        `| ratio supervisor / bare (p50) | ${f(pct(sup, 50) / pct(bare, 50))} | | |`,
        '',
        `supervisor CPU while the link is up: ${idle.ms.toFixed(0)} ms over ${idle.seconds} s (${((idle.ms / (idle.seconds * 1000)) * 100).toFixed(3)} % of one core; /proc utime+stime, 10 ms ticks)`,
        `goal: p50 ≤ 50 ms → ${pct(sup, 50) <= 50 ? 'met' : 'NOT met'}`,
      ].join('\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
