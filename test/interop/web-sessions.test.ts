/**
 * The web listener against hostile and slow clients, without a browser (Node's `ws` client and raw
 * TCP): wrong password, no client certificate, another site's page (Origin), an oversized frame, a
 * thousand idle WebSockets, a read-only session writing anyway, and a viewer that never reads.
 * Behind the console is a real `laplink bridge run` on a socat pty pair; the test holds the far end
 * and checks that nothing the server refused reached it.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTlsState } from '../../src/tls/accepter.js';
import { hashPassword } from '../../src/web/password.js';
import { UserBook } from '../../src/web/users.js';
import { MAX_FRAME_BYTES } from '../../src/web/server.js';
import { startCli, stop } from '../helpers/bridge.js';
import { startPtyPair } from '../helpers/ptypair.js';
import { testPki } from '../helpers/tls.js';
import { openConsoleSocket, until, webRig, type ConsoleSocket, type WebRig } from '../helpers/web.js';

const PASSWORD = 'correct horse battery staple';
const QUEUE = 64 * 1024;
let rig: WebRig;
let cookie = '';

beforeAll(async () => {
  rig = await webRig({ users: new UserBook([], { hash: await hashPassword(PASSWORD), field: 'test' }), maxSockets: 64, viewerQueueBytes: QUEUE });
  await until(async () => (await fetch(`${rig.url}/`, { redirect: 'manual' })).status === 303, 'the web server');
}, 60_000);
afterAll(async () => rig?.close());

const origin = () => rig.url;
const wsUrl = (path: string) => `${rig.url.replace(/^http/, 'ws')}${path}`;
const consoleUrl = () => wsUrl(`/ws/console?port=${encodeURIComponent(rig.portKey)}`);

async function login(password: string): Promise<Response> {
  return fetch(`${rig.url}/login`, { method: 'POST', body: new URLSearchParams({ password }), redirect: 'manual' });
}

/** Resolves with the HTTP status a refused upgrade got, or 101 once open (then closes it). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => resolve(-1));
  });
}

function openConsole(): Promise<ConsoleSocket> {
  return openConsoleSocket(rig.url, rig.portKey, { Cookie: cookie });
}

describe('refused before anything reaches the device', () => {
  it('a wrong password gets no session; pages and WebSockets need one', async () => {
    expect((await fetch(`${rig.url}/`, { redirect: 'manual' })).headers.get('location')).toBe('/login.html');
    const wrong = await login('Tr0ub4dor&3');
    expect(wrong.headers.get('location')).toBe('/login.html?wrong');
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await upgradeStatus(consoleUrl(), { Origin: origin() })).toBe(401);
    expect(await upgradeStatus(consoleUrl(), { Origin: origin(), Cookie: 'laplink_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).toBe(401);
    const right = await login(PASSWORD);
    cookie = /laplink_session=[^;]+/.exec(right.headers.get('set-cookie') ?? '')?.[0] ?? '';
    expect(right.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect(await upgradeStatus(wsUrl('/ws/status'), { Origin: origin(), Cookie: cookie })).toBe(101);
    expect(rig.web.refusals.login).toBe(3);
  });

  it('another site\'s page (Origin) and a port no control port lists are refused', async () => {
    expect(await upgradeStatus(consoleUrl(), { Origin: 'http://evil.example', Cookie: cookie })).toBe(403);
    expect(await upgradeStatus(consoleUrl(), { Cookie: cookie })).toBe(403);
    expect(await upgradeStatus(wsUrl('/ws/console?port=127.0.0.1:22'), { Origin: origin(), Cookie: cookie })).toBe(404);
    expect(rig.farReceived().length).toBe(0);
  });

  it('an oversized frame closes that socket and is not written', async () => {
    const { ws, hello } = await openConsole();
    expect(hello.role).toBe('writer');
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.send(Buffer.alloc(MAX_FRAME_BYTES + 1, 0x41));
    expect(await closed).toBe(1009); // message too big
    await new Promise((r) => setTimeout(r, 100));
    expect(rig.farReceived().length).toBe(0);
  });

  it('a thousand idle connections: at most maxSockets are held, the rest refused, the server still answers', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 1000 }, () => {
        const ws = new WebSocket(wsUrl('/ws/status'), { headers: { Cookie: cookie, Origin: origin() } });
        return new Promise<{ ws: WebSocket; open: boolean }>((resolve) => {
          ws.on('open', () => resolve({ ws, open: true }));
          ws.on('error', () => resolve({ ws, open: false }));
          ws.on('unexpected-response', () => resolve({ ws, open: false }));
        });
      }),
    );
    const open = sockets.filter((s) => s.open).length;
    expect(open).toBeGreaterThan(0);
    expect(open).toBeLessThanOrEqual(64);
    expect(rig.web.openSockets).toBeLessThanOrEqual(64);
    for (const s of sockets) s.ws.terminate();
    await until(() => rig.web.openSockets === 0, 'the idle sockets to close');
    expect((await fetch(`${rig.url}/style.css`)).status).toBe(200);
    expect(rig.farReceived().length).toBe(0);
  });
});

describe('one writer, many viewers', () => {
  it('a viewer\'s bytes are not written; a viewer that never reads is skipped, the writer gets every byte', async () => {
    const writer = await openConsole();
    const viewer = await openConsole();
    expect([writer.hello.role, viewer.hello.role]).toEqual(['writer', 'viewer']);
    viewer.ws.send(Buffer.from('from the viewer'));
    writer.ws.send(Buffer.from('W'));
    await until(() => rig.farReceived().length > 0, 'the writer\'s byte');
    expect(rig.farReceived().toString()).toBe('W');

    // a viewer on raw TCP that upgrades and then reads nothing at all
    const stuck = net.connect(Number(new URL(rig.url).port), '127.0.0.1');
    await new Promise((r) => stuck.once('connect', r));
    stuck.write(`GET /ws/console?port=${encodeURIComponent(rig.portKey)} HTTP/1.1\r\nHost: ${new URL(rig.url).host}\r\nOrigin: ${origin()}\r\nCookie: ${cookie}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    stuck.pause();
    await until(() => (writer.texts.at(-1)?.viewers as number) === 3, 'the stuck viewer to join');

    // more than the kernel's socket buffers on both sides can hold for the stuck viewer
    const total = 24 << 20;
    const block = Buffer.alloc(64 * 1024);
    for (let i = 0; i < block.length; i++) block[i] = (i * 7 + 3) & 0xff;
    const sent = createHash('sha256');
    const before = writer.binary.reduce((n, b) => n + b.length, 0);
    for (let i = 0; i < total; i += block.length) {
      sent.update(block);
      if (!rig.far.stream.write(block)) await new Promise((r) => rig.far.stream.once('drain', r));
    }
    await until(() => writer.binary.reduce((n, b) => n + b.length, 0) >= before + total, 'the writer to receive everything', 60_000);
    const got = Buffer.concat(writer.binary).subarray(before);
    expect(got.length).toBe(total);
    expect(createHash('sha256').update(got).digest('hex')).toBe(sent.digest('hex'));
    const c = rig.web.consoleCounters(rig.portKey)!;
    expect(c.refusedInput).toBe('from the viewer'.length);
    expect(c.skipped).toBeGreaterThan(0); // the stuck viewer was skipped ahead, not waited for
    expect(c.maxQueued).toBeLessThanOrEqual(QUEUE + 64 * 1024);
    stuck.destroy();
    writer.ws.close();
    viewer.ws.close();
  }, 90_000);
});

describe('TLS with client certificates', () => {
  const pki = testPki();
  let tlsRig: WebRig;
  afterAll(async () => tlsRig?.close());

  it('a browser without the client certificate is refused in the handshake; with it, the page loads', async () => {
    tlsRig = await webRig({ tls: await loadTlsState({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca }) });
    const port = Number(new URL(tlsRig.url).port);
    const attempt = (withCert: boolean) =>
      new Promise<string>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(pki.ca), servername: 'localhost', ...(withCert ? { cert: readFileSync(pki.client.cert), key: readFileSync(pki.client.key) } : {}) }, () => s.end('GET /style.css HTTP/1.0\r\nHost: x\r\n\r\n'));
        let text = '';
        s.on('data', (d: Buffer) => (text += d.toString()));
        s.on('error', (e) => resolve(`error ${e.message}`));
        s.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
      });
    expect(await attempt(false)).not.toMatch(/^HTTP\/1\.1 200/);
    expect(await attempt(true)).toBe('HTTP/1.1 200 OK');
    expect(tlsRig.farReceived().length).toBe(0);
  }, 60_000);
});

describe('a `web:` section in a bridge run config', () => {
  it('serves the pages from the bridge process, showing its own ports through its control port', async () => {
    const pair = await startPtyPair();
    const config = join(pair.dir, 'bridge.yaml');
    writeFileSync(config, `lock: false\ncontrol: 127.0.0.1:0\nweb:\n  listen: 127.0.0.1:0\n  stateDir: ${pair.dir}\nports:\n  - name: cable0\n    device: ${pair.a}\n    listen: 127.0.0.1:0\n`);
    const bridge = await startCli(['bridge', 'run', config], /cable0: listening on 127\.0\.0\.1:(\d+)\n(?:.*\n)*?web: serving http:\/\/127\.0\.0\.1:(\d+)\/\n/);
    try {
      const at = `127.0.0.1:${bridge.match[2]}`;
      const view = await new Promise<{ consoles: string[] }>((resolve, reject) => {
        const ws = new WebSocket(`ws://${at}/ws/status`, { headers: { Origin: `http://${at}` } });
        ws.on('message', (d: Buffer) => {
          const v = (JSON.parse(d.toString()) as { view: { consoles: string[] } }).view;
          if (v.consoles.length) {
            ws.close();
            resolve(v);
          }
        });
        ws.on('error', reject);
      });
      expect(view.consoles).toEqual([`127.0.0.1:${bridge.match[1]}`]);
    } finally {
      await stop(bridge.proc);
      await pair.close();
    }
  });
});
