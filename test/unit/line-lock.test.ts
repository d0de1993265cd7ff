import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, lockName, LockError, parseLockPid, readLockPid } from '../../src/line/uucp-lock.js';

let dir: string;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});
const tmp = () => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laplink-lock-')));

describe('UUCP lock files', () => {
  it('names locks as pppd does', () => {
    expect(lockName('/dev/ttyS0')).toBe('LCK..ttyS0');
    expect(lockName('/dev/pts/3')).toBe('LCK..pts_3');
    expect(lockName('/dev/serial/by-id/usb-x')).toBe('LCK..serial_by-id_usb-x');
    expect(lockName('/tmp/x/a')).toBe('LCK..a');
  });

  it('writes the pid as %10d and a newline, and releases it', () => {
    const d = tmp();
    const l = acquireLock('/dev/ttyS0', d);
    expect(fs.readFileSync(path.join(d, 'LCK..ttyS0'), 'latin1')).toBe(`${String(process.pid).padStart(10)}\n`);
    expect(fs.readdirSync(d)).toEqual(['LCK..ttyS0']);
    l.release();
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('refuses with the holder pid when a live process holds it', async () => {
    const d = tmp();
    const sleeper = execa('sleep', ['30']);
    try {
      fs.writeFileSync(path.join(d, 'LCK..ttyS0'), `${String(sleeper.pid).padStart(10)}\n`);
      let err: unknown;
      try {
        acquireLock('/dev/ttyS0', d);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LockError);
      expect((err as LockError).holderPid).toBe(sleeper.pid);
      expect((err as Error).message).toBe(`/dev/ttyS0 is locked by pid ${sleeper.pid} (${d}/LCK..ttyS0)`);
      expect(readLockPid(path.join(d, 'LCK..ttyS0'))).toBe(sleeper.pid);
    } finally {
      sleeper.kill();
      await sleeper.catch(() => undefined);
    }
  });

  it('replaces a stale lock whose holder is dead', async () => {
    const d = tmp();
    const dead = execa('true');
    await dead;
    fs.writeFileSync(path.join(d, 'LCK..ttyS1'), `${String(dead.pid).padStart(10)}\n`);
    const l = acquireLock('/dev/ttyS1', d);
    expect(readLockPid(l.file)).toBe(process.pid);
    l.release();
  });

  it('does not remove a lock another process took over', () => {
    const d = tmp();
    const l = acquireLock('/dev/ttyS2', d);
    fs.writeFileSync(l.file, `${String(1).padStart(10)}\n`);
    l.release();
    expect(fs.existsSync(l.file)).toBe(true);
  });
});

describe('lock files read back as hostile input', () => {
  it('a FIFO or a symlink to /dev/zero in place of a lock is refused by name, never read', async () => {
    const d = tmp();
    await execa('mkfifo', [path.join(d, 'LCK..ttyS3')]);
    fs.symlinkSync('/dev/zero', path.join(d, 'LCK..ttyS4'));
    expect(() => acquireLock('/dev/ttyS3', d)).toThrow(new LockError(`/dev/ttyS3: lock file ${d}/LCK..ttyS3: is a FIFO, not a regular file; not read; remove it if no program uses /dev/ttyS3`));
    expect(() => acquireLock('/dev/ttyS4', d)).toThrow(/LCK\.\.ttyS4: is a symbolic link, not a regular file; not read/);
    expect(fs.readdirSync(d).sort(), 'nothing removed, no temp left').toEqual(['LCK..ttyS3', 'LCK..ttyS4']);
  });

  it('an oversized lock file is refused', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'LCK..ttyS5'), Buffer.alloc(2048, 0x31));
    expect(() => acquireLock('/dev/ttyS5', d)).toThrow(/is larger than 1024 bytes/);
  });
});

describe('parseLockPid', () => {
  it('reads HDB ASCII (with or without a trailing program name) and 4-byte binary pids; nothing else', () => {
    expect(parseLockPid(Buffer.from('      4242\n'))).toBe(4242);
    expect(parseLockPid(Buffer.from('      4242 minicom root\n'))).toBe(4242);
    const binary = Buffer.alloc(4);
    binary.writeInt32LE(31337, 0);
    expect(parseLockPid(binary)).toBe(31337);
    expect(parseLockPid(Buffer.from('         0\n'))).toBeUndefined();
    expect(parseLockPid(Buffer.from('garbage\n'))).toBeUndefined();
    expect(parseLockPid(Buffer.alloc(0))).toBeUndefined();
  });
});
