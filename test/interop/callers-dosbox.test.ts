/**
 * docs/callers.md's DOSBox settings, run: real DOSBox (Debian's dosbox 0.74, headless through SDL's
 * dummy drivers) with exactly the documented `serial1=nullmodem …` line, its DOS `echo ATDT… > COM1`
 * reaching the listener and answered. The listener's pppd is test/helpers/echo-pppd.sh, a
 * STAND-IN: this machine's kernel has no PPP, so the real pppd exits 4 before it could negotiate.
 */
import { execa, type ResultPromise } from 'execa';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { CallerServer } from '../../src/callers/server.js';
import { openServer, settings } from '../helpers/callers-harness.js';

const DOSBOX = '/usr/bin/dosbox';

let dir: string;
let server: CallerServer | undefined;
let dosbox: ResultPromise | undefined;
const log: string[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-dosbox-'));
  log.length = 0;
});
afterEach(async () => {
  dosbox?.kill('SIGKILL');
  await dosbox;
  dosbox = undefined;
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The `serial1=` line docs/callers.md gives for DOSBox. */
function documentedSerialLine(): string {
  const docs = readFileSync(new URL('../../docs/callers.md', import.meta.url), 'utf8');
  const line = /^serial1=nullmodem .*$/m.exec(docs)?.[0];
  if (!line) throw new Error('docs/callers.md gives no serial1=nullmodem line for DOSBox');
  return line;
}

it('DOSBox with the documented serial1=nullmodem line dials the listener from DOS and is answered', async () => {
  const line = documentedSerialLine();
  expect(line).toMatch(/ server:HOST port:2323 /);
  server = await openServer(settings(dir, { protocol: 'modem' }), log);
  const conf = join(dir, 'dosbox.conf');
  await writeFile(conf, [
    '[mixer]', 'nosound=true',
    '[speaker]', 'pcspeaker=false', 'tandy=off',
    '[serial]', line.replace('HOST', '127.0.0.1').replace('port:2323', `port:${server.address.port}`),
    // DOS's own echo, redirected to the COM port, is what a terminal program's dial would send
    '[autoexec]', 'echo ATDT5551234 > COM1', '',
  ].join('\n'));
  dosbox = execa(DOSBOX, ['-conf', conf, '-noconsole'], {
    reject: false,
    stdin: 'ignore',
    cwd: dir,
    env: { SDL_VIDEODRIVER: 'dummy', SDL_AUDIODRIVER: 'dummy', HOME: dir },
    all: true,
  });
  // DOSBox stays at its prompt once the autoexec ran: the caller's state says when it was answered
  // (a ceiling for a stuck emulator, not a timing).
  const deadline = Date.now() + 30_000;
  while (server.callers()[0]?.state !== 'running') {
    if (dosbox.exitCode !== null || Date.now() > deadline) {
      dosbox.kill('SIGKILL');
      const r = await dosbox;
      throw new Error(`DOSBox was not answered (exit ${r.exitCode ?? r.signal}${(r as { code?: string }).code === 'ENOENT' ? `: ${DOSBOX} is missing, apt-get install dosbox` : ''}): ${String(r.all ?? '').slice(-500)}\nlistener:\n${log.join('\n')}`);
    }
    await sleep(20);
  }
  expect(server.callers()).toMatchObject([{ state: 'running', dialled: '5551234' }]);
  expect(log.some((l) => l.endsWith('<- ATDT5551234'))).toBe(true);
  expect(log.some((l) => l.endsWith('-> CONNECT 115200'))).toBe(true);
}, 60_000);
