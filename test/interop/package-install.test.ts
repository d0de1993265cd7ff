/**
 * The package as a user gets it: `npm pack` of a copy of this checkout (its `prepack` compiles src/
 * and builds the native pump into prebuilds/), `npm install -g --prefix DIR` of that tarball into an
 * empty prefix with install scripts off, then DIR/bin/laplink run for real: --version, init,
 * generate --root (the generated connect/pty/ExecStart name DIR/bin/laplink, the link npm keeps
 * across upgrades), one chat run on a socat pty pair, one `bridge serve` transfer carried by the
 * packaged native pump, and what needs the packaged addon's system calls: `serve` notifying systemd
 * (a python3 AF_UNIX datagram socket stands where systemd's is) and `status`/`check` reading the
 * line's counters (a pty: the kernel answers that it keeps none). `serve` runs the pppd STAND-IN
 * test/helpers/fake-pppd.mjs: this kernel has no PPP. The package has no runtime dependency, so
 * the install needs no registry.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, cpSync, existsSync, lstatSync, openSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTcp, openTty, randomPayload, sha256 } from '../helpers/driver.js';
import { ask, bothWays, linkUp, openControl, waitUntil } from '../helpers/bridge.js';
import { freePort } from '../helpers/bridge-processes.js';
import { ptyPair, startPeer } from '../helpers/chat-harness.js';
import { notifySocket } from '../helpers/notify-socket.js';
import { fakePppd, profileYaml } from '../helpers/supervisor-harness.js';

const checkout = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'laplink-pkg-'));
const prefix = join(work, 'prefix');
const bin = join(prefix, 'bin', 'laplink');
const version = (JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { version: string }).version;
let packed: Array<{ path: string }> = [];

/** What the package is made of: the product, never tests, lab, bench or fuzz (those stay in the copy). */
const PRODUCT = ['bin', 'src', 'native', 'scripts', 'templates', 'web', 'docs', 'examples', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.pack.json', 'README.md', 'LICENSE'];

beforeAll(async () => {
  const src = join(work, 'src');
  mkdirSync(src);
  for (const entry of PRODUCT) cpSync(join(checkout, entry), join(src, entry), { recursive: true });
  // The copy has no dist/ at all: only `prepack` can have produced what the tarball holds.
  symlinkSync(realpathSync(join(checkout, 'node_modules')), join(src, 'node_modules'));
  const pack = await execa('npm', ['pack', '--json', '--pack-destination', work], { cwd: src, reject: false });
  expect(pack.exitCode, `npm pack failed: ${pack.stderr}`).toBe(0);
  const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packed = info!.files;
  // --ignore-scripts: the proof holds whatever npm's default (npm 11 already skips dependencies'
  // install scripts in a global install); nothing may depend on one.
  const install = await execa('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(work, info!.filename)], { reject: false });
  expect(install.exitCode, `npm install -g failed: ${install.stderr}`).toBe(0);
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const laplink = (args: string[]) => execa(bin, args, { reject: false });

/** Bytes of every file under dir (as `du -b` counts them, symlinks not followed). */
function treeBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => {
    const path = join(dir, e.name);
    return sum + (e.isDirectory() ? treeBytes(path) : lstatSync(path).size);
  }, 0);
}

describe('npm package (packed, installed with npm install -g --prefix)', () => {
  it('holds the built JavaScript, templates, bin, README, the linux-x64 addon and the serialport binding for Linux, and nothing else', () => {
    const paths = packed.map((f) => f.path);
    expect(paths).toContain('bin/laplink.js');
    expect(paths).toContain('dist/bundle/main.js');
    expect(paths).toContain('dist/bundle/chat.js');
    expect(paths).toContain('dist/bundle/config-worker.js');
    expect(paths).toContain('templates/ppp/peers');
    expect(paths).toContain('README.md');
    expect(paths).toContain('prebuilds/linux-x64/pump.node');
    expect(paths, 'the cross-built addon (is aarch64-linux-gnu-gcc from debian-packages.txt installed?)').toContain('prebuilds/linux-arm64/pump.node');
    expect(paths).toContain('LICENSE');
    expect(paths).toContain('docs/dialup.md');
    expect(paths).toContain('examples/dialup-server.yaml');
    expect(paths).toContain('web/console.js');
    expect(paths).toContain('dist/web/vendor/xterm.mjs');
    // the binding's .node files for Linux only (bundled JavaScript loads them), with its licence
    const binding = paths.filter((p) => p.startsWith('dist/serialport/'));
    expect(binding).toContain('dist/serialport/LICENSE');
    expect(binding).toContain('dist/serialport/prebuilds/linux-x64/@serialport+bindings-cpp.glibc.node');
    expect(binding.filter((p) => p !== 'dist/serialport/LICENSE' && !/^dist\/serialport\/prebuilds\/linux-(x64|arm64|arm)\/@serialport\+bindings-cpp\.[a-z0-9.]+\.node$/.test(p))).toEqual([]);
    const strays = paths.filter((p) => !/^(bin\/|dist\/bundle\/[^/]+\.js$|dist\/serialport\/|web\/[^/]+\.(html|js|css)$|dist\/web\/vendor\/[^/]+$|templates\/|prebuilds\/|docs\/[^/]+\.md$|docs\/img\/[^/]+\.png$|examples\/[^/]+\.yaml$|examples\/prometheus\/[^/]+\.yml$|README\.md$|LICENSE$|package\.json$)/.test(p));
    expect(strays).toEqual([]);
    expect(paths.filter((p) => /(^|\/)(test|lab|bench|fuzz|fixtures)\//.test(p) || p.endsWith('.ts'))).toEqual([]);
  });

  it('installs lean: no runtime dependency at all, under 5 MB in all', async () => {
    const pkg = join(prefix, 'lib/node_modules/ppp-laplink');
    // everything the code uses is bundled (scripts/bundle.mjs) or built into the addon: devDependencies
    expect((JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { dependencies?: unknown }).dependencies).toBeUndefined();
    expect(existsSync(join(pkg, 'node_modules'))).toBe(false);
    // measured 3.3 MB (ppp-laplink 2.2 MB, the binding's Linux .node files 1 MB); 9.2 MB with koffi
    // (4.2 MB with its linux-x64 package) and the binding's npm package (2.8 MB with its
    // dependencies: prebuilds of every platform, node-addon-api's build headers)
    const bytes = treeBytes(pkg);
    expect(bytes, `${(bytes / 1e6).toFixed(2)} MB installed`).toBeLessThan(5 * 1000 * 1000);
  });

  it('the linux-arm64 addon is an AArch64 Node-API module with the system calls (built, not run: no arm64 here)', async () => {
    const file = join(prefix, 'lib/node_modules/ppp-laplink/prebuilds/linux-arm64/pump.node');
    const header = await execa('readelf', ['--file-header', file]);
    expect(header.stdout).toMatch(/Class:\s+ELF64/);
    expect(header.stdout).toMatch(/Type:\s+DYN/);
    expect(header.stdout).toMatch(/Machine:\s+AArch64/);
    expect((await execa('readelf', ['--dyn-syms', '--wide', file])).stdout).toMatch(/ FUNC +GLOBAL +DEFAULT +\d+ napi_register_module_v1$/m);
    const bytes = readFileSync(file);
    for (const name of ['openPty', 'sendDatagram', 'serialCounters', 'start', 'stop']) expect(bytes.includes(`${name}\0`), name).toBe(true);
  });

  it('the README inside the package links only to files the package holds', () => {
    const pkg = join(prefix, 'lib/node_modules/ppp-laplink');
    const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(((?:docs|examples)\/[^)#\s]+)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((l) => !existsSync(join(pkg, l)))).toEqual([]);
    // no repository URL until there is a real one (the one named did not exist)
    expect((JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { repository?: unknown }).repository).toBeUndefined();
    expect(readFileSync(join(pkg, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the ppp-laplink authors\n/);
  });

  it('--version', async () => {
    const r = await laplink(['--version']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('init writes a starter profile', async () => {
    const out = join(work, 'init.yaml');
    const r = await laplink(['init', '--role', 'server', '--output', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^role: server/m);
  });

  it('generate --root: connect, pty and ExecStart run the installed bin/laplink link, not a versioned path', async () => {
    const root = join(work, 'root');
    const profile = join(work, 'pkgtest.yaml');
    writeFileSync(profile, 'name: pkgtest\nrole: client\npeer: windows\nbridge: 127.0.0.1:4001\nflow: none\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\nauth:\n  require: none\n');
    const r = await laplink(['generate', '--root', root, profile]);
    expect(r.exitCode, r.stderr).toBe(0);
    const peers = readFileSync(join(root, 'etc/ppp/peers/pkgtest'), 'utf8');
    const node = realpathSync(process.execPath);
    expect(peers).toContain(`connect "${node} ${bin} chat -v -s -f /etc/ppp/chat/pkgtest"`);
    expect(peers).toContain(`pty "${node} ${bin} bridge stdio 127.0.0.1:4001"`);
    const unit = readFileSync(join(root, 'etc/systemd/system/laplink@.service'), 'utf8');
    expect(unit).toContain(`\nExecStart=${node} ${bin} \${LAPLINK_SUPERVISOR} --persist \${LAPLINK_PROFILE}\n`);
    expect(readFileSync(join(root, 'etc/systemd/system/laplink-bridge@.service'), 'utf8')).toContain(`\nExecStart=${node} ${bin} bridge run /etc/laplink/bridge/%i.yaml\n`);
    expect(`${peers}${unit}`).not.toContain('node_modules');
  });

  it('chat: one expect/send exchange on a pty pair', async () => {
    const p = await ptyPair();
    try {
      // As pppd runs a connect program: the line is fds 0 and 1, one open file description.
      const fd = openSync(p.a, 'r+');
      const peer = startPeer(p.b, [{ wait: 'AT\r' }, { send: 'OK\r\n' }]);
      const child = spawn(bin, ['chat', '-t', '10', '', 'AT', 'OK', 'ATD\\c'], { stdio: [fd, fd, 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const [code] = (await once(child, 'close')) as [number | null];
      peer.stop();
      closeSync(fd);
      expect(code, stderr).toBe(0);
      expect(peer.received().toString('latin1')).toBe('AT\rATD');
    } finally {
      await p.close();
    }
  });

  it('bridge serve moves bytes through the packaged native pump', async () => {
    const p = await ptyPair();
    const port = await freePort();
    const control = await freePort();
    const lockDir = mkdtempSync(join(work, 'lock-'));
    const serve = execa(bin, ['bridge', 'serve', p.a, '--listen', `127.0.0.1:${port}`, '--control', `127.0.0.1:${control}`, '--lock-dir', lockDir], { reject: false, buffer: false });
    let out = '';
    let err = '';
    serve.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    serve.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const cleanups: Array<() => unknown> = [() => p.close()];
    try {
      await waitUntil(() => out.includes(`listening on 127.0.0.1:${control}`) || serve.exitCode !== null, 'bridge serve to listen', 20_000, 20);
      expect(serve.exitCode, err).toBe(null);
      // The one data-path line names the pump file of the installed package.
      expect(err).toContain(`data path: native pump ${join(realpathSync(prefix), 'lib/node_modules/ppp-laplink/prebuilds/linux-x64/pump.node')}`);
      const ctl = await openControl(control);
      cleanups.push(() => ctl.destroy());
      const tcp = await connectTcp(port);
      cleanups.push(() => tcp.destroy());
      const far = openTty(p.b);
      cleanups.push(() => far.destroy());
      await linkUp(tcp, far, ['client', 'device side']);
      await waitUntil(async () => (await ask(ctl, `showport ${port}`)).includes('data path: native pump'), 'the pump to carry the session', 5000, 20);
      const up = randomPayload(1 << 20);
      const down = randomPayload(1 << 20);
      expect(await bothWays(tcp, far, up, down)).toEqual([sha256(up), sha256(down)]);
      // Nothing handed the session to JavaScript meanwhile: the pump carried the whole transfer.
      expect(await ask(ctl, `showport ${port}`)).toContain('data path: native pump');
    } finally {
      for (const fn of cleanups.reverse()) await fn();
      serve.kill('SIGTERM');
      await serve;
    }
  });

  it('serve tells systemd through the packaged addon; status and check read the line (a pty: no counters kept)', async () => {
    const p = await ptyPair();
    const dir = mkdtempSync(join(work, 'serve-'));
    const profile = join(dir, 'pkglink.yaml');
    writeFileSync(profile, profileYaml('pkglink').replace('device: /dev/ttyS0', `device: ${realpathSync(p.a)}`));
    const notify = await notifySocket(`@laplink-pkg-${process.pid}`);
    const stateDir = join(dir, 'state');
    const env = { NOTIFY_SOCKET: `@laplink-pkg-${process.pid}`, FAKE_PPPD_SCENARIO: 'up-hold', FAKE_PPPD_STATE: join(dir, 'fake-pppd-starts') };
    const serve = execa(bin, ['serve', profile, '--root', join(dir, 'root'), '--state-dir', stateDir, '--lock-dir', join(dir, 'lock'), '--run-dir', join(dir, 'run'), '--pppd', fakePppd], { env, reject: false, all: true, stdin: 'ignore' });
    try {
      await waitUntil(() => notify.messages.some((m) => m.startsWith('STATUS=up ')) || serve.exitCode !== null, 'STATUS=up from the installed serve', 20_000, 20);
      expect(notify.messages, 'datagrams from serve').toContain('READY=1');
      const status = await laplink(['status', '--state-dir', stateDir]);
      expect(status.exitCode, status.stderr).toBe(0);
      // the speed (tcgetattr) and TIOCGICOUNT's ENOTTY, both made by the installed addon
      expect(status.stdout).toContain(`line ${realpathSync(p.a)} 38400 bit/s: its driver keeps no counters (a pseudo-terminal)`);
      const check = await laplink(['check', profile, '--lock-dir', join(dir, 'no-lock')]);
      expect(check.stdout + check.stderr).toContain(`${realpathSync(p.a)}: no error counters (its driver keeps no counters (a pseudo-terminal))`);
    } finally {
      serve.kill('SIGTERM');
      const r = await serve;
      await notify.close();
      await p.close();
      // serve ends its pppd on SIGTERM; a stand-in that outlived a failed serve is killed by pid
      const starts = join(dir, 'fake-pppd-starts');
      for (const pid of existsSync(starts) ? readFileSync(starts, 'utf8').split('\n').map((l) => Number.parseInt(l, 10)).filter((n) => n > 0) : []) {
        if (existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('fake-pppd')) process.kill(pid, 'SIGKILL');
      }
      expect(r.exitCode, r.all).toBe(0);
    }
    expect(notify.messages).toContain('STOPPING=1');
  });
});
