/**
 * Rig for the web tests: a real `laplink bridge run` on one end of a socat pty pair (the other end is
 * the "device" the test reads and writes), and the web server in this process so the tests can read
 * its counters. Chromium is Debian's (/usr/bin/chromium), driven by puppeteer-core, which downloads
 * no browser.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import WebSocket from 'ws';
import { startCli, stop, openEnd } from './bridge.js';
import { startPtyPair, type PtyPair } from './ptypair.js';
import { WebServer, type WebServerOptions } from '../../src/web/server.js';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (it is in debian-packages.txt)`);
  const { launch } = await import('puppeteer-core');
  // --no-sandbox: the tests run as root, where Chromium refuses its sandbox. Several pages are open at
  // once and only one is in front: the others must not have their timers and frames throttled.
  return launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
  });
}

export interface WebRig {
  dir: string;
  stateDir: string;
  pair: PtyPair;
  /** The far end of the cable, as the device the console talks to would see it. */
  far: ReturnType<typeof openEnd>;
  /** Everything the far end has received. */
  farReceived(): Buffer;
  controlPort: number;
  /** `HOST:PORT` of the bridge port, as the pages name it. */
  portKey: string;
  web: WebServer;
  url: string;
  close(): Promise<void>;
}

/** `portYaml`: more lines of the port's block in the bridge config (indented 4), e.g. a `tls:` block. */
export async function webRig(over: Partial<WebServerOptions> = {}, protocol = 'rfc2217', portYaml = ''): Promise<WebRig> {
  const dir = mkdtempSync(join(tmpdir(), 'laplink-web-'));
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir);
  const pair = await startPtyPair();
  const config = join(dir, 'bridge.yaml');
  writeFileSync(config, `lock: false\ncontrol: 127.0.0.1:0\nports:\n  - name: cable0\n    device: ${pair.a}\n    listen: 127.0.0.1:0\n    protocol: ${protocol}\n    maxConnections: 4\n${portYaml}`);
  const bridge = await startCli(['bridge', 'run', config], /cable0: listening on 127\.0\.0\.1:(\d+)(?: \(TLS\))?\n(?:.*\n)*?control: listening on 127\.0\.0\.1:(\d+)\n/);
  const controlPort = Number(bridge.match[2]);
  const far = openEnd(pair.b);
  const received: Buffer[] = [];
  far.stream.on('data', (c: Buffer) => received.push(c));
  const abort = new AbortController();
  const web = await WebServer.start({ listen: { host: '127.0.0.1', port: 0 }, stateDir, controls: [{ host: '127.0.0.1', port: controlPort }], signal: abort.signal, ...over });
  return {
    dir,
    stateDir,
    pair,
    far,
    farReceived: () => Buffer.concat(received),
    controlPort,
    portKey: `127.0.0.1:${bridge.match[1]}`,
    web,
    url: `${over.tls ? 'https' : 'http'}://127.0.0.1:${web.address.port}`,
    close: async () => {
      abort.abort();
      far.close();
      await stop(bridge.proc);
      await pair.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits for a condition the test cannot be told about (bytes arriving through a pty). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Screenshots go to docs/img only when asked (UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean. */
export function screenshotPath(dir: string, name: string): string {
  return process.env.UPDATE_SCREENSHOTS === '1' ? join('docs', 'img', name) : join(dir, name);
}

export interface ConsoleSocket {
  ws: WebSocket;
  hello: { role: string; state: string };
  /** Every JSON message the server sent, in order. */
  texts: Array<Record<string, unknown>>;
  binary: Buffer[];
}

/** A console WebSocket as a page opens it (Node's `ws`, a real client): resolves on the server's hello. */
export function openConsoleSocket(baseUrl: string, portKey: string, headers: Record<string, string> = {}, tls: WebSocket.ClientOptions = {}): Promise<ConsoleSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws/console?port=${encodeURIComponent(portKey)}`, { ...tls, headers: { Origin: baseUrl, ...headers } });
    const texts: Array<Record<string, unknown>> = [];
    const binary: Buffer[] = [];
    ws.on('message', (d: Buffer, isBinary) => {
      if (isBinary) return void binary.push(d);
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      texts.push(m);
      if (m.type === 'hello') resolve({ ws, hello: m as ConsoleSocket['hello'], texts, binary });
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`console upgrade refused: ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

/** Resolves once the server's status view lists `portKey` as a console it can open. */
export function untilConsoleListed(baseUrl: string, portKey: string, headers: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws/status`, { headers: { Origin: baseUrl, ...headers } });
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { view?: { consoles?: string[] } };
      if (m.view?.consoles?.includes(portKey)) {
        ws.close();
        resolve();
      }
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`status upgrade refused: ${res.statusCode}`)));
    ws.on('error', reject);
  });
}
