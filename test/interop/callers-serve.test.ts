/**
 * `laplink serve` of a `listen:` profile, as the link's systemd unit runs it. Its pppd is
 * test/helpers/echo-pppd.sh, a STAND-IN: this machine's kernel has no PPP, so the real pppd exits 4
 * before it could negotiate anything.
 */
import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { closed, connect, echoPppd, readBytes } from '../helpers/callers-harness.js';
import { laplinkBin, removeDir, tempDir } from '../helpers/supervisor-harness.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('laplink-callers-serve-');
});
afterEach(async () => {
  await removeDir(dir);
});

const profile = (max: number) => `name: dialin
role: server
listen: 127.0.0.1:0
localIp: 192.168.7.1
remoteIp: 192.168.7.10-192.168.7.13
callers: { max: ${max}, protocol: ppp }
auth:
  require: pap
  users: [{ name: dialin, password: change-me }]
`;

async function until(test: () => boolean): Promise<void> {
  while (!test()) await new Promise((r) => setTimeout(r, 10));
}

it('serves callers, lists them in the state file, reloads on SIGHUP and ends every pppd on stop', async () => {
  const file = join(dir, 'dialin.yaml');
  writeFileSync(file, profile(2));
  const stateDir = join(dir, 'state');
  const serve = execa('node', [laplinkBin, 'serve', file, '--root', join(dir, 'root'), '--state-dir', stateDir, '--run-dir', join(dir, 'run'), '--pppd', echoPppd], { reject: false, all: true });
  let out = '';
  serve.all!.on('data', (c: Buffer) => (out += c.toString()));
  await until(() => /listening on 127\.0\.0\.1:\d+/.test(out) || serve.exitCode !== null);
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  expect(port, out).toBeGreaterThan(0);
  // The generated secrets let each caller take only pool addresses (pap-secrets takes CIDR blocks).
  expect(readFileSync(join(dir, 'root/etc/ppp/pap-secrets'), 'utf8')).toMatch(/^dialin\t\*\t"change-me"\t192\.168\.7\.10\/31\t192\.168\.7\.12\/31$/m);

  const a = await connect(port);
  a.write('~a');
  expect((await readBytes(a, 2)).toString()).toBe('~a');
  const stateFile = join(stateDir, 'dialin.json');
  const read = () => JSON.parse(readFileSync(stateFile, 'utf8')) as { state: string; callers: Array<{ ip: string; remote: string; pppdPid: number }> };
  await until(() => existsSync(stateFile) && read().callers.length === 1);
  const state = read();
  expect(state.state).toBe('up');
  expect(state.callers[0]).toMatchObject({ ip: '192.168.7.10', remote: `127.0.0.1:${a.localPort}` });
  const pid = state.callers[0]!.pppdPid;
  // The state file is written as callers come and go and every 5 s: its byte counts may lag.
  const shown = await execa('node', [laplinkBin, 'status', '--state-dir', stateDir], { reject: false });
  expect(shown.stdout).toMatch(new RegExp(`^  dialin caller 127\\.0\\.0\\.1:${a.localPort} 192\\.168\\.7\\.10  (handshaking|running)  since \\d\\d:\\d\\d:\\d\\d  in \\d+ B out \\d+ B$`, 'm'));

  // max 1 after a reload: the call in progress goes on, a new caller is turned away.
  writeFileSync(file, profile(1));
  serve.kill('SIGHUP');
  await until(() => out.includes('reloaded'));
  const b = await connect(port);
  b.write('~b');
  expect((await readBytes(b, 2)).toString()).toBe('');
  expect(out).toContain('busy: 1 caller(s) already (max 1)');

  serve.kill('SIGTERM');
  const r = await serve;
  expect(r.exitCode, out).toBe(0);
  expect(existsSync(`/proc/${pid}`)).toBe(false);
  await closed(a);
  expect(existsSync(stateFile)).toBe(false);
}, 30_000);
