/**
 * Windows Direct Cable Connection handshake (issues 4 and 5). There is no Windows machine here: the
 * Windows side is test/helpers/dcc-peer.ts, an emulator of what Windows sends. Covered: both presets
 * against the emulator and against each other through a socat pty pair and through a TCP socket; the
 * real /usr/sbin/chat running the scripts from dccScript() against the emulator; real chat in one
 * role against our engine in the other.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { ReadStream } from 'node:tty';
import { afterEach, describe, expect, it } from 'vitest';
import { dccScript, type DccRole } from '../../src/chat/dcc.js';
import { runChat } from '../../src/chat/runner.js';
import { tokenizeFile } from '../../src/chat/script.js';
import { emulateWindows, type WindowsRole } from '../helpers/dcc-peer.js';
import { LAPLINK_BIN, ptyPair, REAL_CHAT, type PtyPair } from '../helpers/chat-harness.js';

const pairs: PtyPair[] = [];
afterEach(async () => {
  await Promise.all(pairs.splice(0).map((p) => p.close()));
});
async function pair(): Promise<PtyPair> {
  const p = await ptyPair();
  pairs.push(p);
  return p;
}

type Impl = 'laplink' | 'real';
/** Runs one chat on a pty path (fd 0 and 1), DCC role `role`; resolves with its exit status and stderr. */
function chatOn(path: string, impl: Impl, role: DccRole, dir: string): Promise<{ code: number | null; stderr: string }> {
  const fd = openSync(path, 'r+');
  let args: string[];
  let cmd: string;
  if (impl === 'laplink') {
    cmd = process.execPath;
    args = [LAPLINK_BIN, 'chat', '-t', '10', '--preset', `dcc-${role}`];
  } else {
    const file = join(dir, `dcc-${role}.chat`);
    writeFileSync(file, dccScript(role, { timeout: 10, retry: 1 }));
    cmd = REAL_CHAT;
    args = ['-f', file];
  }
  const child = spawn(cmd, args, { stdio: [fd, fd, 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      closeSync(fd);
      resolve({ code, stderr });
    }),
  );
}

function ttyOn(path: string): ReadStream {
  return new ReadStream(openSync(path, 'r+'));
}

const windowsFor = (role: DccRole): WindowsRole => (role === 'host' ? 'windows-guest' : 'windows-host');

describe('DCC presets against the Windows emulator over a pty pair', () => {
  for (const impl of ['laplink', 'real'] as const) {
    for (const role of ['host', 'guest'] as const) {
      it(`${impl === 'real' ? 'real chat with dccScript()' : 'laplink --preset'} dcc-${role} completes against an emulated ${windowsFor(role)}`, async () => {
        const p = await pair();
        const win = ttyOn(p.b);
        const emu = emulateWindows(win, windowsFor(role), { ignoreFirst: true, interval: 400 });
        const chat = await chatOn(p.a, impl, role, p.dir);
        const seen = await emu;
        win.destroy();
        expect(chat, chat.stderr).toMatchObject({ code: 0 });
        expect(seen.completed).toBe(true);
        if (role === 'host') expect(seen.received.toString('latin1')).toBe('CLIENTSERVER');
        else expect(seen.received.toString('latin1')).toMatch(/^(CLIENT)+$/);
      });
    }
  }
});

describe('DCC presets against each other over a pty pair', () => {
  for (const [hostImpl, guestImpl] of [['laplink', 'laplink'], ['real', 'laplink'], ['laplink', 'real']] as const) {
    it(`${hostImpl} host and ${guestImpl} guest complete the handshake`, async () => {
      const p = await pair();
      const [host, guest] = await Promise.all([chatOn(p.a, hostImpl, 'host', p.dir), chatOn(p.b, guestImpl, 'guest', p.dir)]);
      expect(host, host.stderr).toMatchObject({ code: 0 });
      expect(guest, guest.stderr).toMatchObject({ code: 0 });
    });
  }
});

describe('DCC presets over a TCP socket (in-process engine on net.Socket)', () => {
  async function socketPair(): Promise<[Socket, Socket, () => void]> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const accepted = new Promise<Socket>((r) => server.once('connection', r));
    const client = connect(port, '127.0.0.1');
    const s = await accepted;
    return [client, s, () => { client.destroy(); s.destroy(); server.close(); }];
  }
  const preset = (role: DccRole) => tokenizeFile(Buffer.from(dccScript(role, { timeout: 10, retry: 1 })), `dcc-${role}`);
  const quiet = { log: () => {}, stderr: () => {}, report: () => {} };

  it('host preset completes against an emulated Windows guest', async () => {
    const [a, b, done] = await socketPair();
    const emu = emulateWindows(b, 'windows-guest', { interval: 200 });
    const result = await runChat(preset('host'), a, {}, quiet);
    expect(result.exitCode).toBe(0);
    expect((await emu).completed).toBe(true);
    done();
  });
  it('guest preset completes against an emulated Windows host that misses the first CLIENT', async () => {
    const [a, b, done] = await socketPair();
    const emu = emulateWindows(b, 'windows-host', { ignoreFirst: true });
    const result = await runChat(preset('guest'), a, {}, quiet);
    expect(result.exitCode).toBe(0);
    expect((await emu).clients).toBeGreaterThanOrEqual(2);
    done();
  });
  it('host and guest presets complete against each other', async () => {
    const [a, b, done] = await socketPair();
    const [h, g] = await Promise.all([runChat(preset('host'), a, {}, quiet), runChat(preset('guest'), b, {}, quiet)]);
    expect([h.exitCode, g.exitCode]).toEqual([0, 0]);
    done();
  });
  it('guest preset times out (exit 3) when nobody answers', async () => {
    const [a, , done] = await socketPair();
    const tokens = tokenizeFile(Buffer.from(dccScript('guest', { timeout: 2, retry: 1 })), 'dcc-guest');
    const result = await runChat(tokens, a, {}, quiet);
    expect(result.exitCode).toBe(3);
    done();
  });
});
