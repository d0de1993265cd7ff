/**
 * `\K` (send BREAK) on a line that is not a tty: chat(8) ignores what tcsendbreak returns, and so
 * does `laplink chat` (which, unlike chat(8), also runs on a socket): the failed BREAK (ENOTTY)
 * must not end the script. fd 0 and fd 1 are one end of a real AF_UNIX socketpair made by python3,
 * which reads the other end. Needs a fresh `npm run build` (it runs bin/laplink.js).
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { LAPLINK_BIN } from '../helpers/chat-harness.js';

const SOCKETPAIR_RUN = `
import json, socket, subprocess, sys
ours, theirs = socket.socketpair()
p = subprocess.Popen(sys.argv[1:], stdin=theirs, stdout=theirs, stderr=subprocess.PIPE)
theirs.close()
got = b''
while True:
    chunk = ours.recv(4096)
    if not chunk: break
    got += chunk
print(json.dumps({'code': p.wait(), 'got': got.decode('latin1'), 'stderr': p.stderr.read().decode()}))
`;

describe('laplink chat: \\K on a socket', () => {
  it('the failed BREAK is ignored and the rest of the send string goes out', async () => {
    const r = await execa('/usr/bin/python3', ['-c', SOCKETPAIR_RUN, process.execPath, LAPLINK_BIN, 'chat', '-t', '2', '', 'A\\KB']);
    const out = JSON.parse(r.stdout) as { code: number; got: string; stderr: string };
    expect(out.code, out.stderr).toBe(0);
    expect(out.got).toBe('AB\r');
  });
});
