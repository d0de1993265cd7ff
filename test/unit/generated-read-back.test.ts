/**
 * The files generate wrote are read back by generate and remove (to compare, keep owners, merge
 * blocks, find the other links by their systemd drop-ins) and by check (neighbours on a tty, users
 * shared in the secrets files). Whoever can write under --root may leave something else there: a
 * FIFO would hold each of them for good, a symlink to /dev/zero would be read without end. Each is
 * refused by type with one line naming the file; generate and remove change nothing, check goes on
 * with its other checks. (Device nodes are made with mknod: the suite runs as root, as CI does.)
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { checkLink } from '../../src/profile/check.js';
import { loadProfile } from '../../src/profile/load.js';
import { generateLink, removeLink } from '../../src/render/generate.js';
import { generatedLinks } from '../../src/render/shared-units.js';
import { WriteError } from '../../src/render/write.js';
import { EXIT } from '../../src/exit-codes.js';
import { laplinkBin } from '../helpers/supervisor-harness.js';

let dir = '';
let root = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-gen-readback-'));
  root = join(dir, 'root');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const argv = ['/usr/bin/node', '/opt/laplink/bin/laplink.js'];

/** A server on /dev/null (no tty: the device check says so, nothing else minds) with a PAP user. */
async function rbProfile(): Promise<string> {
  const profile = join(dir, 'rb.yaml');
  await writeFile(profile, 'name: rb\nrole: server\ndevice: /dev/null\nlocalIp: 10.0.0.1\nremoteIp: 10.0.0.2\nauth: { users: [{ name: laplink, password: s3cret-one }] }\n');
  return profile;
}

/** That profile, generated under root. */
async function generated(): Promise<string> {
  const profile = await rbProfile();
  await generateLink(profile, { root, laplinkArgv: argv });
  return profile;
}

/** Every file under root (path → content, or its kind), to show nothing was touched. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    const full = join(e.parentPath, e.name);
    out[full] = e.isFile() ? await readFile(full, 'utf8') : e.isSymbolicLink() ? 'symlink' : e.isFIFO() ? 'fifo' : e.isCharacterDevice() ? 'device' : 'dir';
  }
  return out;
}

const ttyOptions = () => join(root, 'etc/ppp/options.null');
const papSecrets = () => join(root, 'etc/ppp/pap-secrets');

async function hostileTargets(): Promise<void> {
  await rm(ttyOptions());
  await execa('mkfifo', [ttyOptions()]);
  await rm(papSecrets());
  await symlink('/dev/zero', papSecrets());
}

it('check: a FIFO and a symlink to /dev/zero in place of generated files are one line each, naming them; the other checks go on', async () => {
  const profile = await generated();
  await hostileTargets();
  const r = await checkLink(await loadProfile(profile), { root, lockDir: dir, laplinkArgv: argv });
  expect(r.find((x) => x.what === 'tty options')).toEqual({ level: 'warn', what: 'tty options', detail: `${ttyOptions()}: is a FIFO, not a regular file; not read` });
  expect(r.find((x) => x.what === 'secrets')).toEqual({ level: 'warn', what: 'secrets', detail: `${papSecrets()}: is a character device, not a regular file; not read` });
  const files = r.find((x) => x.what === 'generated files');
  expect(files?.level).toBe('FAIL');
  expect(files?.detail).toMatch(/^cannot read .*: is a (FIFO|character device), not a regular file; not read$/);
  expect(r.find((x) => x.what === 'profile')?.level).toBe('ok');
});

for (const [kind, make, reason] of [
  ['a FIFO', (file: string) => execa('mkfifo', [file]), 'a FIFO'],
  ['a device node (/dev/zero\'s numbers)', (file: string) => execa('mknod', [file, 'c', '1', '5']), 'a character device'],
] as const) {
  it(`generate and remove: ${kind} in place of a generated file is refused in one line naming it, nothing changed`, async () => {
    const profile = await generated();
    await rm(ttyOptions());
    await make(ttyOptions());
    const before = await snapshot();
    const refusal = `cannot read ${ttyOptions()}: is ${reason}, not a regular file; not read; nothing was changed`;
    await expect(generateLink(profile, { root, laplinkArgv: argv })).rejects.toThrow(refusal);
    expect(await snapshot()).toEqual(before);
    await expect(removeLink(profile, { root, laplinkArgv: argv })).rejects.toThrow(refusal);
    expect(await snapshot()).toEqual(before);
  });
}

it("remove: another link's systemd drop-in that is a FIFO is never read, that link still counts (the shared units stay for it), and remove finishes", async () => {
  const profile = await generated();
  const other = join(root, 'etc/systemd/system/laplink@other.service.d');
  await mkdir(other, { recursive: true });
  await execa('mkfifo', [join(other, 'profile.conf')]);
  expect(await generatedLinks(root)).toEqual([
    { name: 'other', unreadable: `${join(other, 'profile.conf')}: is a FIFO, not a regular file; not read` },
    { name: 'rb', profilePath: profile },
  ]);
  await removeLink(profile, { root, laplinkArgv: argv });
  await expect(readFile(join(root, 'etc/ppp/peers/rb'), 'utf8')).rejects.toThrow(/ENOENT/);
  // the last readable link went, not the last link: the template unit the other one runs from stays
  await expect(readFile(join(root, 'etc/systemd/system/laplink@.service'), 'utf8')).resolves.toMatch(/^# Generated by ppp-laplink;/);
});

const lockPath = () => join(root, 'run/lock/laplink-generate.lock');

for (const [what, make, kind] of [
  ['a FIFO', (file: string) => execa('mkfifo', [file]), 'a FIFO'],
  ['a directory', (file: string) => mkdir(file), 'a directory'],
  ['a symlink to /dev/zero', (file: string) => symlink('/dev/zero', file), 'a symbolic link'],
  // a link to a lock file of a dead laplink is still no lock of ours: refused, never followed
  ['a symlink to a dead holder\'s lock', (file: string) => writeFile(`${file}-elsewhere`, '999999999\n').then(() => symlink(`${file}-elsewhere`, file)), 'a symbolic link'],
] as const) {
  it(`the generate lock as ${what} is no lock at all: generate and the CLI refuse it by name, nothing written, nothing left`, async () => {
    await mkdir(join(root, 'run/lock'), { recursive: true });
    await make(lockPath());
    const profile = await rbProfile();
    const before = await snapshot();
    const refusal = `cannot take the lock ${lockPath()}: it is ${kind}, not a lock file laplink made; remove it by hand; nothing was changed`;
    const err = await generateLink(profile, { root, laplinkArgv: argv }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect((err as Error).message).toBe(refusal);
    expect(await snapshot(), 'no generated file, no lock temp, no .stale- name').toEqual(before);
    const cli = await execa('node', [laplinkBin, 'generate', profile, '--root', root], { reject: false });
    expect(cli.stderr).toBe(`laplink: ${refusal}`);
    expect(cli.exitCode).toBe(EXIT.FAILED);
    expect(await snapshot()).toEqual(before);
    // check says it first, in the same words, and reads nothing through it
    const r = await checkLink(await loadProfile(profile), { root, lockDir: dir, laplinkArgv: argv });
    expect(r.find((x) => x.what === 'generate lock')).toEqual({ level: 'FAIL', what: 'generate lock', detail: `${lockPath()}: it is ${kind}, not a lock file laplink made; remove it by hand (generate refuses to run until then)` });
    expect(await snapshot()).toEqual(before);
  });
}

for (const [kind, make] of [
  ['a file over the cap that starts with a live pid', (file: string) => writeFile(file, `${process.pid}\n${' '.repeat(4096)}`)],
  ['a file holding no pid', (file: string) => writeFile(file, 'not a pid\n')],
] as const) {
  it(`the generate lock as ${kind} is a dead holder's: generate takes it over and finishes`, async () => {
    await mkdir(join(root, 'run/lock'), { recursive: true });
    await make(lockPath());
    await generated();
    await expect(readdir(join(root, 'run/lock')), 'the lock taken over and released').resolves.toEqual([]);
  });
}
