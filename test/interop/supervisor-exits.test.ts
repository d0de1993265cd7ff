/**
 * Exit statuses, `stop` of a left-over pppd, and secrets in the state file (issues 14 and 18), as
 * processes. pppd is the REAL /usr/sbin/pppd where its exit 4 suffices (this kernel has no PPP), and
 * otherwise test/helpers/fake-pppd.mjs, a STAND-IN replaying real pppd log lines, because a
 * negotiated link cannot exist on this machine. Needs a fresh build (`npm test` builds first).
 */
import { execa, type ResultPromise } from 'execa';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readStateFile, writeStateFile, type LinkStatus } from '../../src/pppd/state.js';
import { fakePppd, laplinkBin, procAlive, profileYaml, removeDir, starts, tempDir, processReaper } from '../helpers/supervisor-harness.js';

const SECRET = 'Sup3rSecretPW';
let dir = '';
const { children, strayPids, reap } = processReaper();
afterEach(async () => {
  await reap();
  await removeDir(dir);
});

const clientYaml = () => profileYaml('exlink').replace('role: server', 'role: client').replace(/auth:[\s\S]*?(?=systemd)/, `auth:\n  user: labuser\n  password: ${SECRET}\n`);

async function setup(yaml = profileYaml('exlink')): Promise<{ profile: string; stateDir: string }> {
  dir = await tempDir('laplink-exits-');
  const profile = join(dir, 'link.yaml');
  await writeFile(profile, yaml);
  return { profile, stateDir: join(dir, 'state') };
}

const dirs = () => ['--root', join(dir, 'root'), '--state-dir', join(dir, 'state'), '--lock-dir', join(dir, 'lock'), '--run-dir', join(dir, 'run')];

function laplink(args: string[], env: Record<string, string> = {}) {
  return execa('node', [laplinkBin, ...args], { reject: false, env: { FAKE_PPPD_STATE: join(dir, 'starts'), ...env } });
}

function serve(profile: string, env: Record<string, string>, more: string[] = []): ResultPromise & { output: () => string } {
  let output = '';
  const p = execa('node', [laplinkBin, 'serve', profile, ...dirs(), '--pppd', fakePppd, ...more], {
    env: { FAKE_PPPD_STATE: join(dir, 'starts'), ...env },
    reject: false,
    buffer: false,
    stdin: 'ignore',
  });
  p.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  children.push(p);
  return Object.assign(p, { output: () => output });
}

async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stateIs = (pred: (s: LinkStatus) => boolean) => async () => {
  const s = await readStateFile(join(dir, 'state'), 'exlink').catch(() => undefined);
  return s && pred(s) ? s : undefined;
};

describe('one-shot connect exits with pppd\'s own status; 78 stays for serve and --persist', () => {
  it('real pppd: connect exits 4, connect --persist exits 78', async () => {
    const { profile } = await setup(clientYaml());
    const once = await laplink(['connect', profile, ...dirs(), '--pppd', '/usr/sbin/pppd']);
    expect(once.stderr).toContain('pppd exited 4 (no kernel PPP support)');
    expect(once.exitCode).toBe(4);
    const persist = await laplink(['connect', profile, '--persist', ...dirs(), '--pppd', '/usr/sbin/pppd']);
    expect(persist.exitCode).toBe(78);
  });

  it('stand-in: an options error (2) comes back as 2', async () => {
    const { profile } = await setup(clientYaml());
    const r = await laplink(['connect', profile, ...dirs(), '--pppd', fakePppd], { FAKE_PPPD_SCENARIO: 'exit:2' });
    expect(r.stderr).toContain('pppd exited 2 (options error)');
    expect(r.exitCode).toBe(2);
  });
});

describe('--pppd that cannot run fails before anything starts', () => {
  it.each([
    ['a missing path', 'missing', /--pppd .*\/nonexistent-pppd: no such file/],
    ['a file that is not executable', 'plain', /--pppd .*\/plain-pppd: not executable/],
  ])('%s', async (_what, kind, message) => {
    const { profile, stateDir } = await setup();
    const path = join(dir, kind === 'missing' ? 'nonexistent-pppd' : 'plain-pppd');
    if (kind === 'plain') {
      await writeFile(path, '#!/bin/sh\nexit 0\n');
      await chmod(path, 0o644);
    }
    for (const command of ['serve', 'connect']) {
      const r = await laplink([command, profile, ...dirs(), '--pppd', path]);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.exitCode).toBe(78);
    }
    expect(existsSync(join(dir, 'root'))).toBe(false); // nothing generated
    expect(existsSync(stateDir)).toBe(false); // no state file: nothing started
  });
});

describe('laplink status exit status: 1 when a link shown is failed, paused or stale', () => {
  it('0 while up, 1 when stale, 1 when failed, 3 with one line for an unknown link', async () => {
    const { profile } = await setup();
    const p = serve(profile, { FAKE_PPPD_SCENARIO: 'up-hold' });
    const up = await until('up', stateIs((s) => s.state === 'up'));
    strayPids.push(up.pppdPid!);
    const ok = await laplink(['status', '--state-dir', join(dir, 'state')]);
    expect(ok.exitCode).toBe(0);
    p.kill('SIGKILL');
    await p;
    const stale = await laplink(['status', 'exlink', '--state-dir', join(dir, 'state')]);
    expect(stale.stdout).toContain('stale (was up');
    expect(stale.exitCode).toBe(1);
    const unknown = await laplink(['status', 'nolink', '--state-dir', join(dir, 'state')]);
    expect(unknown.exitCode).toBe(3);
    expect(unknown.stderr.trim()).toBe(`laplink: status: no link nolink in ${join(dir, 'state')} (no nolink.json; is \`laplink serve\` running?)`);
    await laplink(['stop', 'exlink', ...dirs().slice(2)]);
    const failed = await laplink(['serve', profile, ...dirs(), '--pppd', '/usr/sbin/pppd']);
    expect(failed.exitCode).toBe(78);
    const shown = await laplink(['status', '--json', '--state-dir', join(dir, 'state')]);
    expect(JSON.parse(shown.stdout)[0]).toMatchObject({ state: 'failed' });
    expect(shown.exitCode).toBe(1);
  });

  it('1 while paused (respawning too fast)', async () => {
    const { profile } = await setup();
    serve(profile, { FAKE_PPPD_SCENARIO: 'exit:16' }, ['--too-fast-starts', '2']);
    await until('paused', stateIs((s) => s.state === 'paused'));
    const r = await laplink(['status', '--state-dir', join(dir, 'state')]);
    expect(r.stdout).toMatch(/exlink +paused/);
    expect(r.exitCode).toBe(1);
  });
});

describe('laplink stop after the supervisor was killed with SIGKILL', () => {
  it.each([
    ['the state file\'s pppdPid', false],
    ['the UUCP lock only', true],
  ])('ends the pppd it left (found through %s), removes nothing else, state stopped', async (_how, lockOnly) => {
    const { profile, stateDir } = await setup();
    const device = join(dir, 'ttyLAP');
    await writeFile(device, '');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'lock'));
    const p = serve(profile, { FAKE_PPPD_SCENARIO: 'up-hold', FAKE_PPPD_LOCKDIR: join(dir, 'lock') }, ['--device', device]);
    const up = await until('up', stateIs((s) => s.state === 'up'));
    strayPids.push(up.pppdPid!);
    p.kill('SIGKILL');
    await p;
    expect(await procAlive(up.pppdPid!)).toBe(true);
    if (lockOnly) {
      const { pppdPid: _dropped, ...rest } = up;
      await writeStateFile(stateDir, rest);
    }
    const r = await laplink(['stop', 'exlink', ...dirs().slice(2)]);
    expect(r.stdout).toBe(`exlink: ended pppd pid ${up.pppdPid} (its supervisor ${p.pid} is gone); stopped`);
    expect(r.exitCode).toBe(0);
    expect(await procAlive(up.pppdPid!)).toBe(false);
    expect(existsSync(join(dir, 'lock', 'LCK..ttyLAP'))).toBe(false);
    const after = await readStateFile(stateDir, 'exlink');
    expect(after).toMatchObject({ state: 'stopped' });
    expect(after?.pppdPid).toBeUndefined();
    expect(after?.iface).toBeUndefined();
    expect((await laplink(['status', '--state-dir', stateDir])).exitCode).toBe(0);
    // nothing left: a second stop says so
    expect((await laplink(['stop', 'exlink', ...dirs().slice(2)])).stdout).toMatch(/exlink: not running/);
  });

  it('not root: one line naming what needs root, the link untouched', async () => {
    const { profile, stateDir } = await setup();
    await chmod(dir, 0o755);
    const p = serve(profile, { FAKE_PPPD_SCENARIO: 'up-hold' });
    const up = await until('up', stateIs((s) => s.state === 'up'));
    await chmod(stateDir, 0o755);
    const asNobody = (args: string[]) => execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', laplinkBin, ...args], { reject: false });
    const r = await asNobody(['stop', 'exlink', '--state-dir', stateDir]);
    expect(r.stderr.trim()).toBe(`laplink: stop: the supervisor of exlink runs as root (pid ${p.pid}); run stop as root`);
    expect(r.exitCode).toBe(4);
    expect(await procAlive(p.pid!)).toBe(true);
    // supervisor gone, its root pppd left: the same line for the pppd
    strayPids.push(up.pppdPid!);
    p.kill('SIGKILL');
    await p;
    const left = await asNobody(['stop', 'exlink', ...dirs().slice(2)]);
    expect(left.stderr.trim()).toBe(`laplink: stop: the pppd of exlink runs as root (pid ${up.pppdPid}); run stop as root`);
    expect(left.stderr).not.toMatch(/internal error|EPERM/);
    expect(await procAlive(up.pppdPid!)).toBe(true);
  });
});

describe('issue 18: a peer sending its password as the user name', () => {
  it('never puts the password into the state file, status or the log', async () => {
    const { profile, stateDir } = await setup();
    const p = serve(profile, { FAKE_PPPD_SEQUENCE: 'exit:11,up-hold', FAKE_PPPD_PEER_USER: SECRET }, ['--backoff-initial', '10']);
    const up = await until('up after the failed login', stateIs((s) => s.state === 'up' && s.restarts === 1));
    expect(up.peerUser).toBe('********');
    expect(up.lastExit?.reason).toBe('peer ******** failed authentication');
    expect((await starts(dir)).length).toBe(2);
    const file = await readFile(join(stateDir, 'exlink.json'), 'utf8');
    expect(file).not.toContain(SECRET);
    for (const args of [['status'], ['status', '--json'], ['status', 'exlink', '--json']]) {
      const r = await laplink([...args, '--state-dir', stateDir]);
      expect(r.stdout).toContain('********');
      expect(r.stdout).not.toContain(SECRET);
    }
    p.kill('SIGTERM');
    await p;
    expect(p.output()).toContain('PAP peer authentication failed for ********');
    expect(p.output()).not.toContain(SECRET);
    expect(await readFile(join(stateDir, 'exlink.json'), 'utf8')).not.toContain(SECRET);
  });
});
