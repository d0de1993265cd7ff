/**
 * What a joining page is replayed (ByteRing), what a recording holds (asciicast v2, replayable by
 * asciinema) and how it rotates, and the password hash: pieces of `laplink web` with no network.
 */
import { execa } from 'execa';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword, PasswordCheck, PasswordHashError } from '../../src/web/password.js';
import { CastRecorder } from '../../src/web/recorder.js';
import { ByteRing } from '../../src/web/ring.js';
import { laplinkBin } from '../helpers/supervisor-harness.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ByteRing', () => {
  it('holds the last capacity bytes in order, whatever the chunk sizes', () => {
    const ring = new ByteRing(10);
    expect(ring.contents().toString()).toBe('');
    ring.push(Buffer.from('abc'));
    expect(ring.contents().toString()).toBe('abc');
    ring.push(Buffer.from('defghij'));
    expect(ring.contents().toString()).toBe('abcdefghij');
    ring.push(Buffer.from('klm'));
    expect(ring.contents().toString()).toBe('defghijklm');
    ring.push(Buffer.from('0123456789ABCDEF'));
    expect(ring.contents().toString()).toBe('6789ABCDEF');
    ring.push(Buffer.from('x'));
    expect(ring.contents().toString()).toBe('789ABCDEFx');
  });
});

describe('CastRecorder', () => {
  it('writes asciicast v2: a header, then [seconds, "o", text] lines, UTF-8 split across chunks kept whole', () => {
    dir = mkdtempSync(join(tmpdir(), 'laplink-cast-'));
    const rec = new CastRecorder({ dir, name: 'port-4001', maxBytes: 1 << 20, keep: 3 });
    const t0 = Date.parse('2026-12-05T04:00:00Z');
    const euro = Buffer.from('€'); // 3 bytes
    rec.write(Buffer.concat([Buffer.from('boot\r\n'), euro.subarray(0, 1)]), t0);
    rec.write(euro.subarray(1), t0 + 1500);
    rec.close();
    const [file] = readdirSync(dir);
    expect(file).toMatch(/^port-4001-2026-12-05T04-00-00-000Z\.cast$/);
    const lines = readFileSync(join(dir, file!), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([{ version: 2, width: 80, height: 24, timestamp: t0 / 1000 }, [0, 'o', 'boot\r\n'], [1.5, 'o', '€']]);
  });

  it('starts a new file past maxBytes and keeps only the newest `keep`', () => {
    dir = mkdtempSync(join(tmpdir(), 'laplink-cast-'));
    const rec = new CastRecorder({ dir, name: 'p', maxBytes: 200, keep: 2 });
    for (let i = 0; i < 20; i++) rec.write(Buffer.from(`line ${i} ${'x'.repeat(40)}\r\n`), Date.parse('2026-12-05T04:00:00Z') + i * 1000);
    rec.close();
    const files = readdirSync(dir).sort();
    expect(files.length).toBe(2);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(JSON.parse(text.split('\n')[0]!)).toMatchObject({ version: 2 });
      expect(text.length).toBeLessThan(200 + 100);
    }
    expect(readFileSync(join(dir, files[1]!), 'utf8')).toContain('line 19');
  });
});

describe('web password', () => {
  it('hash-password reads stdin, never argv; the hash checks the password and nothing else', async () => {
    const r = await execa(process.execPath, [laplinkBin, 'web', 'hash-password'], { input: 'hunter2\n', reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(r.stdout).not.toContain('hunter2');
    const check = new PasswordCheck(r.stdout, 'test');
    expect(await check.matches('hunter2')).toBe(true);
    expect(await check.matches('hunter3')).toBe(false);
    expect(await check.matches('hunter2\n')).toBe(false);
    const extra = await execa(process.execPath, [laplinkBin, 'web', 'hash-password', 'hunter2'], { reject: false });
    expect(extra.exitCode).toBe(2);
  });

  it('a damaged hash is a clear error naming where it came from', async () => {
    expect(() => new PasswordCheck('hunter2', '--password-hash-file')).toThrow(new PasswordHashError('--password-hash-file: not an scrypt hash (allowed: the line `laplink web hash-password` prints)'));
    const h = await hashPassword('x');
    expect(() => new PasswordCheck(h.replace('$32768$', '$1000$'), 'web.passwordHash')).toThrow(/web\.passwordHash: cost N=1000 is not a power of two/);
  });

  it('laplink web refuses a network address without a password or client certificates', async () => {
    dir = mkdtempSync(join(tmpdir(), 'laplink-webcli-'));
    const r = await execa(process.execPath, [laplinkBin, 'web', '--listen', '0.0.0.0:0', '--state-dir', dir], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe('laplink: --listen: 0.0.0.0:0 is not a loopback address: a console reachable from the network needs --password-hash-file or client certificates (--tls-ca/--tls-allow)');
  });
});
