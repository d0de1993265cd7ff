/**
 * read-back says a failure in the errno table's words (src/socket-reason.ts), the one table every
 * message to a user reads: not Node's message, which says the code and repeats the path the
 * ReadBackError already names.
 */
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readBack, readBackSync, ReadBackError } from '../../src/runtime/read-back.js';
import { errnoText } from '../../src/socket-reason.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-readback-errno-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cap = { maxBytes: 1024 };

/** The ReadBackError's message from both readers (they must agree). */
async function refusal(file: string, options: { maxBytes: number; followSymlinks?: boolean } = cap): Promise<string> {
  const say = (err: unknown) => (err instanceof ReadBackError ? err.message : `other: ${String(err)}`);
  const a = await readBack(file, options).then(() => 'read', say);
  let b = 'read';
  try {
    readBackSync(file, options);
  } catch (err) {
    b = say(err);
  }
  expect(b, 'the sync reader says the same').toBe(a);
  return a;
}

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
