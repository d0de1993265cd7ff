/**
 * The package as a user gets it: `npm pack` of a copy of this checkout (its `prepack` compiles src/
 * and builds the native pump into prebuilds/), `npm install -g --prefix DIR` of that tarball into an
 * empty prefix with install scripts off, then DIR/bin/laplink run for real: --version, init,
 * generate --root (the generated connect/pty/ExecStart name DIR/bin/laplink, the link npm keeps
 * across upgrades), one chat run on a socat pty pair, one `bridge serve` transfer carried by the
 * packaged native pump. The npm registry is needed for the dependencies (npm's cache is used first).
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
  it('holds the built JavaScript, templates, bin, README and the linux-x64 pump, and nothing else', () => {
    const paths = packed.map((f) => f.path);
    expect(paths).toContain('bin/laplink.js');
    expect(paths).toContain('dist/bundle/main.js');
    expect(paths).toContain('dist/bundle/chat.js');
    expect(paths).toContain('dist/bundle/config-worker.js');
    expect(paths).toContain('templates/ppp/peers');
    expect(paths).toContain('README.md');
    expect(paths).toContain('prebuilds/linux-x64/pump.node');
    expect(paths).toContain('LICENSE');
    expect(paths).toContain('docs/dialup.md');
    expect(paths).toContain('examples/dialup-server.yaml');
    expect(paths).toContain('web/console.js');
    expect(paths).toContain('dist/web/vendor/xterm.mjs');
    const strays = paths.filter((p) => !/^(bin\/|dist\/bundle\/[^/]+\.js$|web\/[^/]+\.(html|js|css)$|dist\/web\/vendor\/[^/]+$|templates\/|prebuilds\/|docs\/[^/]+\.md$|docs\/img\/[^/]+\.png$|examples\/[^/]+\.yaml$|examples\/prometheus\/[^/]+\.yml$|README\.md$|LICENSE$|package\.json$)/.test(p));
    expect(strays).toEqual([]);
    expect(paths.filter((p) => /(^|\/)(test|lab|bench|fuzz|fixtures)\//.test(p) || p.endsWith('.ts'))).toEqual([]);
  });

  it('installs lean: only koffi and the serialport binding (with their own dependencies), under 9 MB in all', async () => {
    const pkg = join(prefix, 'lib/node_modules/ppp-laplink');
    const modules = join(pkg, 'node_modules');
    const names = readdirSync(modules).filter((n) => !n.startsWith('.')).flatMap((n) => (n.startsWith('@') ? readdirSync(join(modules, n)).map((m) => `${n}/${m}`) : [n])).sort();
    // everything else the code uses is inlined by the bundler (scripts/bundle.mjs): devDependencies
    expect(names).toEqual(['@koromix/koffi-linux-x64', '@serialport/bindings-cpp', '@serialport/bindings-interface', '@serialport/parser-delimiter', '@serialport/parser-readline', 'debug', 'koffi', 'ms', 'node-addon-api', 'node-gyp-build']);
    // measured 8.2 MB: koffi 1.8 MB + its prebuilt @koromix/koffi-linux-x64 2.4 MB (glibc and musl),
    // the serialport binding 2.3 MB (prebuilds of every platform), ppp-laplink itself 1.4 MB; it was
    // 23 MB in 56 packages while the inlined libraries were dependencies
    const bytes = treeBytes(pkg);
    expect(bytes, `${(bytes / 1e6).toFixed(2)} MB installed`).toBeLessThan(9 * 1000 * 1000);
    // 2.03 MB with the browser pages: xterm 0.34 MB, the web chunk with ws 0.15 MB, screenshots 0.05 MB
    expect(treeBytes(pkg) - treeBytes(modules), 'ppp-laplink itself').toBeLessThan(2.5 * 1000 * 1000);
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
});
