/**
 * `laplink modem answer` as pppd's connect program on a socket (fd 0 and 1) whose peer goes away
 * while an answer is being written: one line saying so and exit 2 (the line failed), never Node's
 * unhandled-'error' stack trace. The peer sends AT and closes at once, so the OK meets a closed
 * socket (EPIPE) after the session already saw the line end.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { laplinkBin } from '../helpers/supervisor-harness.js';

async function answerThenHangUp(): Promise<{ code: number | null; stderr: string }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    const peer = await accepted;
    const child = spawn(process.execPath, [laplinkBin, 'modem', 'answer'], { stdio: [client, client, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    client.destroy(); // our copy; the child holds its own
    peer.end('AT\r');
    peer.destroy();
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    return { code, stderr };
  } finally {
    server.close();
  }
}

describe('modem answer when the caller hangs up mid-answer', () => {
  it('says the line failed in one line and exits 2, five times out of five', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await answerThenHangUp();
      expect(r.stderr).not.toMatch(/Unhandled 'error'|\n\s+at /);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(/^laplink modem: (cannot write to the line: connection closed by peer|the line closed before a connection was made)$/);
    }
  });
});
