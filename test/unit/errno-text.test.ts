import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { deviceGone } from '../../src/chat/reader.js';
import { errText } from '../../src/chat/runner.js';
import { errnoText, socketReason } from '../../src/socket-reason.js';

const errno = (code: string) => Object.assign(new Error(`${code}: something, open '/x'`), { code });

describe('errno codes reach users as words', () => {
  it('one table for files, devices and sockets', () => {
    expect(errnoText(errno('ENOENT'))).toBe('no such file or directory');
    expect(errnoText(errno('EACCES'))).toBe('permission denied');
    expect(errnoText(errno('ENOSPC'))).toBe('no space left on device');
    expect(socketReason(errno('ECONNREFUSED'))).toBe('connection refused');
    // a code without words keeps the message, without its leading code
    expect(errnoText(errno('EWEIRD'))).toBe("something, open '/x'");
    // not an Error (a native call's result): its code or message, never "[object Object]"
    expect(errnoText({ code: 'EPROTOTYPE' })).toBe('EPROTOTYPE');
    expect(errnoText({ code: 'ENOENT' })).toBe('no such file or directory');
    expect(errnoText({ message: 'gone away' })).toBe('gone away');
    expect(errnoText('plain text')).toBe('plain text');
  });

  it('chat says them as strerror does, and a lost device in words', () => {
    expect(errText(errno('EACCES'))).toBe('Permission denied');
    expect(deviceGone(errno('EIO')).message).toBe('chat: device gone (input/output error)');
  });

  it('init --output into a missing directory', async () => {
    const r = await execa('node', ['bin/laplink.js', 'init', '--role', 'client', '--output', '/nonexistent-dir/p.yaml'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe('laplink: cannot write /nonexistent-dir/p.yaml: no such file or directory');
  });
});
