/**
 * The login form against a guesser, over real HTTP (Node's http client, bound to two loopback
 * addresses so the server sees two sources): past its failed logins an address gets 429 with
 * Retry-After, even with the right password; another address is not held; the log says it once.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/web/password.js';
import { WebServer } from '../../src/web/server.js';
import { UserBook } from '../../src/web/users.js';

const dir = mkdtempSync(join(tmpdir(), 'laplink-web-limit-'));
const stop = new AbortController();
const log: string[] = [];
let port = 0;
let web: WebServer;

beforeAll(async () => {
  const users = new UserBook([], { hash: await hashPassword('right'), field: 'test' });
  web = await WebServer.start({ listen: { host: '127.0.0.1', port: 0 }, stateDir: dir, controls: [], users, loginLimit: { failures: 3, windowMs: 600_000 }, signal: stop.signal, log: (l) => log.push(l) });
  port = web.address.port;
});
afterAll(() => {
  stop.abort();
  rmSync(dir, { recursive: true, force: true });
});

/** POST /login from `from` (a loopback address): status, Retry-After and whether a cookie came. */
function logIn(from: string, password: string): Promise<{ status: number; retryAfter?: string; cookie: boolean }> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams({ password }).toString();
    const req = http.request({ host: '127.0.0.1', port, path: '/login', method: 'POST', localAddress: from, agent: false, headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], cookie: res.headers['set-cookie'] !== undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('failed logins per address', () => {
  it('answers 429 with Retry-After past the limit, before checking any password; other addresses go on', async () => {
    for (let i = 0; i < 3; i++) expect((await logIn('127.0.0.1', 'wrong')).status).toBe(303);
    const held = await logIn('127.0.0.1', 'wrong');
    expect(held.status).toBe(429);
    expect(Number(held.retryAfter)).toBeGreaterThan(0);
    expect(Number(held.retryAfter)).toBeLessThanOrEqual(600);
    const right = await logIn('127.0.0.1', 'right'); // the right password waits too: no guess is checked
    expect(right).toMatchObject({ status: 429, cookie: false });
    expect(web.refusals.loginLimit).toBe(2);
    expect(await logIn('127.0.0.2', 'right')).toMatchObject({ status: 303, cookie: true });
    for (let i = 0; i < 5; i++) await logIn('127.0.0.1', 'wrong');
    expect(log.filter((l) => l.includes('failed logins'))).toEqual(['web: 127.0.0.1: 3 failed logins within 600 s: refused (429) for the rest of that window']);
  });
});
