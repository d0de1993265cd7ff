/**
 * The journal through the real CLI: `check` diagnoses an interrupted run and changes nothing, saying
 * how to finish it; `generate` finishes it; a crafted journal naming a file outside --root is refused
 * by both, the file untouched. Runs the built CLI.
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { JOURNAL_PATH } from '../../src/render/journal.js';
import { laplinkBin } from '../helpers/supervisor-harness.js';

let root = '';
let outside = '';
let locks = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'laplink-jcli-'));
  outside = await mkdtemp(join(tmpdir(), 'laplink-jcli-outside-'));
  locks = await mkdtemp(join(tmpdir(), 'laplink-jcli-locks-'));
});
afterEach(async () => {
  for (const d of [root, outside, locks]) await rm(d, { recursive: true, force: true });
});

const profileYaml = `name: jcli
role: server
peer: linux
device: /dev/ttyS1
localIp: 192.168.7.1
remoteIp: 192.168.7.2
hostnames: { local: gw, remote: laptop }
auth: { require: none }
`;
const laplink = (args: string[]) => execa(process.execPath, [laplinkBin, ...args], { reject: false, timeout: 60_000 });

async function journal(entries: unknown[], state = 'committing'): Promise<string> {
  const file = join(root, JOURNAL_PATH);
  await mkdir(join(root, 'var/lib/laplink'), { recursive: true });
  await writeFile(file, JSON.stringify({ version: 1, pid: 999_999_999, state, entries }), { mode: 0o600 });
  return file;
}

it('check reports an interrupted run and changes nothing; generate then finishes it', async () => {
  const profile = join(root, 'p.yaml');
  await writeFile(profile, profileYaml);
  const peers = join(root, 'etc/ppp/peers');
  await mkdir(peers, { recursive: true });
  await writeFile(join(peers, 'jcli'), 'old\n');
  await writeFile(join(peers, '.jcli.laplink-tmp-0badc0de'), 'new\n');
  const file = await journal([{ target: join(peers, 'jcli'), path: '/etc/ppp/peers/jcli', temp: join(peers, '.jcli.laplink-tmp-0badc0de'), backup: null }]);
  const checked = await laplink(['check', profile, '--root', root, '--lock-dir', locks]);
  expect(checked.stdout).toContain(`warn interrupted run: an interrupted run (pid 999999999, committing, 1 files) is recorded in ${file}: \`laplink generate ${profile}\` (or \`laplink remove ${profile}\`) completes its change first; check changed nothing`);
  expect(await readFile(join(peers, 'jcli'), 'utf8'), 'check changed nothing').toBe('old\n');
  expect((await stat(file)).isFile()).toBe(true);
  const generated = await laplink(['generate', profile, '--root', root]);
  expect(generated.exitCode, generated.stderr).toBe(0);
  expect(generated.stderr).toMatch(/an interrupted run \(pid 999999999, committing\) was found and rolled forward \(1 files\)/);
  await expect(stat(file)).rejects.toThrow(/ENOENT/);
});

it('a journal naming a file outside --root: check says FAIL, generate refuses, the file is untouched', async () => {
  const profile = join(root, 'p.yaml');
  await writeFile(profile, profileYaml);
  await writeFile(join(outside, 'victim'), 'precious\n');
  await writeFile(join(outside, '.victim.laplink-tmp-0badc0de'), 'owned\n');
  await writeFile(join(outside, 'gone'), 'precious\n');
  await journal([
    { target: join(outside, 'victim'), temp: join(outside, '.victim.laplink-tmp-0badc0de'), backup: null },
    { target: join(outside, 'gone'), temp: null, backup: null },
  ]);
  const checked = await laplink(['check', profile, '--root', root, '--lock-dir', locks]);
  expect(checked.exitCode).toBe(1);
  expect(checked.stdout).toMatch(/^FAIL interrupted run: .*generate\.journal is refused: entry 1: .*victim is outside .*; nothing was changed/m);
  const generated = await laplink(['generate', profile, '--root', root]);
  expect(generated.exitCode).toBe(1);
  expect(generated.stderr).toMatch(/^laplink: .*generate\.journal is refused: entry 1: .*victim is outside/);
  expect(generated.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  expect(await readFile(join(outside, 'victim'), 'utf8')).toBe('precious\n');
  expect(await readFile(join(outside, 'gone'), 'utf8')).toBe('precious\n');
  await expect(stat(join(root, 'etc/ppp/peers/jcli')), 'generate wrote nothing').rejects.toThrow(/ENOENT/);
});
