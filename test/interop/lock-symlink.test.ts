/**
 * The UUCP lock is the device's, not the path's: `bridge serve` given a /dev/serial/by-id-style
 * symlink to a pty and `bridge serve` given the pty itself exclude each other, whichever starts
 * first, as users of pppd, ser2net and minicom expect. A real pty (socat) and the built CLI.
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { acquireLock, lockName } from '../../src/line/uucp-lock.js';
import { startPtyPair, type PtyPair } from '../helpers/ptypair.js';
import { laplinkBin } from '../helpers/supervisor-harness.js';

let pair: PtyPair | undefined;
let dir = '';
const servers: Array<ReturnType<typeof execa>> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.kill('SIGKILL');
    await s.catch(() => undefined);
  }
  await pair?.close();
  pair = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A pty and a by-id symlink to it, as udev makes for a USB adapter. */
async function ptyWithById(): Promise<{ pts: string; byId: string; locks: string }> {
  pair = await startPtyPair();
  dir = mkdtempSync(join(tmpdir(), 'laplink-byid-'));
  const pts = realpathSync(pair.a);
  expect(pts).toMatch(/^\/dev\/pts\/\d+$/);
  mkdirSync(join(dir, 'dev/serial/by-id'), { recursive: true });
  const byId = join(dir, 'dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0');
  symlinkSync(pts, byId);
  mkdirSync(join(dir, 'lock'));
  return { pts, byId, locks: join(dir, 'lock') };
}

const serve = (device: string, locks: string) => execa(process.execPath, [laplinkBin, 'bridge', 'serve', device, '--listen', '127.0.0.1:0', '--lock-dir', locks], { reject: false, timeout: 30_000 });

async function lockAppears(file: string, server: ReturnType<typeof execa>): Promise<void> {
  while (!existsSync(file)) {
    if (server.exitCode !== null) throw new Error(`the first bridge ended before locking: ${String((await server).stderr)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const first of ['byId', 'pts'] as const) {
  it(`bridge serve on the ${first === 'byId' ? 'by-id symlink' : 'pty itself'} first: the other path is refused, naming the holder`, async () => {
    const { pts, byId, locks } = await ptyWithById();
    const [a, b] = first === 'byId' ? [byId, pts] : [pts, byId];
    const holder = serve(a, locks);
    servers.push(holder);
    await lockAppears(join(locks, lockName(pts)), holder);
    const second = await serve(b, locks);
    expect(second.exitCode, second.stderr).not.toBe(0);
    expect(second.stderr).toContain(`is locked by pid ${holder.pid}`);
    expect(second.stderr).toContain(join(locks, lockName(pts)));
  });
}

it('a symlinked device takes the lock of the device it resolves to, and gives it back', async () => {
  const { pts, byId, locks } = await ptyWithById();
  const l = acquireLock(byId, locks);
  expect(l.file).toBe(join(locks, lockName(pts)));
  expect(readdirSync(locks)).toEqual([lockName(pts)]);
  l.release();
  expect(readdirSync(locks)).toEqual([]);
});
