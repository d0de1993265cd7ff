/**
 * The profile commands at the edges a new user meets first (issue 14): the starter profile as its
 * comments promise, warnings for its placeholder password, "did you mean", numbers that should be
 * text, `check --json`, `check` of a bridge: line against a real TCP listener, `remove --dry-run`,
 * no empty files left by `remove`, and `check` run by someone who is not root. Real CLI processes.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { laplink } from '../helpers/bridge.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'laplink-edges-'));
  fs.chmodSync(d, 0o755); // readable by the unprivileged user of the not-root case
  dirs.push(d);
  return d;
}

const run = (args: string[], opts: { user?: string } = {}) =>
  opts.user
    ? execa('runuser', ['-u', opts.user, '--', process.execPath, laplink, ...args], { reject: false })
    : execa(process.execPath, [laplink, ...args], { reject: false });

/** `laplink init` output, with the line of the cable swapped for `bridge: ADDRESS`. */
async function starterOverTcp(dir: string, address: string, role: 'server' | 'client' = 'client'): Promise<string> {
  const init = await run(['init', '--role', role]);
  expect(init.exitCode).toBe(0);
  const file = path.join(dir, `${role}.yaml`);
  fs.writeFileSync(file, init.stdout.replace(/^device: .*$/m, `bridge: ${address}`), { mode: 0o644 });
  return file;
}

async function listener(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function deadPort(): Promise<number> {
  const l = await listener();
  await l.close();
  return l.port;
}

describe('the starter profile works as its comments say', () => {
  it('with device: swapped for bridge: it is valid (flow defaults to none); check tries the TCP address and warns about change-me', async () => {
    const dir = tempDir();
    const tcp = await listener();
    try {
      const file = await starterOverTcp(dir, `127.0.0.1:${tcp.port}`);
      expect(fs.readFileSync(file, 'utf8')).toMatch(/^# flow: none$/m);
      const r = await run(['check', file, '--root', dir, '--lock-dir', dir]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`ok   bridge: 127.0.0.1:${tcp.port} accepts TCP connections`);
      expect(r.stdout).toContain('warn profile: auth.password is still change-me, the starter\'s placeholder; set a secret of your own');
    } finally {
      await tcp.close();
    }
  });

  it('check warns (not fails) when nothing listens at the bridge: address, naming the reason', async () => {
    const dir = tempDir();
    const port = await deadPort();
    const file = await starterOverTcp(dir, `127.0.0.1:${port}`);
    const r = await run(['check', file, '--root', dir, '--lock-dir', dir]);
    expect(r.stdout).toContain(`warn bridge: 127.0.0.1:${port}: connection refused (is laplink bridge serve running there?)`);
    expect(r.stdout).not.toMatch(/^FAIL bridge/m);
  });

  it('generate warns about change-me on stderr (one line naming file and field) and still writes', async () => {
    const dir = tempDir();
    const file = await starterOverTcp(dir, '127.0.0.1:4001', 'server');
    const r = await run(['generate', file, '--root', dir]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([`laplink: warning: ${file}: auth.users[0].password is still change-me, the starter's placeholder; set a secret of your own`]);
    expect(fs.existsSync(path.join(dir, 'etc/ppp/peers/laplink-server'))).toBe(true);
  });

  it('an unknown field gets "did you mean", a numeric password is told to be quoted; one line each, exit 2', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'typo.yaml');
    const text = (await run(['init', '--role', 'client'])).stdout.replace(/^device:/m, 'devise:').replace(/password: change-me/, 'password: 1234');
    fs.writeFileSync(file, text);
    const r = await run(['check', file]);
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.find((l) => l.includes('devise'))).toMatch(new RegExp(`^(laplink: )?${file}:\\d+:1: devise: unknown field, did you mean device\\? \\(allowed: `));
    expect(lines.find((l) => l.includes('auth.password'))).toMatch(new RegExp(`^(laplink: )?${file}:\\d+:\\d+: auth.password: YAML reads this as a number; put it in quotes to make it text \\(allowed: a string\\)$`));
    expect(r.stderr).not.toContain('1234'); // a secret is never echoed
  });
});

describe('symmetry: check --json, remove --dry-run, remove leaves no empty files', () => {
  it('check --json prints the same checks as JSON with the same exit status', async () => {
    const dir = tempDir();
    const port = await deadPort();
    const file = await starterOverTcp(dir, `127.0.0.1:${port}`);
    const text = await run(['check', file, '--root', dir, '--lock-dir', dir]);
    const json = await run(['check', file, '--root', dir, '--lock-dir', dir, '--json']);
    expect(json.exitCode).toBe(text.exitCode);
    const parsed = JSON.parse(json.stdout) as { profile: string; ok: boolean; checks: Array<{ level: string; what: string; detail: string }> };
    expect(parsed.profile).toBe(file);
    expect(parsed.ok).toBe(text.exitCode === 0);
    expect(parsed.checks.map((c) => `${c.level.padEnd(4)} ${c.what}: ${c.detail}`)).toEqual(text.stdout.trim().split('\n'));
  });

  it('remove --dry-run says what would go and touches nothing; remove then leaves no empty pap-secrets or options.TTY', async () => {
    const dir = tempDir();
    const init = await run(['init', '--role', 'server']);
    const file = path.join(dir, 'server.yaml');
    fs.writeFileSync(file, init.stdout.replace('password: change-me', 'password: s3cret-enough'));
    expect((await run(['generate', file, '--root', dir])).exitCode).toBe(0);
    const before = listFiles(dir);
    expect(before).toContain('etc/ppp/pap-secrets');
    expect(before).toContain('etc/ppp/options.ttyS0');

    const dry = await run(['remove', file, '--root', dir, '--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^would be removed ${path.join(dir, 'etc/ppp/peers/laplink-server')}$`, 'm'));
    expect(dry.stdout).toMatch(new RegExp(`^would be removed ${path.join(dir, 'etc/ppp/pap-secrets')} \\(held only this link\\)$`, 'm'));
    expect(dry.stdout).toContain('(secrets file: '); // summarised, never shown
    expect(dry.stdout).not.toContain('s3cret-enough');
    expect(listFiles(dir)).toEqual(before);

    const rm = await run(['remove', file, '--root', dir]);
    expect(rm.exitCode).toBe(0);
    // nothing stays: the template units shared by every link went with the last one
    expect(listFiles(dir).filter((f) => f.startsWith('etc/'))).toEqual([]);
  });
});

describe('not root', () => {
  it('check says pppd is only usable by root or group dip, in one line, never an internal error', async () => {
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      const probe = await execa('runuser', ['--version'], { reject: false });
      expect(probe.exitCode, 'runuser (util-linux) is needed to run check as an unprivileged user').toBe(0);
    }
    const dir = tempDir();
    const file = await starterOverTcp(dir, `127.0.0.1:${await deadPort()}`);
    const r = await run(['check', file, '--lock-dir', dir], asRoot ? { user: 'nobody' } : {});
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stdout).toContain('FAIL pppd: /usr/sbin/pppd is only usable by root or group dip (run laplink as root, or adduser ');
    expect(r.exitCode).toBe(1);
  });
});

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}
