/**
 * The one reader of files read back: by type before reading (a FIFO with no writer would block, a
 * symlink to /dev/zero never ends), a size cap, and a schema. Each case a real file of that kind.
 */
import { execa } from 'execa';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { z } from 'zod';
import { readBack, readBackJson, readBackSync, ReadBackError } from '../../src/runtime/read-back.js';
import { errnoText } from '../../src/socket-reason.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-readback-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cap = { maxBytes: 1024 };

/** The ReadBackError's message from both readers (they must agree). */
async function refusal(file: string, options: { maxBytes: number; followSymlinks?: boolean } = cap): Promise<string> {
  const a = await readBack(file, options).then(() => 'read', (err: unknown) => (err instanceof ReadBackError ? err.message : `other: ${String(err)}`));
  let b: string;
  try {
    readBackSync(file, options);
    b = 'read';
  } catch (err) {
    b = err instanceof ReadBackError ? err.message : `other: ${String(err)}`;
  }
  expect(b, 'the sync reader says the same').toBe(a);
  return a;
}

it('reads a regular file, and says undefined for a missing one', async () => {
  await writeFile(join(dir, 'ok'), 'hello');
  expect((await readBack(join(dir, 'ok'), cap))!.bytes.toString()).toBe('hello');
  expect(readBackSync(join(dir, 'ok'), cap)!.bytes.toString()).toBe('hello');
  expect(await readBack(join(dir, 'missing'), cap)).toBeUndefined();
  expect(readBackSync(join(dir, 'missing'), cap)).toBeUndefined();
});

it('refuses a FIFO without blocking', async () => {
  await execa('mkfifo', [join(dir, 'fifo')]);
  expect(await refusal(join(dir, 'fifo'))).toBe(`${join(dir, 'fifo')}: is a FIFO, not a regular file; not read`);
});

it('refuses a device, named or through a symlink, even when symlinks are followed', async () => {
  await symlink('/dev/zero', join(dir, 'zero'));
  expect(await refusal('/dev/zero')).toMatch(/is a character device, not a regular file; not read$/);
  expect(await refusal(join(dir, 'zero'))).toMatch(/zero: is a symbolic link, not a regular file; not read$/);
  expect(await refusal(join(dir, 'zero'), { ...cap, followSymlinks: true } as typeof cap)).toMatch(/zero: is a character device/);
});

it('refuses a symlink to a regular file unless told to follow it', async () => {
  await writeFile(join(dir, 'real'), 'x');
  await symlink(join(dir, 'real'), join(dir, 'link'));
  expect(await refusal(join(dir, 'link'))).toMatch(/is a symbolic link/);
  expect((await readBack(join(dir, 'link'), { ...cap, followSymlinks: true }))!.bytes.toString()).toBe('x');
});

it('refuses a socket and a directory', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(join(dir, 'sock'), r));
  try {
    expect(await refusal(join(dir, 'sock'))).toMatch(/is a socket/);
  } finally {
    server.close();
  }
  expect(await refusal(dir)).toMatch(/is a directory/);
});

it('refuses a file over the cap, and reads one exactly at it', async () => {
  await writeFile(join(dir, 'big'), Buffer.alloc(1025, 0x41));
  await writeFile(join(dir, 'fits'), Buffer.alloc(1024, 0x41));
  expect(await refusal(join(dir, 'big'))).toMatch(/big: is larger than 1024 bytes; not read$/);
  expect((await readBack(join(dir, 'fits'), cap))!.bytes.length).toBe(1024);
});

it('a /proc file (size 0 in fstat) is read whole up to the cap', async () => {
  const got = await readBack('/proc/self/status', { maxBytes: 64 * 1024 });
  expect(got!.stats.size).toBe(0);
  expect(got!.bytes.toString()).toMatch(/^Name:/);
  // one that outgrows the first buffer: read on up to the cap, refused past it
  const maps = await readBack('/proc/self/smaps', { maxBytes: 8 * 1024 * 1024 });
  expect(maps!.bytes.length).toBeGreaterThan(16 * 1024);
  expect(readBackSync('/proc/self/smaps', { maxBytes: 8 * 1024 * 1024 })!.bytes.length).toBeGreaterThan(16 * 1024);
  expect(await refusal('/proc/self/smaps', { maxBytes: 10_000 })).toMatch(/smaps: is larger than 10000 bytes; not read$/);
});

it('validates JSON against a schema, naming the field', async () => {
  const schema = z.object({ name: z.string(), n: z.number() });
  await writeFile(join(dir, 'a.json'), '{"name":"x","n":1}');
  await writeFile(join(dir, 'b.json'), '{"name":3,"n":1}');
  await writeFile(join(dir, 'c.json'), '[1,2]');
  await writeFile(join(dir, 'd.json'), '{"name":');
  expect(await readBackJson(join(dir, 'a.json'), schema, cap)).toEqual({ name: 'x', n: 1 });
  await expect(readBackJson(join(dir, 'b.json'), schema, cap)).rejects.toThrow(/b\.json: is not in the expected format \(name: /);
  await expect(readBackJson(join(dir, 'c.json'), schema, cap)).rejects.toThrow(/c\.json: is not in the expected format/);
  await expect(readBackJson(join(dir, 'd.json'), schema, cap)).rejects.toThrow(/d\.json: is not JSON/);
});

it("YAML the tool loads again on a reload (a bridge config on SIGHUP, a profile) goes through it: a FIFO or /dev/zero in its place is one line, never read", async () => {
  const { loadBridgeConfig } = await import('../../src/bridge/config.js');
  const { ConfigError } = await import('../../src/errors.js');
  await execa('mkfifo', [join(dir, 'bridge.yaml')]);
  await symlink('/dev/zero', join(dir, 'zero.yaml'));
  const problems = (file: string) => loadBridgeConfig(file).then(() => ['loaded'], (err: unknown) => (err instanceof ConfigError ? err.problems : [`other: ${String(err)}`]));
  expect(await problems(join(dir, 'bridge.yaml'))).toEqual([`${join(dir, 'bridge.yaml')}: cannot read: is a FIFO, not a regular file; not read`]);
  expect(await problems(join(dir, 'zero.yaml'))).toEqual([`${join(dir, 'zero.yaml')}: cannot read: is a character device, not a regular file; not read`]);
});

// A failure is said in the errno table's words (src/socket-reason.ts), the one table every message
// to a user reads: not Node's message, which says the code and repeats the path the error names.
it('a name too long for the file system: the table’s words, the path said once', async () => {
  const file = join(dir, 'x'.repeat(300));
  expect(await refusal(file)).toBe(`${file}: ${errnoText({ code: 'ENAMETOOLONG' })}`);
  expect(errnoText({ code: 'ENAMETOOLONG' })).toBe('file name too long');
});

it('a loop of symbolic links, followed: the table’s words', async () => {
  await symlink(join(dir, 'b'), join(dir, 'a'));
  await symlink(join(dir, 'a'), join(dir, 'b'));
  // not followed, the first link is refused by its type before any open
  expect(await refusal(join(dir, 'a'))).toBe(`${join(dir, 'a')}: is a symbolic link, not a regular file; not read`);
  // followed, stat itself fails with ELOOP: O_NOFOLLOW's answer on a link, said as that link's type
  expect(await refusal(join(dir, 'a'), { ...cap, followSymlinks: true })).toBe(`${join(dir, 'a')}: is a symbolic link, not a regular file; not read`);
});
