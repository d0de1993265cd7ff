/**
 * Named users on the consoles, as conserver and ser2net users expect: one marked `write: always`
 * takes the write seat whenever she connects, the others write only when it is free, and one marked
 * `write: never` only reads. Behind the consoles, a real `laplink bridge run` on a socat pty pair;
 * the pages are Node's `fetch` (the login form) and `ws` (the console WebSocket).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/web/password.js';
import { UserBook } from '../../src/web/users.js';
import { WebServer } from '../../src/web/server.js';
import { loadTlsState } from '../../src/tls/accepter.js';
import { testPki } from '../helpers/tls.js';
import { openEnd, startCli, stop } from '../helpers/bridge.js';
import { startPtyPair } from '../helpers/ptypair.js';
import { openConsoleSocket, until, untilConsoleListed, webRig, type ConsoleSocket, type WebRig } from '../helpers/web.js';

let rig: WebRig;
const pki = testPki();

beforeAll(async () => {
  const [a, b, c] = await Promise.all(['alice pw', 'bob pw', 'carol pw'].map((p) => hashPassword(p)));
  const users = new UserBook([
    { name: 'alice', passwordHash: a, write: 'always' },
    { name: 'bob', passwordHash: b, write: 'when-free' },
    { name: 'carol', passwordHash: c, write: 'never' },
  ]);
  rig = await webRig({ users }, 'raw');
}, 60_000);
afterAll(async () => rig?.close());

/** The cookie a login form post earns, or '' when refused. */
async function logIn(url: string, user: string, password: string): Promise<string> {
  const r = await fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ user, password }), redirect: 'manual' });
  return /laplink_session=[^;]+/.exec(r.headers.get('set-cookie') ?? '')?.[0] ?? '';
}

const roleOf = (c: ConsoleSocket) => [...c.texts].reverse().find((m) => m.type === 'role' || m.type === 'hello')?.role;
const lastError = (c: ConsoleSocket) => [...c.texts].reverse().find((m) => m.type === 'error')?.message;

describe('named users on a console', () => {
  it('a wrong password or an unknown user gets no session', async () => {
    expect(await logIn(rig.url, 'bob', 'alice pw')).toBe('');
    expect(await logIn(rig.url, 'mallory', 'bob pw')).toBe('');
    expect(await logIn(rig.url, '', 'bob pw')).toBe(''); // no shared password in this book
  });

  it('always takes the seat, when-free writes only when it is free, never only reads', async () => {
    // one after another: the server checks two passwords at a time and answers 503 past that
    const alice = await logIn(rig.url, 'alice', 'alice pw');
    const bob = await logIn(rig.url, 'bob', 'bob pw');
    const carol = await logIn(rig.url, 'carol', 'carol pw');
    await untilConsoleListed(rig.url, rig.portKey, { Cookie: bob });
    const c = await openConsoleSocket(rig.url, rig.portKey, { Cookie: carol });
    expect(c.hello.role).toBe('viewer'); // the seat is free, but carol never writes
    c.ws.send(JSON.stringify({ type: 'take' }));
    await until(() => lastError(c) !== undefined, "carol's refusal");
    expect(lastError(c)).toBe('carol reads only (write: never)');
    const b = await openConsoleSocket(rig.url, rig.portKey, { Cookie: bob });
    expect(b.hello.role).toBe('writer');
    await until(() => b.texts.some((m) => m.state === 'open'), 'the port session');

    const a = await openConsoleSocket(rig.url, rig.portKey, { Cookie: alice });
    expect(a.hello.role).toBe('writer');
    await until(() => roleOf(b) === 'viewer', 'bob to lose the seat');
    expect(b.texts.find((m) => m.type === 'role' && m.role === 'viewer')?.by).toBe('alice');
    b.ws.send(JSON.stringify({ type: 'take' }));
    await until(() => lastError(b) !== undefined, "bob's refusal");
    expect(lastError(b)).toBe('alice holds the write seat (write: always)');
    b.ws.send(Buffer.from('bob'));
    c.ws.send(Buffer.from('carol'));
    a.ws.send(Buffer.from('alice'));
    await until(() => rig.farReceived().length >= 5, "alice's bytes");
    expect(rig.farReceived().toString()).toBe('alice');

    // alice leaves: the seat goes to the first page that may write (bob), never to carol
    a.ws.close();
    await until(() => roleOf(b) === 'writer', 'bob to get the seat back');
    expect(roleOf(c)).toBe('viewer');
    b.ws.send(Buffer.from('!'));
    await until(() => rig.farReceived().length >= 6, "bob's byte");
    expect(rig.farReceived().toString()).toBe('alice!');
    b.ws.close();
    c.ws.close();
  });
});

describe('a client certificate names its user', () => {
  const stops: AbortController[] = [];
  afterAll(() => stops.forEach((s) => s.abort()));

  /** A TLS web server on the rig's bridge whose book has `laptop` (the test client's CN) read-only. */
  async function tlsWeb(ca: boolean): Promise<string> {
    const stop = new AbortController();
    stops.push(stop);
    const users = new UserBook([{ name: 'laptop', write: 'never' }]);
    const tls = await loadTlsState({ cert: pki.server.cert, key: pki.server.key, ...(ca ? { ca: pki.ca } : { allow: [pki.client.fingerprint] }) });
    const web = await WebServer.start({ listen: { host: '127.0.0.1', port: 0 }, stateDir: rig.stateDir, controls: [{ host: '127.0.0.1', port: rig.controlPort }], tls, users, signal: stop.signal });
    return `https://127.0.0.1:${web.address.port}`;
  }
  const withCert = () => ({ ca: readFileSync(pki.ca), cert: readFileSync(pki.client.cert), key: readFileSync(pki.client.key), servername: 'localhost' });

  it('signed by the CA: the CN is that user, with its write rule and no password', async () => {
    const url = await tlsWeb(true);
    const c = await openConsoleSocket(url, rig.portKey, {}, withCert());
    expect(c.hello).toMatchObject({ user: 'laptop', write: 'never', role: 'viewer' });
    c.ws.close();
  });

  it('self-signed or only on the allow list: the CN it carries names nobody', async () => {
    const url = await tlsWeb(false);
    const c = await openConsoleSocket(url, rig.portKey, {}, withCert());
    expect(c.hello).toMatchObject({ user: pki.client.fingerprint.slice(0, 19), write: 'when-free' });
    c.ws.close();
  });
});

describe('SIGHUP with a web: section in a bridge run config', () => {
  it('a web: section added to a bridge that started without one is said to need a restart', async () => {
    const pair = await startPtyPair();
    const config = join(pair.dir, 'bridge.yaml');
    const ports = `ports:\n  - name: cable0\n    device: ${pair.a}\n    listen: 127.0.0.1:0\n`;
    writeFileSync(config, `lock: false\ncontrol: 127.0.0.1:0\n${ports}`);
    const bridge = await startCli(['bridge', 'run', config], /control: listening on 127\.0\.0\.1:(\d+)\n/);
    try {
      writeFileSync(config, `lock: false\ncontrol: 127.0.0.1:0\nweb:\n  listen: 127.0.0.1:0\n  stateDir: ${pair.dir}\n${ports}`);
      bridge.proc.kill('SIGHUP');
      await until(() => /SIGHUP: reloaded/.test(bridge.stderr()) && /SIGHUP: web: /.test(bridge.stderr()), 'the reload lines');
      expect(bridge.stderr()).toContain('laplink bridge: SIGHUP: web: section added: it starts with the bridge (restart it to serve the pages)\n');
    } finally {
      await stop(bridge.proc);
      await pair.close();
    }
  });

  it('reads the users again: a removed user or a changed password ends those pages, the rest stay open', async () => {
    const pair = await startPtyPair();
    const far = openEnd(pair.b);
    const received: Buffer[] = [];
    far.stream.on('data', (d: Buffer) => received.push(d));
    const config = join(pair.dir, 'bridge.yaml');
    const [alice, bob, carol, bob2] = await Promise.all(['alice pw', 'bob pw', 'carol pw', 'bob new pw'].map((p) => hashPassword(p)));
    const write = (users: string) => writeFileSync(config, `lock: false\ncontrol: 127.0.0.1:0\nweb:\n  listen: 127.0.0.1:0\n  stateDir: ${pair.dir}\n  users:\n${users}ports:\n  - name: cable0\n    device: ${pair.a}\n    listen: 127.0.0.1:0\n`);
    const user = (name: string, hash: string, policy: string) => `    - { name: ${name}, passwordHash: "${hash}", write: ${policy} }\n`;
    write(user('alice', alice!, 'always') + user('bob', bob!, 'when-free'));
    const bridge = await startCli(['bridge', 'run', config], /cable0: listening on 127\.0\.0\.1:(\d+)\n(?:.*\n)*?web: serving http:\/\/127\.0\.0\.1:(\d+)\/\n/);
    try {
      const url = `http://127.0.0.1:${bridge.match[2]}`;
      const portKey = `127.0.0.1:${bridge.match[1]}`;
      const aliceCookie = await logIn(url, 'alice', 'alice pw');
      const bobCookie = await logIn(url, 'bob', 'bob pw');
      await untilConsoleListed(url, portKey, { Cookie: bobCookie });
      const a = await openConsoleSocket(url, portKey, { Cookie: aliceCookie });
      const b = await openConsoleSocket(url, portKey, { Cookie: bobCookie });
      expect([a.hello.role, b.hello.role]).toEqual(['writer', 'viewer']);
      const aClosed = new Promise<number>((r) => a.ws.on('close', (code) => r(code)));

      // alice is removed, carol added, bob unchanged
      write(user('bob', bob!, 'when-free') + user('carol', carol!, 'never'));
      bridge.proc.kill('SIGHUP');
      await until(() => /SIGHUP: web: users and passwords reloaded/.test(bridge.stderr()), 'the reload');
      expect(bridge.stderr()).toContain('laplink bridge: SIGHUP: web: users and passwords reloaded: 1 page kept, 1 closed\n');
      expect(await aClosed).toBe(4001);
      await until(() => roleOf(b) === 'writer', 'bob to get the freed seat');
      await until(() => b.texts.some((m) => m.state === 'open'), 'the port session');
      b.ws.send(Buffer.from('still here'));
      await until(() => Buffer.concat(received).length >= 10, "bob's bytes on the far pty");
      expect(Buffer.concat(received).toString()).toBe('still here');
      expect(await logIn(url, 'alice', 'alice pw')).toBe('');
      await expect(openConsoleSocket(url, portKey, { Cookie: aliceCookie })).rejects.toThrow(/401/);
      expect(await logIn(url, 'carol', 'carol pw')).not.toBe('');

      // bob's password changes: his login ends with it
      const bClosed = new Promise<number>((r) => b.ws.on('close', (code) => r(code)));
      write(user('bob', bob2!, 'when-free') + user('carol', carol!, 'never'));
      bridge.proc.kill('SIGHUP');
      await until(() => /0 pages kept, 1 closed/.test(bridge.stderr()), 'the second reload');
      expect(await bClosed).toBe(4001);
      expect(await logIn(url, 'bob', 'bob new pw')).not.toBe('');
    } finally {
      far.close();
      await stop(bridge.proc);
      await pair.close();
    }
  }, 60_000);
});

describe('laplink web --users-file', () => {
  it('reads the file again on SIGHUP, and keeps the running users when the new file does not load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'laplink-web-users-'));
    const file = join(dir, 'users.yaml');
    const [bob, carol] = await Promise.all(['bob pw', 'carol pw'].map((p) => hashPassword(p)));
    writeFileSync(file, `users:\n  - { name: bob, passwordHash: "${bob}" }\n`);
    const web = await startCli(['web', '--listen', '127.0.0.1:0', '--state-dir', dir, '--users-file', file], /web: serving http:\/\/127\.0\.0\.1:(\d+)\/\n/);
    try {
      const url = `http://127.0.0.1:${web.match[1]}`;
      expect(await logIn(url, 'bob', 'bob pw')).not.toBe('');
      writeFileSync(file, `users:\n  - { name: bob, passwordHash: "${bob}", write: sometimes }\n`);
      web.proc.kill('SIGHUP');
      await until(() => /SIGHUP: keeping/.test(web.stderr()), 'the refused reload');
      expect(web.stderr()).toMatch(/web: SIGHUP: keeping the running users: .*users\.yaml:2:\d+: users\[0\]\.write: not an allowed value/);
      expect(await logIn(url, 'bob', 'bob pw')).not.toBe('');
      writeFileSync(file, `users:\n  - { name: carol, passwordHash: "${carol}" }\n`);
      web.proc.kill('SIGHUP');
      await until(() => /SIGHUP: users and passwords reloaded/.test(web.stderr()), 'the reload');
      expect(await logIn(url, 'bob', 'bob pw')).toBe('');
      expect(await logIn(url, 'carol', 'carol pw')).not.toBe('');
    } finally {
      await stop(web.proc);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
