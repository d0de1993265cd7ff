import { lstat, mkdir, open, realpath, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LaplinkError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { readBack, ReadBackError } from '../runtime/read-back.js';
import { faultPoint } from './fault-point.js';
import { isInside, makeBackups, realFs, reasonOf, removeJournal, rollBack, tempName, writeJournal, type Journal, type JournalEntry, type JournalFs } from './journal.js';
import { mergeBlock, removeBlock } from './block.js';
import { ownerMarker, type RenderedFile } from './render.js';

export type Action = 'created' | 'updated' | 'unchanged' | 'removed' | 'absent' | 'kept';

/** What one target will become. `before`/`after` are whole-file texts (null = no file). */
export interface FileChange {
  /** Path on the target system (/etc/ppp/peers/x). */
  path: string;
  /** Where it is on this machine: `path` under `--root`. */
  fsPath: string;
  action: Action;
  before: string | null;
  after: string | null;
  mode: number;
  secret: boolean;
  /** Owner to keep (of the existing file). */
  uid?: number;
  gid?: number;
  /** Why a file was left alone (`kept`). */
  note?: string;
}

export class WriteError extends LaplinkError {}

/** `path` as seen on this machine when everything lives under `root`. */
export function underRoot(root: string | undefined, path: string): string {
  return root ? join(root, path) : path;
}

/** A target's text is read back like any file this tool wrote: a FIFO in its place would hold
 *  generate, remove and check, /dev/zero would never end. A blocklist /etc/hosts runs to megabytes. */
export const GENERATED_FILE_MAX_BYTES = 32 * 1024 * 1024;

async function readExisting(fsPath: string): Promise<{ text: string | null; mode?: number; uid?: number; gid?: number }> {
  try {
    const got = await readBack(fsPath, { maxBytes: GENERATED_FILE_MAX_BYTES, followSymlinks: true });
    if (!got) return { text: null };
    return { text: got.bytes.toString('utf8'), mode: got.stats.mode & 0o7777, uid: got.stats.uid, gid: got.stats.gid };
  } catch (err) {
    // ENOTDIR: a parent is a plain file, so there is no such file; writing it will fail later, cleanly.
    // refused by type or size: the reader's words; else the errno it carries
    if (err instanceof ReadBackError && err.cause === undefined) throw new WriteError(`cannot read ${err.message}; nothing was changed`, EXIT.FAILED, { cause: err });
    const errno = err instanceof ReadBackError ? err.cause : err;
    const code = (errno as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { text: null };
    throw new WriteError(`cannot read ${fsPath}: ${reasonOf(errno)}; nothing was changed`, EXIT.FAILED, { cause: errno });
  }
}

/**
 * The file to replace for `path`: a symlinked /etc/hosts (or pap-secrets) is edited where it
 * points, so the link survives instead of being replaced by a regular file.
 */
async function targetOf(path: string, root: string | undefined): Promise<string> {
  let target: string;
  try {
    target = (await lstat(path)).isSymbolicLink() ? await realpath(path) : path;
  } catch {
    return path;
  }
  // under --root, a link out of it would have root write elsewhere (and the journal would be refused)
  if (root && target !== path && !isInside(await realpath(root), target)) throw new WriteError(`${path} is a symlink to ${target}, outside --root ${root}; nothing was changed`);
  return target;
}

/** Compares what `generate` would write with what is there; reads only. */
export async function planGenerate(files: RenderedFile[], name: string, root?: string): Promise<FileChange[]> {
  return Promise.all(
    files.map(async (f) => {
      const fsPath = await targetOf(underRoot(root, f.path), root);
      const old = await readExisting(fsPath);
      const after = f.kind === 'file' ? f.content : mergeBlock(old.text, name, f.content, fsPath);
      const mode = f.secret ? 0o600 : (old.mode ?? f.mode);
      const modeChanged = old.text !== null && old.mode !== mode;
      const action: Action = old.text === null ? 'created' : old.text === after && !modeChanged ? 'unchanged' : 'updated';
      return { path: f.path, fsPath, action, before: old.text, after, mode, secret: f.secret, uid: old.uid, gid: old.gid };
    }),
  );
}

/** Shared files that may be deleted once our block was all they held. */
const DROPPABLE_WHEN_EMPTY = /^\/etc\/ppp\/(?:pap-secrets|chap-secrets|options\..+)$/;

/** What `remove` would do: delete our whole files (only if they carry our marker), strip our blocks. */
export async function planRemove(files: RenderedFile[], name: string, root?: string): Promise<FileChange[]> {
  return Promise.all(
    files.map(async (f): Promise<FileChange> => {
      const fsPath = f.kind === 'block' ? await targetOf(underRoot(root, f.path), root) : underRoot(root, f.path);
      const old = await readExisting(fsPath);
      const base = { path: f.path, fsPath, before: old.text, mode: old.mode ?? f.mode, secret: f.secret, uid: old.uid, gid: old.gid };
      if (old.text === null) return { ...base, action: 'absent', after: null };
      if (f.shared) return { ...base, action: 'kept', after: old.text, note: 'shared by every link' };
      if (f.kind === 'file') {
        const head = old.text.split('\n', 3);
        if (!head.some((l) => l.startsWith(ownerMarker(name)))) return { ...base, action: 'kept', after: old.text, note: 'not generated by ppp-laplink for this link' };
        return { ...base, action: 'removed', after: null };
      }
      const after = removeBlock(old.text, name, fsPath);
      // A secrets or options.TTY file that held nothing but our block was ours; an empty one left
      // behind means nothing to pppd, so it goes. /etc/hosts and /etc/ppp/options always stay.
      if (after !== old.text && after !== null && after.trim() === '' && DROPPABLE_WHEN_EMPTY.test(f.path)) return { ...base, action: 'removed', after: null, note: 'held only this link' };
      return { ...base, action: after === old.text ? 'unchanged' : 'updated', after };
    }),
  );
}

export interface ApplyHooks {
  /** Called before each rename onto a target (tests inject failures here). */
  beforeCommit?: (change: FileChange, index: number) => void | Promise<void>;
  /** The file-system calls of the journalled write (tests record their order). */
  fs?: JournalFs;
}


/** `cannot write FILE: no space left on device; nothing was changed`: one line per failure. */
function failure(path: string, err: unknown, outcome = 'nothing was changed'): WriteError {
  if (err instanceof WriteError) return err;
  return new WriteError(`cannot write ${path}: ${reasonOf(err)}; ${outcome}`, EXIT.FAILED, { cause: err });
}

async function writeTemp(c: FileChange, tmp: string): Promise<void> {
  await mkdir(dirname(c.fsPath), { recursive: true });
  const fd = await open(tmp, 'wx', c.mode);
  try {
    await fd.writeFile(c.after!, 'utf8');
    await fd.chmod(c.mode);
    if (c.uid !== undefined && c.gid !== undefined) {
      await fd.chown(c.uid, c.gid).catch((err: NodeJS.ErrnoException) => {
        // Only root can give a file away; an unprivileged run (tests) keeps its own owner.
        if (err.code !== 'EPERM' || process.getuid?.() === 0) throw err;
      });
    }
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/**
 * Writes every change or none, even across SIGKILL or power loss (journal.ts has the states).
 * Journal `prepared`; temp files written (mode, owner, fsync) and backups hard-linked; directories
 * fsynced; journal `committing`; renames; directories fsynced; backups and journal removed. A failure
 * before `committing` removes what was made; after it, the journal turns `rolling-back` and the
 * targets are restored from their backups.
 */
export async function applyChanges(changes: FileChange[], journalPath: string, hooks: ApplyHooks = {}): Promise<void> {
  const work = changes.filter((c) => c.action === 'created' || c.action === 'updated' || c.action === 'removed');
  if (work.length === 0) return;
  const fs = hooks.fs ?? realFs;
  const entries: JournalEntry[] = work.map((c) => ({
    target: c.fsPath,
    path: c.path,
    temp: c.after === null ? null : tempName(c.fsPath, 'tmp'),
    backup: c.before === null ? null : tempName(c.fsPath, 'bak'),
  }));
  const journal: Journal = { version: 1, pid: process.pid, state: 'prepared', entries };
  const dirs = [...new Set(work.map((c) => dirname(c.fsPath)))];
  let current = journalPath;
  try {
    await writeJournal(journalPath, journal, fs);
    faultPoint();
    for (const [i, c] of work.entries()) {
      if (entries[i]!.temp === null) continue;
      current = c.fsPath;
      await writeTemp(c, entries[i]!.temp!);
      faultPoint();
    }
    current = journalPath;
    await makeBackups(entries, fs);
    faultPoint();
    await Promise.all(dirs.map((d) => fs.fsyncDir(d)));
    await writeJournal(journalPath, { ...journal, state: 'committing' }, fs);
    faultPoint();
  } catch (err) {
    // Nothing renamed yet: removing what was made is the whole roll-back.
    for (const e of entries) for (const made of [e.temp, e.backup]) if (made) await unlink(made).catch(() => undefined);
    await removeJournal(journalPath, fs).catch(() => undefined);
    throw failure(current, err);
  }
  try {
    for (const [i, c] of work.entries()) {
      current = c.fsPath;
      await hooks.beforeCommit?.(c, i);
      if (c.after === null) await fs.unlink(c.fsPath);
      else await fs.rename(entries[i]!.temp!, c.fsPath);
      faultPoint();
    }
    // the renames must be on disk before the backups and the journal go: else a power cut could
    // leave old targets with neither backups nor a journal to restore them from
    await Promise.all(dirs.map((d) => fs.fsyncDir(d)));
    faultPoint();
  } catch (err) {
    try {
      await writeJournal(journalPath, { ...journal, state: 'rolling-back' }, fs);
    } catch {
      // Cannot record the roll-back: leave `committing` for the next run to finish (rolling back
      // now would delete temps a roll-forward needs).
      throw failure(current, err, 'the change is recorded in the journal and the next laplink command completes it');
    }
    await rollBack(entries, fs);
    await removeJournal(journalPath, fs);
    throw failure(current, err);
  }
  // A crash from here on leaves `committing`, and rolling forward again is harmless.
  for (const e of entries) if (e.backup) await fs.unlink(e.backup).catch(() => undefined);
  faultPoint();
  await removeJournal(journalPath, fs);
}
