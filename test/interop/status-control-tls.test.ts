/**
 * A control port on TLS read by its two clients, `status --watch --control` and `exporter`: a real
 * `bridge run` whose control port wants a client certificate its CA signed (certificates made by
 * openssl at test time), with one TLS data port and one plain one. With our operator's certificate
 * both read every port and say which is TLS; without a certificate, with another CA's, or in plain
 * TCP, each says why in one line and keeps going. The exporter's scrape passes promtool.
 * Needs a fresh build (`npm test` builds first).
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePorts } from '../helpers/bridge-processes.js';
import { bridgeRig, startCli, stop } from '../helpers/bridge.js';
import { startWatch, type WatchProcess } from '../helpers/status-watch.js';
import { laplinkBin, removeDir, tempDir } from '../helpers/supervisor-harness.js';
import { testPki, type Cert } from '../helpers/tls.js';

const rig = bridgeRig();
const pki = testPki();
const PROMTOOL = '/usr/bin/promtool';

const watchers: WatchProcess[] = [];
let dir = '';
afterEach(async () => {
  for (const w of watchers.splice(0)) {
    w.proc.kill('SIGKILL');
    await w.exit;
  }
  if (dir) await removeDir(dir);
  dir = '';
});

interface Bridge {
  control: number;
  tlsPort: string;
  plainPort: string;
  config: string;
}

/** `bridge run` with a TLS control port (client certificates signed by the test CA), a TLS port and a plain one. */
async function tlsBridge(controlTls = `{ cert: ${pki.server.cert}, key: ${pki.server.key}, ca: ${pki.ca} }`): Promise<Bridge> {
  const [a, b] = [await rig.pair(), await rig.pair()];
  // a fixed port: the exporter reads it from the config, as it finds /etc/laplink/bridge/*.yaml
  const [controlPort] = await freePorts(1);
  dir = await tempDir('laplink-ctl-tls-');
  const configs = join(dir, 'bridge');
  await mkdir(configs);
  const config = join(configs, 'lab.yaml');
  await writeFile(
    config,
    [
      'lock: false',
      `control: { listen: 127.0.0.1:${controlPort}, tls: ${controlTls} }`,
      'ports:',
      `  - { name: secure0, device: ${a.a}, listen: 127.0.0.1:0, tls: { cert: ${pki.server.cert}, key: ${pki.server.key} } }`,
      `  - { name: plain0, device: ${b.a}, listen: 127.0.0.1:0 }`,
      '',
    ].join('\n'),
  );
  const run = await startCli(['bridge', 'run', config], /secure0: listening on 127\.0\.0\.1:(\d+) \(TLS\)\nplain0: listening on 127\.0\.0\.1:(\d+)\ncontrol: listening on 127\.0\.0\.1:(\d+) \(TLS\)\n/);
  rig.cleanups.push(() => stop(run.proc));
  return { tlsPort: run.match[1]!, plainPort: run.match[2]!, control: Number(run.match[3]), config: configs };
}

const clientFlags = (c: Cert | undefined) => ['--control-tls-ca', pki.ca, ...(c ? ['--control-tls-cert', c.cert, '--control-tls-key', c.key] : [])];

type View = { bridges: Array<{ control: string; error?: string; ports: Array<{ port: string; name: string; tls?: boolean; clients: string[] }> }> };

/** The first JSON view of `status --watch --json --control 127.0.0.1:PORT` with these flags. */
async function firstView(control: number, flags: string[]): Promise<View> {
  const state = join(dir, 'state');
  await mkdir(state, { recursive: true });
  const w = startWatch(['--state-dir', state, '--json', '--control', `127.0.0.1:${control}`, ...flags]);
  watchers.push(w);
  const at = await w.waitFor('\n');
  return JSON.parse(w.output().slice(0, at)) as View;
}

describe('status --watch on a TLS control port', () => {
  it('with a client certificate the CA signed, lists every port and which is on TLS, on the screen too', async () => {
    const b = await tlsBridge();
    const view = await firstView(b.control, clientFlags(pki.client));
    expect(view.bridges).toEqual([
      {
        control: `127.0.0.1:${b.control}`,
        ports: [expect.objectContaining({ port: b.tlsPort, name: 'secure0', tls: true, clients: [] }), expect.objectContaining({ port: b.plainPort, name: 'plain0', tls: false, clients: [] })],
      },
    ]);
    // the plain lines (no terminal, no --json) say it in words
    const w = startWatch(['--state-dir', join(dir, 'state'), '--control', `127.0.0.1:${b.control}`, ...clientFlags(pki.client)]);
    watchers.push(w);
    await w.waitFor(new RegExp(`${b.tlsPort} secure0 \\S+ raw over TLS {2}no client`));
    await w.waitFor(new RegExp(`${b.plainPort} plain0 \\S+ raw {2}no client`));
  });

  it('without a certificate, with another CA\'s, or in plain TCP: one line each saying why, and the watch goes on', async () => {
    const b = await tlsBridge();
    const [none, stranger, plain] = await Promise.all([firstView(b.control, clientFlags(undefined)), firstView(b.control, clientFlags(pki.wrongCaClient)), firstView(b.control, [])]);
    const control = `127.0.0.1:${b.control}`;
    expect(none.bridges).toEqual([{ control, error: 'closed after the TLS handshake: it wants a client certificate', ports: [] }]);
    expect(stranger.bridges).toEqual([{ control, error: 'closed after the TLS handshake: our client certificate was not accepted', ports: [] }]);
    expect(plain.bridges).toEqual([{ control, error: 'closed before greeting (a TLS control port hangs up on a plain client: give it TLS client settings)', ports: [] }]);
    for (const w of watchers) expect(w.proc.exitCode).toBeNull();
  });

  it('a server certificate from another CA is refused before a word is sent', async () => {
    const b = await tlsBridge();
    const view = await firstView(b.control, ['--control-tls-ca', pki.otherCa, '--control-tls-cert', pki.client.cert, '--control-tls-key', pki.client.key]);
    expect(view.bridges[0]!.error).toBe("the control port's certificate is refused: self-signed certificate in certificate chain");
  });

  it('flag mistakes are usage errors naming the flag, before anything is watched', async () => {
    dir = await tempDir('laplink-ctl-tls-');
    const run = (args: string[]) => execa(process.execPath, [laplinkBin, 'status', '--state-dir', dir, ...args], { reject: false });
    const half = await run(['--watch', '--control', '127.0.0.1:1', '--control-tls-cert', pki.client.cert]);
    expect([half.exitCode, half.stderr]).toEqual([2, 'laplink: --control-tls-cert and --control-tls-key go together']);
    const missing = await run(['--watch', '--control', '127.0.0.1:1', '--control-tls-cert', join(dir, 'nope.crt'), '--control-tls-key', pki.client.key]);
    expect([missing.exitCode, missing.stderr]).toEqual([2, `laplink: --control-tls-*: certificate ${join(dir, 'nope.crt')}: no such file`]);
    const noControl = await run(['--watch', '--control-tls-ca', pki.ca]);
    expect([noControl.exitCode, noControl.stderr]).toEqual([2, 'laplink: --control-tls-*: no --control to use them for']);
    const noWatch = await run(['--control-tls-ca', pki.ca]);
    expect([noWatch.exitCode, noWatch.stderr]).toEqual([2, 'laplink: status: --control-tls-* flags need --watch and --control']);
  });
});

describe('exporter on a TLS control port', () => {
  const scrape = (args: string[]) => execa(process.execPath, [laplinkBin, 'exporter', '--once', '--state-dir', join(dir, 'state'), ...args], { reject: false });

  it('--control with a client certificate: every port, which is on TLS, and a scrape promtool accepts', async () => {
    expect(existsSync(PROMTOOL), `${PROMTOOL} is missing: apt-get install prometheus (it is in debian-packages.txt)`).toBe(true);
    const b = await tlsBridge();
    const control = `127.0.0.1:${b.control}`;
    const r = await scrape(['--control', control, ...clientFlags(pki.client)]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain(`laplink_bridge_control_up{control="${control}"} 1\n`);
    expect(r.stdout).toContain(`laplink_bridge_port_tls{control="${control}",port="${b.tlsPort}"} 1\n`);
    expect(r.stdout).toContain(`laplink_bridge_port_tls{control="${control}",port="${b.plainPort}"} 0\n`);
    // execa strips the scrape's final newline; the format ends each line with one
    const check = await execa(PROMTOOL, ['check', 'metrics'], { input: `${r.stdout}\n`, reject: false, all: true });
    expect([check.exitCode, check.all]).toEqual([0, '']);
  });

  it('found through its config: with the client flags it is read; without a certificate it is down, said in one log line', async () => {
    const b = await tlsBridge();
    const control = `127.0.0.1:${b.control}`;
    const ok = await scrape(['--bridge-configs', b.config, ...clientFlags(pki.client)]);
    expect(ok.stdout).toContain(`laplink_bridge_control_up{control="${control}"} 1\n`);
    expect(ok.stdout).toContain(`laplink_bridge_port_tls{control="${control}",port="${b.tlsPort}"} 1\n`);
    const none = await scrape(['--bridge-configs', b.config]);
    expect(none.stdout).toContain(`laplink_bridge_control_up{control="${control}"} 0\n`);
    expect(none.stderr).toBe(`exporter: control_port: ${control}: closed after the TLS handshake: it wants a client certificate`);
    const stranger = await scrape(['--bridge-configs', b.config, ...clientFlags(pki.wrongCaClient)]);
    expect(stranger.stderr).toBe(`exporter: control_port: ${control}: closed after the TLS handshake: our client certificate was not accepted`);
  });

  it('found through its config, a TLS control port without client certificates is read by pinning its own certificate', async () => {
    const b = await tlsBridge(`{ cert: ${pki.server.cert}, key: ${pki.server.key} }`);
    const r = await scrape(['--bridge-configs', b.config]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain(`laplink_bridge_control_up{control="127.0.0.1:${b.control}"} 1\n`);
  });
});

describe('laplink web on a TLS control port', () => {
  /** The first view /ws/status pushes whose bridges have an answer (ports or an error). */
  async function webView(control: number, flags: string[]): Promise<View> {
    const state = join(dir, 'state');
    await mkdir(state, { recursive: true });
    const web = await startCli(['web', '--listen', '127.0.0.1:0', '--state-dir', state, '--control', `127.0.0.1:${control}`, ...flags], /web: serving http:\/\/127\.0\.0\.1:(\d+)\/\n/);
    rig.cleanups.push(() => stop(web.proc));
    const at = `127.0.0.1:${web.match[1]}`;
    return new Promise<View>((resolve, reject) => {
      const ws = new WebSocket(`ws://${at}/ws/status`, { headers: { Origin: `http://${at}` } });
      ws.on('message', (d: Buffer) => {
        const v = (JSON.parse(d.toString()) as { view: View }).view;
        if (v.bridges.some((b) => b.error !== undefined || b.ports.length)) {
          ws.close();
          resolve(v);
        }
      });
      ws.on('error', reject);
    });
  }

  it('--control-tls-* reach it: the page lists both ports and which is on TLS; without a certificate it says why', async () => {
    const b = await tlsBridge();
    const view = await webView(b.control, clientFlags(pki.client));
    expect(view.bridges[0]!.ports).toEqual([expect.objectContaining({ name: 'secure0', tls: true }), expect.objectContaining({ name: 'plain0', tls: false })]);
    const refused = await webView(b.control, clientFlags(undefined));
    expect(refused.bridges[0]!.error).toBe('closed after the TLS handshake: it wants a client certificate');
  });
});
