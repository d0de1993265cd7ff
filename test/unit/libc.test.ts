/**
 * The addon's system calls through their typed wrappers (src/line/libc.ts), on what this host has:
 * a new pseudo-terminal, /dev/null (not a tty), and AF_UNIX datagram sockets bound by python3's
 * socket module (a real receiver, as systemd's notify socket would be). Each failure is a
 * SyscallError naming the call and the errno; a wrong argument is the C side's TypeError.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRaw, openPty, outputSpeed, sendBreak, sendDatagram, serialIcount, SyscallError } from '../../src/line/libc.js';
import { addon } from '../../src/native/addon.js';
import { notifyAddress } from '../../src/runtime/sd-notify.js';
import { waitUntil } from '../helpers/bridge.js';
import { notifySocket } from '../helpers/notify-socket.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function devNull(): number {
  const fd = openSync('/dev/null', 'r');
  cleanups.push(() => closeSync(fd));
  return fd;
}

function syscallFailure(fn: () => unknown): SyscallError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SyscallError);
    return err as SyscallError;
  }
  throw new Error('the call did not fail');
}

describe('the addon', () => {
  it('is built (npm run build compiles native/*.c)', () => {
    expect(addon, 'dist/native/pump.node did not load').toBeDefined();
  });

  it('throws a TypeError for a wrong argument, and makes no call', () => {
    expect(() => addon!.makeRaw(-1)).toThrow(TypeError);
    expect(() => addon!.ptsName('3' as unknown as number)).toThrow(/ptsName\(fd\): fd must be a non-negative integer/);
    expect(() => addon!.serialCounters(0, Buffer.alloc(40))).toThrow(/smaller than struct serial_icounter_struct/);
    expect(() => addon!.sendDatagram(Buffer.from([2, 0, 47]), Buffer.from('x'))).toThrow(/not AF_UNIX/);
    expect(() => addon!.sendDatagram(Buffer.alloc(200), Buffer.from('x'))).toThrow(/not a struct sockaddr_un/);
  });
});

describe('pseudo-terminal and termios', () => {
  it('openPty makes a pty whose slave exists; makeRaw and outputSpeed work on the slave', () => {
    const { master, slavePath } = openPty();
    cleanups.push(() => closeSync(master));
    expect(slavePath).toMatch(/^\/dev\/pts\/\d+$/);
    expect(existsSync(slavePath)).toBe(true);
    const slave = openSync(slavePath, 'r+');
    cleanups.push(() => closeSync(slave));
    makeRaw(slave);
    expect(outputSpeed(slave)).toBe(38400); // a new pty's default
  });

  it('a pty keeps no counters: TIOCGICOUNT answers ENOTTY, which is said as no counters, not thrown', () => {
    const { master } = openPty();
    cleanups.push(() => closeSync(master));
    expect(serialIcount(master, Buffer.alloc(80))).toBe(false);
  });

  it('TIOCGICOUNT failing for another reason (an fd already closed) still throws, naming the call', () => {
    const fd = openSync('/dev/null', 'r');
    closeSync(fd);
    const err = syscallFailure(() => serialIcount(fd, Buffer.alloc(80)));
    expect([err.syscall, err.code]).toEqual(['ioctl TIOCGICOUNT', 'EBADF']);
  });

  it('on something that is not a tty each call says which call failed and why', () => {
    const fd = devNull();
    for (const [call, fn] of [['tcsetattr', () => makeRaw(fd)], ['tcgetattr', () => outputSpeed(fd)], ['tcsendbreak', () => sendBreak(fd)]] as const) {
      const err = syscallFailure(fn);
      expect(err.message).toBe(`${call}: not a terminal (ENOTTY)`);
      expect(err.errno).toBe(25);
    }
  });
});

describe('sendDatagram', () => {
  it('reaches a socket bound to a path and one with an abstract name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'laplink-dgram-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const name of [join(dir, 'notify'), `@laplink-test-${process.pid}`]) {
      const socket = await notifySocket(name);
      cleanups.push(() => socket.close());
      const target = notifyAddress(name)!;
      sendDatagram(target.addr.subarray(0, target.length), Buffer.from('READY=1'));
      await waitUntil(() => socket.messages.length > 0, `a datagram at ${name}`, 10_000, 10);
      expect(socket.messages).toEqual(['READY=1']);
    }
  });

  it('to a socket that is not a datagram socket: EPROTOTYPE, named by its code where there are no plainer words', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'laplink-dgram-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'stream');
    const server = createServer().listen(path);
    cleanups.push(() => new Promise((r) => server.close(r)));
    await once(server, 'listening');
    const target = notifyAddress(path)!;
    const err = syscallFailure(() => sendDatagram(target.addr.subarray(0, target.length), Buffer.from('READY=1')));
    expect(err.message).toBe('sendto: EPROTOTYPE');
  });

  it('to a path nobody listens on: ENOENT, as sendto says it', () => {
    const target = notifyAddress(join(tmpdir(), `laplink-nobody-${process.pid}`))!;
    const err = syscallFailure(() => sendDatagram(target.addr.subarray(0, target.length), Buffer.from('READY=1')));
    expect(err.message).toBe('sendto: no such file or directory (ENOENT)');
  });
});
