/**
 * The generated systemd units, checked by systemd's own `systemd-analyze verify` (Debian package
 * `systemd`): the template laplink@.service with each link's drop-in (server: serve, client:
 * connect --persist), and laplink-bridge@.service. This machine does not run systemd as init (PID 1
 * is not systemd here), so nothing is started; verify still parses every file, resolves the
 * instance and its drop-ins, and checks that ExecStart's program exists (the node that runs these
 * tests). Any warning it prints fails the test, not only its exit status.
 * Also: `remove` of one link keeps the template the other link uses; an old per-link unit of ours
 * is replaced, someone else's is left alone.
 */
import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { laplinkBin } from '../helpers/supervisor-harness.js';

const ANALYZE = '/usr/bin/systemd-analyze';
const work = mkdtempSync(join(tmpdir(), 'laplink-units-'));
const root = join(work, 'root');
const units = join(root, 'etc/systemd/system');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const pid1 = existsSync('/proc/1/comm') ? readFileSync('/proc/1/comm', 'utf8').trim() : 'unknown';
const laplink = (...args: string[]) => execa(process.execPath, [laplinkBin, ...args], { reject: false });

/** `systemd-analyze verify` of unit names resolved in the generated directory; its whole output. */
async function verify(...names: string[]): Promise<{ exitCode: number | undefined; output: string }> {
  expect(existsSync(ANALYZE), `${ANALYZE} is missing: apt-get install systemd (the tool only; it need not run as init)`).toBe(true);
  const r = await execa(ANALYZE, ['verify', '--man=no', ...names.map((n) => join(units, n))], { reject: false, all: true });
  return { exitCode: r.exitCode, output: r.all ?? '' };
}

function profile(name: string, body: string): string {
  const path = join(work, `${name}.yaml`);
  writeFileSync(path, `name: ${name}\n${body}localIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth:\n  require: none\n`);
  return path;
}

const server = profile('srv', 'role: server\ndevice: /dev/ttyS0\n');
const client = profile('cli', 'role: client\nbridge: 127.0.0.1:4001\nflow: none\n');

describe(`systemd units (systemd-analyze verify; PID 1 here is "${pid1}", not systemd: nothing is started)`, () => {
  it('generate writes the template units and one drop-in per link with its supervisor command', async () => {
    for (const p of [server, client]) {
      const r = await laplink('generate', '--root', root, p);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    expect(readdirSync(units).sort()).toEqual(['laplink-bridge@.service', 'laplink@.service', 'laplink@cli.service.d', 'laplink@srv.service.d']);
    expect(readFileSync(join(units, 'laplink@srv.service.d/profile.conf'), 'utf8')).toContain(`Environment=LAPLINK_SUPERVISOR=serve LAPLINK_PROFILE=${server}\n`);
    expect(readFileSync(join(units, 'laplink@cli.service.d/profile.conf'), 'utf8')).toContain(`Environment=LAPLINK_SUPERVISOR=connect LAPLINK_PROFILE=${client}\n`);
    const template = readFileSync(join(units, 'laplink@.service'), 'utf8');
    for (const line of ['Type=notify', 'WatchdogSec=30', 'ExecReload=/bin/kill -HUP $MAINPID', 'RestartPreventExitStatus=78', 'Environment=LAPLINK_SUPERVISOR=serve LAPLINK_PROFILE=/etc/laplink/%i.yaml']) {
      expect(template.split('\n')).toContain(line);
    }
    expect(template).toMatch(/^ExecStart=\/\S+ \/\S+\/bin\/laplink(\.js)? \$\{LAPLINK_SUPERVISOR\} --persist \$\{LAPLINK_PROFILE\}$/m);
  });

  it('every generated unit passes systemd-analyze verify, with no warning', async () => {
    const r = await verify('laplink@srv.service', 'laplink@cli.service', 'laplink-bridge@lab.service');
    expect(r.output).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('verify is a real check here: a broken drop-in and a missing program are reported', async () => {
    const dropIn = join(units, 'laplink@cli.service.d/broken.conf');
    writeFileSync(dropIn, '[Service]\nTyp=notify\nExecStartPre=/nonexistent/laplink-pre\n');
    try {
      const r = await verify('laplink@cli.service');
      expect(r.output).toMatch(/Unknown key 'Typ'/);
      expect(r.output).toMatch(/\/nonexistent\/laplink-pre is not executable/);
      expect(r.exitCode).not.toBe(0);
    } finally {
      rmSync(dropIn);
    }
  });

  it('remove of one link keeps the shared template for the other, which still verifies', async () => {
    const r = await laplink('remove', '--root', root, server);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^kept +\S+\/laplink@\.service \(shared by every link\)$/m);
    expect(readdirSync(units).sort()).toEqual(['laplink-bridge@.service', 'laplink@.service', 'laplink@cli.service.d']);
    const v = await verify('laplink@cli.service');
    expect(v.output).toBe('');
    expect(v.exitCode).toBe(0);
  });

  it('an old laplink-NAME.service of ours is replaced by laplink@NAME; a foreign one is kept', async () => {
    await mkdir(units, { recursive: true });
    writeFileSync(join(units, 'laplink-srv.service'), '# Generated by ppp-laplink for link srv; `laplink remove` deletes it.\n[Service]\nExecStart=/bin/true\n');
    writeFileSync(join(units, 'laplink-cli.service'), '# my own unit\n[Service]\nExecStart=/bin/true\n');
    const a = await laplink('generate', '--root', root, server);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/^removed +\S+\/laplink-srv\.service$/m);
    expect(a.stderr).toContain('systemctl disable --now laplink-srv.service');
    expect(existsSync(join(units, 'laplink-srv.service'))).toBe(false);
    const b = await laplink('generate', '--root', root, client);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(readFileSync(join(units, 'laplink-cli.service'), 'utf8')).toBe('# my own unit\n[Service]\nExecStart=/bin/true\n');
  });
});
