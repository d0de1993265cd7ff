/**
 * Differential suite: every corpus case runs with the real /usr/sbin/chat (Debian ppp 2.4.9) and with
 * `laplink chat`, each on its own fresh socat pty pair (fd 0 and fd 1 = side A) against the same
 * scripted peer on side B. Compared: bytes the peer received, exit status, report file, stderr
 * (SAY, ECHO, -V, -v -s, REPORT without -r). Normalised: REPORT time stamps and temp-dir paths only.
 * Needs a fresh `npm run build` (it runs bin/laplink.js).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { corpus, type ChatCase, type Field } from './chat-corpus.js';
import { normalise, REAL_CHAT, runAgainstPeer, LAPLINK_BIN, type ChatRun } from '../helpers/chat-harness.js';

/** Two cores shared with other helpers: a few cases at a time (each case runs both implementations). */
const PARALLEL = 4;
let running = 0;
const queue: (() => void)[] = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((r) => queue.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    queue.shift()?.();
  }
}

function run(c: ChatCase, impl: 'real' | 'laplink'): Promise<ChatRun> {
  return runAgainstPeer({
    impl,
    args: c.args ?? [],
    script: c.script,
    peer: c.peer,
    ...(c.report ? { report: true } : {}),
    ...(c.files ? { files: c.files } : {}),
    ...(c.env ? { env: c.env } : {}),
  });
}

const view = (r: ChatRun, f: Field): unknown =>
  f === 'peer' ? r.peerReceived.toString('latin1') : f === 'exit' ? r.exitCode : f === 'report' ? normalise(r.report) : normalise(r.stderr);

describe('laplink chat vs /usr/sbin/chat', () => {
  it('has the real chat and a built laplink', () => {
    expect(existsSync(REAL_CHAT), `${REAL_CHAT} missing: apt-get install ppp`).toBe(true);
    expect(existsSync(new URL('../../dist/src/cli/chat.js', import.meta.url)), `run npm run build first (${LAPLINK_BIN})`).toBe(true);
  });
  it('corpus has at least 40 scripts', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
  });

  describe.concurrent('corpus', () => {
    for (const c of corpus) {
      it(c.name, async () => {
        const [real, ours] = await limited(() => Promise.all([run(c, 'real'), run(c, 'laplink')]));
        expect(real.exitCode, `real chat exit (stderr: ${real.stderr})`).toBe(c.exit);
        const skip = new Set(c.differs?.fields ?? []);
        for (const f of ['peer', 'exit', 'report', 'stderr'] as const) {
          if (!skip.has(f)) expect(view(ours, f), `${f} differs`).toEqual(view(real, f));
        }
        if (c.differs?.laplinkExit !== undefined) expect(ours.exitCode).toBe(c.differs.laplinkExit);
        if (skip.has('stderr')) {
          // Where we differ on purpose, ours is one clear line.
          expect(ours.stderr.trim().split('\n')).toHaveLength(1);
        }
      });
    }
  });
});
