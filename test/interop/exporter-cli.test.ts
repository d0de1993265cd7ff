/**
 * `laplink exporter` as a process: the textfile-collector mode (whole files only, checked by
 * promtool, nothing left behind), HTTPS with a certificate made by the real openssl, the refusal to
 * serve beyond loopback without TLS, and what a scraper gets for wrong paths and methods. The state
 * files are written by the supervisor's own writer. Needs a fresh build (`npm test` builds first).
 */
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeStateFile } from '../../src/pppd/state.js';
import { startCli, stop } from '../helpers/bridge.js';
import { startPtyPair } from '../helpers/ptypair.js';
import { laplinkBin, removeDir, tempDir } from '../helpers/supervisor-harness.js';
import { makePki, type Cert } from '../helpers/tls.js';

let dir = '';
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  await removeDir(dir);
});

const exporterRun = (args: string[]) => execa(process.execPath, [laplinkBin, 'exporter', ...args], { reject: false });
const upLink = (stateDir: string) => writeStateFile(stateDir, { name: 'cable', state: 'up', since: new Date().toISOString(), supervisorPid: process.pid, restarts: 1 });

describe('laplink exporter --textfile-dir', () => {
  it('keeps DIR/laplink.prom whole and current, promtool accepts it, and nothing else is left', async () => {
    dir = await tempDir('laplink-exporter-cli-');
    const stateDir = join(dir, 'state');
    const textfiles = join(dir, 'textfile');
    await upLink(stateDir);
    const run = await startCli(['exporter', '--state-dir', stateDir, '--bridge-configs', join(dir, 'none'), '--textfile-dir', textfiles, '--interval', '1'], /writing (\S+) every 1 s\n/);
    stops.push(() => stop(run.proc));
    const file = join(textfiles, 'laplink.prom');
    expect(run.match[1]).toBe(file);
    // read it while it is being replaced every second: every read is a whole file, and the change
    // of state shows up in a later one
    await writeStateFile(stateDir, { name: 'cable', state: 'backoff', since: new Date().toISOString(), supervisorPid: process.pid, restarts: 2 });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const text = await readFile(file, 'utf8');
      expect(text).toMatch(/laplink_exporter_build_info\{version="[^"]+"\} 1\n$/);
      if (text.includes('laplink_link_state{link="cable",state="backoff"} 1\n')) break;
      expect(Date.now(), `no rewrite showing the backoff state within 20 s; last:\n${text}`).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    const check = await execa('promtool', ['check', 'metrics'], { input: await readFile(file, 'utf8'), reject: false, all: true });
    expect(check.all).toBe('');
    run.proc.kill('SIGTERM');
    expect((await run.proc).exitCode).toBe(0);
    expect(await readdir(textfiles)).toEqual(['laplink.prom']);
  });
});

describe('laplink exporter --once, and under systemd', () => {
  it('--once prints one scrape and exits 0', async () => {
    dir = await tempDir('laplink-exporter-cli-');
    await upLink(join(dir, 'state'));
    const r = await exporterRun(['--once', '--state-dir', join(dir, 'state'), '--bridge-configs', join(dir, 'none')]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('laplink_link_up{link="cable"} 1\n');
    expect(r.stdout).toMatch(/^# HELP laplink_link_state /);
    // --tty reads a line no link or bridge names (here a pty: no counters, its speed)
    const pair = await startPtyPair();
    stops.push(pair.close);
    const tty = await realpath(pair.a);
    const t = await exporterRun(['--once', '--tty', tty, '--state-dir', join(dir, 'none'), '--bridge-configs', join(dir, 'none')]);
    expect(t.exitCode, t.stderr).toBe(0);
    expect(t.stdout).toContain(`laplink_tty_counters_available{tty="${tty}"} 0\n`);
    expect(t.stdout).toMatch(new RegExp(`^laplink_tty_speed_baud\\{tty="${tty}"\\} \\d+$`, 'm'));
  });

  it('tells a notify socket READY=1 with where it serves, and STOPPING=1 on SIGTERM (socat as systemd)', async () => {
    dir = await tempDir('laplink-exporter-cli-');
    const socket = join(dir, 'notify');
    let heard = '';
    const receiver = execa('socat', ['-u', `UNIX-RECV:${socket}`, 'STDOUT'], { reject: false, buffer: false });
    stops.push(() => stop(receiver));
    receiver.stdout!.on('data', (c: Buffer) => (heard += `${c.toString()}\n`));
    const deadline = Date.now() + 10_000;
    while (!existsSync(socket)) {
      expect(Date.now(), 'socat (package socat) did not bind the notify socket').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 20));
    }
    const run = execa(process.execPath, [laplinkBin, 'exporter', '--listen', '127.0.0.1:0', '--state-dir', join(dir, 'state'), '--bridge-configs', join(dir, 'none')], { env: { NOTIFY_SOCKET: socket }, reject: false });
    stops.push(() => stop(run));
    while (!heard.includes('READY=1')) {
      expect(Date.now(), `no READY=1 within 10 s; heard ${JSON.stringify(heard)}`).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(heard).toMatch(/STATUS=serving http:\/\/127\.0\.0\.1:\d+\/metrics/);
    run.kill('SIGTERM');
    expect((await run).exitCode).toBe(0);
    while (!heard.includes('STOPPING=1')) {
      expect(Date.now(), `no STOPPING=1; heard ${JSON.stringify(heard)}`).toBeLessThan(deadline + 10_000);
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});

describe('laplink exporter over HTTP(S)', () => {
  it('serves HTTPS with the given certificate; wrong paths and methods get 404 and 405', async () => {
    dir = await tempDir('laplink-exporter-cli-');
    const stateDir = join(dir, 'state');
    await upLink(stateDir);
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const ssl = await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { reject: false, all: true });
    expect(ssl.exitCode, `openssl (package openssl): ${ssl.all}`).toBe(0);
    const run = await startCli(['exporter', '--listen', '127.0.0.1:0', '--state-dir', stateDir, '--bridge-configs', join(dir, 'none'), '--tls-cert', cert, '--tls-key', key], /serving (https:\/\/127\.0\.0\.1:(\d+)\/metrics)\n/);
    stops.push(() => stop(run.proc));
    const ca = await readFile(cert);
    const get = (path: string, method = 'GET') =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: Number(run.match[2]), path, method, ca, headers: { accept: 'application/openmetrics-text; version=1.0.0' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
        });
        req.on('error', reject);
        req.end();
      });
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(metrics.body).toContain('laplink_link_up{link="cable"} 1\n');
    expect(metrics.body.endsWith('# EOF\n')).toBe(true);
    expect((await get('/nowhere')).status).toBe(404);
    expect((await get('/metrics', 'POST')).status).toBe(405);
  });

  it('with --tls-ca, only a scraper whose certificate the CA signed gets metrics; the others are refused in one log line each', async () => {
    dir = await tempDir('laplink-exporter-cli-');
    const pki = await makePki();
    stops.push(async () => pki.remove());
    const stateDir = join(dir, 'state');
    await upLink(stateDir);
    const run = await startCli(['exporter', '--listen', '127.0.0.1:0', '--state-dir', stateDir, '--bridge-configs', join(dir, 'none'), '--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--tls-ca', pki.ca], /serving https:\/\/127\.0\.0\.1:(\d+)\/metrics\n/);
    stops.push(() => stop(run.proc));
    const ca = await readFile(pki.ca);
    const scrape = (client: Cert | undefined) =>
      new Promise<string>((resolve) => {
        const tlsClient = client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {};
        const req = https.request({ host: '127.0.0.1', port: Number(run.match[1]), path: '/metrics', ca, servername: 'localhost', ...tlsClient }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve(`${res.statusCode} ${body}`));
        });
        req.on('error', (err) => resolve(`error ${err.message}`));
        req.end();
      });
    expect(await scrape(pki.client)).toContain('laplink_link_up{link="cable"} 1\n');
    expect(await scrape(undefined)).toMatch(/^error /);
    expect(await scrape(pki.wrongCaClient)).toMatch(/^error /);
    // the refusals are logged as the handshakes end: wait for the pipe to carry them
    const refusals = /refused: no client certificate\n[^]*refused: client certificate CN=stranger \S+: certificate not signed by the CA\n/;
    for (const deadline = Date.now() + 10_000; !refusals.test(run.stderr()); await new Promise((r) => setTimeout(r, 50)))
      expect(Date.now(), `stderr so far:\n${run.stderr()}`).toBeLessThan(deadline);
    expect(run.stderr()).not.toContain('laptop');
  });

  it('a client trickling its headers a byte at a time loses the connection (it cannot hold a slot for ever)', async () => {
    dir = await tempDir('laplink-exporter-cli-');
    const run = await startCli(['exporter', '--listen', '127.0.0.1:0', '--state-dir', join(dir, 'state'), '--bridge-configs', join(dir, 'none')], /serving http:\/\/127\.0\.0\.1:(\d+)\/metrics\n/);
    stops.push(() => stop(run.proc));
    const sock = net.connect(Number(run.match[1]), '127.0.0.1');
    stops.push(async () => void sock.destroy());
    sock.on('error', () => undefined);
    sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    // each byte comes well inside the 10 s idle timeout, so only the header deadline can end this
    const trickle = setInterval(() => sock.write('a'), 500);
    try {
      const closed = await new Promise<boolean>((resolve) => {
        sock.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 60_000);
      });
      expect(closed, 'the trickling connection was still open after 60 s').toBe(true);
    } finally {
      clearInterval(trickle);
    }
  }, 70_000);

  it('refuses to serve beyond loopback without TLS, and half a TLS pair, naming the flag', async () => {
    const wide = await exporterRun(['--listen', '0.0.0.0:9614']);
    expect(wide.exitCode).toBe(2);
    expect(wide.stderr).toBe('laplink: --listen: 0.0.0.0:9614 is not a loopback address: serving metrics beyond this host needs --tls-cert and --tls-key');
    const half = await exporterRun(['--tls-cert', '/nonexistent/cert.pem']);
    expect(half.exitCode).toBe(2);
    expect(half.stderr).toBe('laplink: --tls-cert and --tls-key: a TLS port needs both');
    const badControl = await exporterRun(['--control', 'nowhere']);
    expect(badControl.exitCode).toBe(2);
    expect(badControl.stderr).toBe('laplink: --control: "nowhere" is not HOST:PORT');
    const badInterval = await exporterRun(['--textfile-dir', '/nonexistent', '--interval', '0']);
    expect(badInterval.exitCode).toBe(2);
    expect(badInterval.stderr).toBe('laplink: --interval: "0" is not a number of seconds from 1 to 86400');
    expect(existsSync('/nonexistent')).toBe(false);
  });
});
