import { spawn, spawnSync } from 'node:child_process';
import { watch } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { recoverForProfile } from '../../src/render/generate.js';
import { describeRecovery } from '../../src/render/journal.js';

// Fault tests with the real CLI as a separate process: SIGKILL at random points of generate's write
// phase (and at every step of it), a full tmpfs, a read-only tmpfs, a user who may not write. They
// need root (mount, setuid), as CI runs them; anything else fails loudly.
const cli = join(import.meta.dirname, '../../bin/laplink.js');
const RANDOM_KILLS = Number(process.env.LAPLINK_FAULT_KILLS ?? 200);

const profileText = (v: 'A' | 'B') => `name: ftest
role: server
peer: windows
device: /dev/ttyS1
localIp: 192.168.7.1
remoteIp: 192.168.7.2
hostnames: { local: gw-${v.toLowerCase()}, remote: laptop-${v.toLowerCase()} }
auth:
  users:
    - name: zaphod
      password: "secret ${v}"
inittab: true
${v === 'B' ? 'mtu: 576\nspeed: 57600\n' : ''}`;

/** Every file under dir (relative path → content), the profile itself left out. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || e.name === 'profile.yaml') continue;
    const full = join(e.parentPath, e.name);
    out[full.slice(dir.length)] = await readFile(full, 'utf8');
  }
  return out;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}, uid?: number) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, uid, gid: uid });
}

const mounts: string[] = [];
const dirs: string[] = [];
async function scratch(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
async function tmpfs(sizeKiB: number): Promise<string> {
  const d = await scratch('laplink-tmpfs-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0755`, 'tmpfs', d], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount -t tmpfs failed (these tests need root): ${r.stderr}`);
  mounts.push(d);
  return d;
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('generate fault tests need root (mount, SIGKILL of real runs); CI runs them as root');
});
afterAll(async () => {
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A root with the link generated from A (foreign lines in hosts), and the snapshots of A and B. */
async function prepared(base?: string) {
  const root = base ?? (await scratch('laplink-faults-'));
  const profile = join(root, 'profile.yaml');
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n# keep me\n');
  const gen = async (v: 'A' | 'B') => {
    await writeFile(profile, profileText(v));
    const r = runCli(['generate', profile, '--root', root]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return snapshot(root);
  };
  const snapB = await gen('B');
  const snapA = await gen('A');
  expect(snapA).not.toEqual(snapB);
  return { root, profile, snapA, snapB };
}

/** Which of the two sets `snap` is; fails on a mix or on any leftover file. */
function whichSet(snap: Record<string, string>, a: Record<string, string>, b: Record<string, string>): 'A' | 'B' {
  if (JSON.stringify(snap) === JSON.stringify(a)) return 'A';
  if (JSON.stringify(snap) === JSON.stringify(b)) return 'B';
  const mixed = Object.keys({ ...snap, ...a }).filter((k) => snap[k] !== a[k] && snap[k] !== b[k]);
  const fromA = Object.keys(a).filter((k) => snap[k] === a[k] && a[k] !== b[k]);
  const fromB = Object.keys(b).filter((k) => snap[k] === b[k] && a[k] !== b[k]);
  throw new Error(`files are neither all A nor all B: from A ${fromA.join(', ')}; from B ${fromB.join(', ')}; other/leftover ${mixed.join(', ')}`);
}

function exited(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((res) => (child.exitCode !== null || child.signalCode !== null ? res() : child.once('exit', () => res())));
}

/** Resolves once the process is stopped (state T in /proc) or has exited. */
async function stoppedOrExited(child: ReturnType<typeof spawn>): Promise<'stopped' | 'exited'> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8').catch(() => '');
    if (/\) T /.test(stat)) return 'stopped';
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('generate under SIGKILL', () => {
  it(`${RANDOM_KILLS} kills at random points of the write phase: every file set all old or all new, nothing left over after the next run`, async () => {
    const { root, profile, snapA, snapB } = await prepared();
    const journalDir = join(root, 'var/lib/laplink');
    /** Spawns a generate of `v`; `onJournal` runs when it starts its journal (inotify). */
    const start = (onJournal: () => void) => {
      const child = spawn(process.execPath, [cli, 'generate', profile, '--root', root], { stdio: 'ignore' });
      const watcher = watch(journalDir, { persistent: false }, () => {
        watcher.close();
        onJournal();
      });
      child.once('exit', () => watcher.close());
      return child;
    };
    // How long the write phase lasts here, from the journal's first appearance to exit: kills are
    // spread uniformly over it (measured, not guessed, so a slow or fast machine is covered alike).
    let writePhaseMs = 0;
    for (const v of ['B', 'A'] as const) {
      await writeFile(profile, profileText(v));
      let t0 = 0;
      const child = start(() => (t0 = performance.now()));
      await exited(child);
      writePhaseMs = Math.max(writePhaseMs, performance.now() - t0);
    }
    const tally = { old: 0, new: 0, interruptedForward: 0, interruptedBack: 0, cleanedLeftovers: 0 };
    let current: 'A' | 'B' = 'A';
    for (let i = 0; i < RANDOM_KILLS; i++) {
      const next: 'A' | 'B' = current === 'A' ? 'B' : 'A';
      await writeFile(profile, profileText(next));
      // one kill in ten at a random time since spawn, wherever that falls; the rest uniformly over
      // the write phase
      const kill = () => child.kill('SIGKILL');
      const child = start(() => {
        if (i % 10 !== 0) setTimeout(kill, Math.random() * writePhaseMs * 0.8);
      });
      if (i % 10 === 0) setTimeout(kill, Math.random() * 1500);
      await exited(child);
      const r = await recoverForProfile(await loadProfile(profile), root);
      if (r.interrupted?.outcome === 'rolled forward') tally.interruptedForward++;
      if (r.interrupted?.outcome === 'rolled back') tally.interruptedBack++;
      if (r.leftovers.length) tally.cleanedLeftovers++;
      const set = whichSet(await snapshot(root), snapA, snapB);
      if (set === next) tally.new++;
      else tally.old++;
      current = set;
    }
    console.log(`random SIGKILLs: ${RANDOM_KILLS} over a ${writePhaseMs.toFixed(0)} ms write phase; ${JSON.stringify(tally)}`);
    // most kills must land inside the write phase, or this test proves little
    expect(tally.interruptedForward + tally.interruptedBack).toBeGreaterThan(RANDOM_KILLS / 10);
    // 200 real process start-ups: about 1 s each on an idle 2-core machine, 3 s at load 15 (measured)
  }, 1_200_000);

  it('a kill at every step of the write phase, both directions; `check` names the interrupted run and changes nothing, the next generate finishes it', async () => {
    const { root, profile, snapA, snapB } = await prepared();
    const lockDir = await scratch('laplink-uucp-');
    let kills = 0;
    for (const next of ['B', 'A'] as const) {
      for (let step = 1; ; step++) {
        await writeFile(profile, profileText(next));
        const child = spawn(process.execPath, [cli, 'generate', profile, '--root', root], { stdio: 'ignore', env: { ...process.env, LAPLINK_STOP_AT_STEP: String(step) } });
        const how = await stoppedOrExited(child);
        if (how === 'exited') {
          // past the last step: the run completed
          expect(child.exitCode).toBe(0);
          expect(whichSet(await snapshot(root), snapA, snapB)).toBe(next);
          break;
        }
        child.kill('SIGKILL');
        await exited(child);
        kills++;
        // towards B the real `check` first (slow: it also asks pppd and chat): it names the run and
        // changes nothing; then the recovery that generate runs first, in-process
        if (next === 'B') {
          const before = await snapshot(root);
          const checked = runCli(['check', profile, '--root', root, '--lock-dir', lockDir]).stdout;
          expect(checked).toMatch(new RegExp(`^warn interrupted run: an interrupted run \\(pid ${child.pid}, (prepared|committing), \\d+ files\\) is recorded in .*check changed nothing$`, 'm'));
          expect(await snapshot(root), 'check changed nothing').toEqual(before);
        }
        const said = `warn interrupted run: ${describeRecovery(await recoverForProfile(await loadProfile(profile), root))}`;
        expect(said).toMatch(new RegExp(`^warn interrupted run: an interrupted run \\(pid ${child.pid}, (prepared|committing)\\) was found and (rolled forward|rolled back)`, 'm'));
        const set = whichSet(await snapshot(root), snapA, snapB);
        // before the commit mark the old set is kept, after it the new one is completed
        expect(set === next).toBe(/committing\) was found and rolled forward/.test(said));
        // put the other set back for the next step
        await writeFile(profile, profileText(next === 'A' ? 'B' : 'A'));
        if (set === next) expect(runCli(['generate', profile, '--root', root]).status).toBe(0);
      }
    }
    expect(kills).toBeGreaterThanOrEqual(16);
    console.log(`targeted SIGKILLs: ${kills}`);
  }, 300_000);

  it('leftovers of runs from before the journal (temps, backups, empty ones, lock temps) are reported by check and removed by generate', async () => {
    const { root, profile, snapA } = await prepared();
    const made = [
      'etc/ppp/peers/.ftest.laplink-tmp-0badc0de',
      'etc/ppp/.pap-secrets.laplink-bak-12345678',
      'etc/.hosts.laplink-tmp-deadbeef',
      'run/lock/laplink-generate.lock.999999999.cafef00d',
    ];
    for (const [i, f] of made.entries()) await writeFile(join(root, f), i % 2 ? '' : 'half a file');
    const before = runCli(['generate', profile, '--root', root, '--dry-run']);
    expect(before.status).toBe(0);
    const withLeftovers = await snapshot(root);
    const checked = runCli(['check', profile, '--root', root, '--lock-dir', await scratch('laplink-uucp-')]);
    expect(checked.stdout).toMatch(/^warn interrupted run: 4 leftover temp\/backup\/lock files: `laplink generate \S+` removes them; check changed nothing$/m);
    expect(await snapshot(root), 'check changed nothing').toEqual(withLeftovers);
    const generated = runCli(['generate', profile, '--root', root]);
    expect(generated.stderr).toMatch(/4 leftover temp\/backup\/lock files removed/);
    expect(await snapshot(root)).toEqual(snapA);
  });
});

describe('generate on a filesystem that refuses', () => {
  it('a full tmpfs: one line naming the file and "no space left on device", nothing changed, nothing left (at every fill level)', async () => {
    const fs = await tmpfs(512);
    const { root, profile, snapA, snapB } = await prepared(fs);
    await writeFile(profile, profileText('B'));
    const outcomes: string[] = [];
    // leave 0, 4, 8, … KiB free: each run fails at a different file, or succeeds
    for (let freeKiB = 0; freeKiB <= 48; freeKiB += 4) {
      const filler = join(fs, 'filler');
      await rm(filler, { force: true });
      const fd = await open(filler, 'w');
      const page = Buffer.alloc(4096, 0x55);
      try {
        for (;;) await fd.write(page);
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      await fd.truncate((await fd.stat()).size - freeKiB * 1024);
      await fd.close();
      const r = runCli(['generate', profile, '--root', root]);
      await rm(filler);
      if (r.status === 0) {
        outcomes.push(`${freeKiB}K:ok`);
        expect(whichSet(await snapshot(root), snapA, snapB)).toBe('B');
        break;
      }
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^laplink: cannot write \/\S+: no space left on device; nothing was changed\n$/);
      outcomes.push(`${freeKiB}K:${/cannot write \S*\/(\S+):/.exec(r.stderr)![1]}`);
      expect(whichSet(await snapshot(root), snapA, snapB)).toBe('A');
    }
    console.log(`full tmpfs: ${outcomes.join(' ')}`);
    expect(outcomes[0]).not.toMatch(/ok/);
    expect(outcomes.length).toBeGreaterThan(2);
  });

  it('a read-only root: one line "read-only file system", exit 1, nothing changed', async () => {
    const fs = await tmpfs(512);
    const { root, profile, snapA } = await prepared(fs);
    await writeFile(profile, profileText('B'));
    expect(spawnSync('mount', ['-o', 'remount,ro', fs]).status).toBe(0);
    const r = runCli(['generate', profile, '--root', root]);
    expect(r.stderr).toMatch(/^laplink: cannot write \/\S+: read-only file system; nothing was changed\n$/);
    expect(r.status).toBe(1);
    expect(await snapshot(root)).toEqual(snapA);
    const removed = runCli(['remove', profile, '--root', root]);
    expect(removed.stderr).toMatch(/^laplink: cannot write \/\S+: read-only file system; nothing was changed\n$/);
  });

  it('a user who may not write there: one line "permission denied", exit 1, nothing changed', async () => {
    const { root, profile, snapA } = await prepared();
    await chmod(root, 0o755);
    await writeFile(profile, profileText('B'));
    await chmod(profile, 0o644);
    const r = runCli(['generate', profile, '--root', root], {}, 65534);
    expect(r.stderr).toMatch(/^laplink: cannot write \/\S+: permission denied; nothing was changed\n$/);
    expect(r.status).toBe(1);
    expect(await snapshot(root)).toEqual(snapA);
  });
});
