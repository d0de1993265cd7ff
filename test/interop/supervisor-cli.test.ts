/**
 * `laplink serve/status/stop` as processes. The first test runs the REAL /usr/sbin/pppd (this
 * kernel has no PPP: it exits 4). The others use test/helpers/fake-pppd.mjs, a STAND-IN replaying
 * real pppd log lines, because a negotiated link cannot exist on this machine.
 * Needs a fresh build (`npm test` builds first).
 */
import { execa, type ResultPromise } from 'execa';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readStateFile, type LinkStatus } from '../../src/pppd/state.js';
import { cpuLoad } from '../helpers/cpu-load.js';
import { fakePppd, laplinkBin, procAlive, procChildren, profileYaml, removeDir, starts, tempDir, processReaper } from '../helpers/supervisor-harness.js';

const SECRET = 'Sup3rSecretPW';
let dir = '';
const { children, strayPids, reap } = processReaper();
afterEach(async () => {
  await reap();
  await removeDir(dir);
});

async function setup(extra = ''): Promise<{ profile: string; stateDir: string }> {
  dir = await tempDir('laplink-cli-');
  const profile = join(dir, 'link.yaml');
  await writeFile(profile, profileYaml('clilink', extra));
  return { profile, stateDir: join(dir, 'state') };
}

function serve(profile: string, stateDir: string, env: Record<string, string>, more: string[] = []): ResultPromise & { output: () => string } {
  let output = '';
  const p = execa('node', [laplinkBin, 'serve', profile, '--root', join(dir, 'root'), '--state-dir', stateDir, '--lock-dir', join(dir, 'lock'), '--run-dir', join(dir, 'run'), '--pppd', fakePppd, ...more], {
    env: { FAKE_PPPD_STATE: join(dir, 'starts'), ...env },
    reject: false,
    buffer: false,
    stdin: 'ignore',
  });
  p.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  p.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  children.push(p);
  return Object.assign(p, { output: () => output });
}

async function until<T>(what: string, get: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stateIs = (stateDir: string, pred: (s: LinkStatus) => boolean) => async () => {
  const s = await readStateFile(stateDir, 'clilink').catch(() => undefined);
  return s && pred(s) ? s : undefined;
};

const status = async (stateDir: string, ...args: string[]) => (await execa('node', [laplinkBin, 'status', ...args, '--state-dir', stateDir], { reject: false })).stdout;

describe('laplink serve with the real pppd (no kernel PPP here)', () => {
  it('reports "no kernel PPP support" with the remedy and starts pppd once only', async () => {
    const { profile, stateDir } = await setup();
    const r = await execa('node', [laplinkBin, 'serve', profile, '--root', join(dir, 'root'), '--state-dir', stateDir, '--pppd', '/usr/sbin/pppd', '--backoff-initial', '10'], { reject: false });
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/pppd exited 4 \(no kernel PPP support\): load the kernel modules ppp_generic, ppp_async and slhc .*\/dev\/ppp.* — not restarting/);
    expect(r.stderr.match(/started pppd/g)?.length).toBe(1);
    expect(r.stderr).toContain('pppd: ');
    const s = await readStateFile(stateDir, 'clilink');
    expect(s).toMatchObject({ state: 'failed', restarts: 0, lastExit: { code: 4, meaning: 'no kernel PPP support' } });
    expect(await status(stateDir)).toMatch(/clilink +failed .* 4 no kernel PPP support +0/);
  });
});

describe('laplink serve with the stand-in pppd', () => {
  it('SIGTERM: pppd and its child gone (checked in /proc), exit 0, state stopped; no secret in the log', async () => {
    const { profile, stateDir } = await setup();
    const p = serve(profile, stateDir, { FAKE_PPPD_SCENARIO: 'up-hold', FAKE_PPPD_CHILD: '1', FAKE_PPPD_SECRET: SECRET });
    const up = await until('link up', stateIs(stateDir, (s) => s.state === 'up'));
    const upTable = await status(stateDir, 'clilink');
    expect(upTable).toMatch(/clilink +up +.*ppp0 +192\.168\.7\.1 +192\.168\.7\.2 +labuser +- +0/);
    const json = JSON.parse(await status(stateDir, 'clilink', '--json')) as LinkStatus & { stale: boolean };
    expect(json).toMatchObject({ state: 'up', pppdPid: up.pppdPid, supervisorPid: p.pid, stale: false });
    const kids = await procChildren(up.pppdPid!);
    expect(kids.length).toBe(1);
    p.kill('SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    for (const pid of [p.pid!, up.pppdPid!, ...kids]) expect(await procAlive(pid), `pid ${pid}`).toBe(false);
    expect((await readStateFile(stateDir, 'clilink'))?.state).toBe('stopped');
    expect(p.output()).toContain('password="********"');
    expect(p.output()).not.toContain(SECRET);
    expect(await readFile(join(stateDir, 'clilink.json'), 'utf8')).not.toContain(SECRET);
    expect(await status(stateDir)).toMatch(/clilink +stopped .* 5 stopped by a signal/);
  });

  it('laplink connect without --persist makes one call and exits with pppd\'s status', async () => {
    const { profile, stateDir } = await setup();
    await writeFile(profile, profileYaml('clilink').replace('role: server', 'role: client').replace(/auth:[\s\S]*?(?=systemd)/, 'auth:\n  user: labuser\n  password: Sup3rSecretPW\n'));
    const r = await execa('node', [laplinkBin, 'connect', profile, '--root', join(dir, 'root'), '--state-dir', stateDir, '--pppd', fakePppd], { reject: false, env: { FAKE_PPPD_SCENARIO: 'up-hangup', FAKE_PPPD_STATE: join(dir, 'starts') } });
    expect(r.exitCode).toBe(16);
    expect(r.stderr).toContain('call ended: pppd exited 16 (line hung up)');
    expect((await starts(dir)).length).toBe(1);
    expect(await status(stateDir)).toMatch(/clilink +done .* 16 line hung up +0/);
  });

  it('a password kept in auth.passwordFile is masked in the log and the state file like an inline one', async () => {
    const { profile, stateDir } = await setup();
    const root = join(dir, 'root');
    const secret = 'Fi1eSecretPW';
    await mkdir(join(root, 'etc/laplink'), { recursive: true });
    await writeFile(join(root, 'etc/laplink/secret'), `${secret}\n`, { mode: 0o600 });
    await writeFile(profile, profileYaml('clilink').replace('role: server', 'role: client').replace(/auth:[\s\S]*?(?=systemd)/, 'auth:\n  user: labuser\n  passwordFile: /etc/laplink/secret\n'));
    const r = await execa('node', [laplinkBin, 'connect', profile, '--root', root, '--state-dir', stateDir, '--pppd', fakePppd], { reject: false, env: { FAKE_PPPD_SCENARIO: 'up-hangup', FAKE_PPPD_SECRET: secret, FAKE_PPPD_STATE: join(dir, 'starts') } });
    expect(r.exitCode).toBe(16);
    expect(r.stderr).toContain('password="********"');
    expect(r.stderr).not.toContain(secret);
    expect(await readFile(join(stateDir, 'clilink.json'), 'utf8')).not.toContain(secret);
  });

  it('laplink stop NAME signals the supervisor and waits for it', async () => {
    const { profile, stateDir } = await setup();
    const p = serve(profile, stateDir, { FAKE_PPPD_SCENARIO: 'up-hold' });
    const up = await until('link up', stateIs(stateDir, (s) => s.state === 'up'));
    // a second supervisor for the same link refuses to start (never two pppds on one line)
    const second = await execa('node', [laplinkBin, 'serve', profile, '--root', join(dir, 'root'), '--state-dir', stateDir, '--pppd', fakePppd], { reject: false, env: { FAKE_PPPD_STATE: join(dir, 'starts') } });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(`laplink: link clilink is already supervised by pid ${p.pid}`);
    expect((await starts(dir)).length).toBe(1);
    const r = await execa('node', [laplinkBin, 'stop', 'clilink', '--state-dir', stateDir], { reject: false });
    expect(r.stdout).toBe('clilink: stopped');
    expect(await procAlive(p.pid!)).toBe(false);
    expect(await procAlive(up.pppdPid!)).toBe(false);
  });

  it('profile reload: an invalid change keeps the link; a valid one is applied at the next link-down', async () => {
    const { profile, stateDir } = await setup();
    const p = serve(profile, stateDir, { FAKE_PPPD_SCENARIO: 'up-hold' });
    const up = await until('link up', stateIs(stateDir, (s) => s.state === 'up'));
    const peers = join(dir, 'root/etc/ppp/peers/clilink');
    expect(await readFile(peers, 'utf8')).toContain('192.168.7.1:192.168.7.2');
    await writeFile(profile, profileYaml('clilink').replace('speed', 'x').replace('localIp: 192.168.7.1', 'localIp: 192.168.7.300'));
    await until('rejection logged', () => /profile change rejected, keeping the running link: .*localIp/.test(p.output()));
    expect((await readStateFile(stateDir, 'clilink'))?.pppdPid).toBe(up.pppdPid);
    await writeFile(profile, profileYaml('clilink').replace('localIp: 192.168.7.1', 'localIp: 192.168.7.11'));
    await until('pending apply logged', () => p.output().includes('will apply at the next link-down'));
    expect(await readFile(peers, 'utf8')).toContain('192.168.7.1:192.168.7.2');
    process.kill(up.pppdPid!, 'SIGHUP'); // the stand-in hangs up like pppd on SIGHUP (exit 16)
    await until('relaunched', stateIs(stateDir, (s) => s.state === 'up' && s.restarts === 1));
    expect(await readFile(peers, 'utf8')).toContain('192.168.7.11:192.168.7.2');
    expect(p.output()).toContain('profile applied');
  });

  it('SIGHUP while backing off applies the profile at once; the edit and the SIGHUP are one change', async () => {
    const { profile, stateDir } = await setup();
    const p = serve(profile, stateDir, { FAKE_PPPD_SEQUENCE: 'exit:8,up-hold' }, ['--backoff-initial', '600000']);
    await until('backoff', stateIs(stateDir, (s) => s.state === 'backoff'));
    const backoffTable = await status(stateDir);
    expect(backoffTable).toMatch(/clilink +backoff .* 8 connect script failed +1/);
    expect(backoffTable).toMatch(/next try \d\d:\d\d:\d\d/);
    await writeFile(profile, profileYaml('clilink').replace('localIp: 192.168.7.1', 'localIp: 192.168.7.12'));
    p.kill('SIGHUP');
    await until('up after reload', stateIs(stateDir, (s) => s.state === 'up'));
    expect(await readFile(join(dir, 'root/etc/ppp/peers/clilink'), 'utf8')).toContain('192.168.7.12:');
    // A second edit, an invalid one, seen by the watch alone: once its rejection is logged, the
    // first edit's own watch event (it came before) has been handled too. The first edit was one
    // change, logged once, whichever of the watch and the SIGHUP came first.
    await writeFile(profile, profileYaml('clilink').replace('localIp: 192.168.7.1', 'localIp: 192.168.7.300'));
    await until('second edit seen', () => p.output().includes('profile change rejected'));
    expect(p.output().match(/profile changed/g)).toHaveLength(1);
  });

  it('orphan adoption: after kill -9 of the supervisor, the next one adopts the running pppd, then respawns when it ends', async () => {
    const { profile, stateDir } = await setup();
    const first = serve(profile, stateDir, { FAKE_PPPD_SCENARIO: 'up-hold' });
    const up = await until('link up', stateIs(stateDir, (s) => s.state === 'up'));
    strayPids.push(up.pppdPid!);
    first.kill('SIGKILL');
    await first;
    expect(await procAlive(up.pppdPid!)).toBe(true);
    expect(await status(stateDir)).toContain(`stale (was up; supervisor ${first.pid} gone)`);
    const second = serve(profile, stateDir, { FAKE_PPPD_SCENARIO: 'up-hold' });
    const adopted = await until('adopted', stateIs(stateDir, (s) => s.adopted === true && s.supervisorPid === second.pid));
    expect(adopted).toMatchObject({ state: 'up', pppdPid: up.pppdPid, localIp: '192.168.7.1' });
    expect(await status(stateDir)).toMatch(/clilink +up \(adopted\)/);
    expect((await starts(dir)).length).toBe(1); // never two pppds on one line
    process.kill(up.pppdPid!, 'SIGTERM');
    const again = await until('respawned', stateIs(stateDir, (s) => s.state === 'up' && !s.adopted && s.pppdPid !== up.pppdPid));
    expect((await starts(dir)).length).toBe(2);
    second.kill('SIGTERM');
    await second;
    expect(await procAlive(again.pppdPid!)).toBe(false);
  });

  it('--orphan end ends the left-over pppd before starting a new one', async () => {
    const { profile, stateDir } = await setup();
    const first = serve(profile, stateDir, { FAKE_PPPD_SCENARIO: 'up-hold' });
    const up = await until('link up', stateIs(stateDir, (s) => s.state === 'up'));
    strayPids.push(up.pppdPid!);
    first.kill('SIGKILL');
    await first;
    const second = serve(profile, stateDir, { FAKE_PPPD_SCENARIO: 'up-hold' }, ['--orphan', 'end']);
    await until('new pppd up', stateIs(stateDir, (s) => s.state === 'up' && s.supervisorPid === second.pid && s.pppdPid !== up.pppdPid));
    expect(await procAlive(up.pppdPid!)).toBe(false);
    expect(second.output()).toContain(`ending pppd pid ${up.pppdPid} left by a previous supervisor`);
  });

  it('status shows waiting-for-device and paused (too fast) in words', async () => {
    const { profile, stateDir } = await setup();
    serve(profile, stateDir, { FAKE_PPPD_SCENARIO: 'up-hold' }, ['--device', join(dir, 'ttyX')]);
    await until('waiting', stateIs(stateDir, (s) => s.state === 'waiting-for-device'));
    expect(await status(stateDir)).toMatch(new RegExp(`clilink +waiting-for-device[\\s\\S]*waiting for ${join(dir, 'ttyX')} to appear`));
    for (const c of children.splice(0)) {
      c.kill('SIGTERM');
      await c;
    }
    const p = serve(profile, stateDir, { FAKE_PPPD_SCENARIO: 'exit:16' }, ['--too-fast-starts', '3']);
    await until('paused', stateIs(stateDir, (s) => s.state === 'paused'));
    expect(await status(stateDir)).toMatch(/clilink +paused .* 16 line hung up +3\nclilink: pppd respawning too fast \(3 starts in 120 s\)/);
    expect(p.output()).toContain('respawning too fast');
  });
});

describe('laplink serve notices every save of its profile, with two CPU-bound processes beside', () => {
  let load: { stop(): Promise<void> } | undefined;
  afterEach(async () => {
    await load?.stop();
    load = undefined;
  });

  const SAVES = 6;
  const saves: Record<string, (profile: string, text: string) => Promise<void>> = {
    // what editors and atomic writers do: a new file, renamed over the old one
    rename: async (profile, text) => {
      await writeFile(`${profile}.tmp`, text);
      await rename(`${profile}.tmp`, profile);
    },
    // coreutils install(1): unlinks the old file, creates a new one, writes it, sets its mode
    install: async (profile, text) => {
      await writeFile(`${profile}.new`, text);
      await execa('install', ['-m', '0644', `${profile}.new`, profile]);
    },
    // `cat > profile`, a plain writeFile: truncate, then write, on the same inode
    'in place': (profile, text) => writeFile(profile, text),
  };

  for (const [how, save] of Object.entries(saves)) {
    it(`saved by ${how}: each save is one change, none missed`, async () => {
      const { profile, stateDir } = await setup();
      const p = serve(profile, stateDir, { FAKE_PPPD_SCENARIO: 'up-hold' });
      await until('link up', stateIs(stateDir, (s) => s.state === 'up'));
      load = cpuLoad(2);
      const seen = () => p.output().match(/profile changed: will apply at the next link-down/g)?.length ?? 0;
      for (let i = 1; i <= SAVES; i++) {
        await save(profile, profileYaml('clilink').replace('localIp: 192.168.7.1', `localIp: 192.168.7.${10 + i}`));
        await until(`save ${i} of ${SAVES} noticed`, () => seen() >= i);
      }
      expect(seen()).toBe(SAVES);
      expect(p.output()).not.toContain('rejected');
      await load.stop();
      // the last save is the one applied at the next link-down
      const up = await until('up', stateIs(stateDir, (s) => s.state === 'up'));
      process.kill(up.pppdPid!, 'SIGHUP');
      await until('relaunched', stateIs(stateDir, (s) => s.state === 'up' && s.restarts === 1));
      expect(await readFile(join(dir, 'root/etc/ppp/peers/clilink'), 'utf8')).toContain(`192.168.7.${10 + SAVES}:`);
    });
  }
});
