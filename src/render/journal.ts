import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LaplinkError } from '../errors.js';
import { errnoText } from '../socket-reason.js';

/**
 * The write-ahead record that makes `generate`/`remove` all-or-nothing across SIGKILL and power
 * loss. It names every temp file, its target and the backup (a hard link) of what the target held,
 * and moves through three states, each written to a temp file, fsynced and renamed into place:
 *
 *   prepared      names chosen; temps and backups may be half-made, no target touched yet
 *   committing    every temp complete and fsynced, every backup made: targets are being renamed over
 *   rolling-back  a rename failed in-process; targets are being restored from their backups
 *
 * Recovery rolls *forward* from `committing`: every new file is already complete on disk, so
 * finishing the renames needs nothing that could be missing, and gives the user what they asked
 * for. From the other two states it rolls *back*: a `prepared` temp may be half-written, and a
 * `rolling-back` run already restored some targets (and deleted their temps).
 * The journal lives under --root beside the files, on persistent storage (not /run, which a power
 * cut empties while /etc keeps half a change).
 */
export const JOURNAL_PATH = '/var/lib/laplink/generate.journal';

export type JournalState = 'prepared' | 'committing' | 'rolling-back';

export interface JournalEntry {
  /** The file on this machine (under --root). */
  target: string;
  /** The complete new text waiting to be renamed over `target`; null = `target` is deleted. */
  temp: string | null;
  /** Hard link to what `target` held before; null = it did not exist. */
  backup: string | null;
}

export interface Journal {
  version: 1;
  pid: number;
  state: JournalState;
  entries: JournalEntry[];
}

/** What recovery found and did, for `check` and the commands that ran it first. */
export interface Recovery {
  /** The interrupted run's state and pid, when a journal was found. */
  interrupted?: { pid: number; state: JournalState; outcome: 'rolled forward' | 'rolled back'; files: number };
  /** Temp, backup and lock files of dead runs that were deleted. */
  leftovers: string[];
}

export class JournalError extends LaplinkError {}

/** `no space left on device` for an errno error; its message otherwise (the one errno table). */
export const reasonOf = errnoText;

/** A name beside `fsPath` that only laplink makes, so leftovers can be recognised and swept. */
export const tempName = (fsPath: string, tag: 'tmp' | 'bak') => join(dirname(fsPath), `.${basename(fsPath)}.laplink-${tag}-${randomBytes(4).toString('hex')}`);
const LEFTOVER = /^\..+\.laplink-(tmp|bak)-[0-9a-f]{8}$/;

export async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

const exists = (code: string | undefined) => code !== 'ENOENT';

async function unlinkIfThere(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if (!exists((err as NodeJS.ErrnoException).code)) return false;
    throw err;
  }
}

/** Writes `text` to `path` durably: temp file, fsync, rename, fsync of the directory. */
export async function writeDurably(path: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path, 'tmp');
  try {
    const fd = await open(tmp, 'wx', mode);
    try {
      await fd.writeFile(text, 'utf8');
      await fd.sync();
    } finally {
      await fd.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(path));
}

export async function writeJournal(path: string, journal: Journal): Promise<void> {
  await writeDurably(path, `${JSON.stringify(journal)}\n`, 0o600);
}

export async function removeJournal(path: string): Promise<void> {
  if (await unlinkIfThere(path)) await fsyncDir(dirname(path));
}

async function readJournal(path: string): Promise<Journal | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new JournalError(`cannot read ${path}: ${reasonOf(err)}`, 1, { cause: err });
  }
  const damaged = () => new JournalError(`${path} is damaged; the files it names may be mixed: compare them with \`laplink generate --dry-run\`, then delete it`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw damaged();
  }
  const j = data as Partial<Journal>;
  const isPath = (v: unknown) => typeof v === 'string' && v.startsWith('/');
  const okEntry = (e: JournalEntry) => isPath(e?.target) && (e.temp === null || isPath(e.temp)) && (e.backup === null || isPath(e.backup));
  if (j.version !== 1 || !['prepared', 'committing', 'rolling-back'].includes(j.state as string) || !Array.isArray(j.entries) || !j.entries.every(okEntry)) throw damaged();
  return j as Journal;
}

const dirsOf = (entries: JournalEntry[]) => [...new Set(entries.map((e) => dirname(e.target)))];

/** Finishes every rename of a `committing` run (each step can be repeated safely), then drops backups. */
export async function rollForward(entries: JournalEntry[]): Promise<void> {
  for (const e of entries) {
    if (e.temp === null) await unlinkIfThere(e.target);
    else {
      // a temp that is gone was renamed already: nothing else removes one while the journal says committing
      await rename(e.temp, e.target).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }
  await Promise.all(dirsOf(entries).map(fsyncDir));
  for (const e of entries) if (e.backup) await unlinkIfThere(e.backup);
}

/** Puts every target back as it was (from its backup, or deleted if it did not exist), drops temps. */
export async function rollBack(entries: JournalEntry[]): Promise<void> {
  for (const e of entries) {
    if (e.backup !== null) {
      // the backup is a hard link to the old file: renaming it back restores the very same inode
      await rename(e.backup, e.target).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        // no backup yet (killed while preparing): the target was never touched
      });
      // rename() between two links of one inode succeeds and does nothing (POSIX): a target that
      // was never replaced keeps its backup name too, so drop that name
      await unlinkIfThere(e.backup);
    } else if (e.temp !== null) {
      // a created file: it did not exist before this run
      await unlinkIfThere(e.target);
    }
    if (e.temp !== null) await unlinkIfThere(e.temp);
  }
  await Promise.all(dirsOf(entries).map((d) => fsyncDir(d).catch(() => undefined)));
}

/** Creates the backups (hard links to the current targets) that a roll-back would restore. */
export async function makeBackups(entries: JournalEntry[]): Promise<void> {
  for (const e of entries) if (e.backup !== null) await link(e.target, e.backup);
}

/**
 * Completes or rolls back an interrupted run recorded at `journalPath`, then deletes leftovers of
 * dead runs (laplink temp and backup names) in `dirs`. Call with the generate lock held.
 */
export async function recover(journalPath: string, dirs: string[], sweptLockFiles: string[] = []): Promise<Recovery> {
  try {
    const out = await recoverOrThrow(journalPath, dirs);
    out.leftovers.push(...sweptLockFiles);
    return out;
  } catch (err) {
    if (err instanceof LaplinkError) throw err;
    throw new JournalError(`cannot finish the interrupted run recorded in ${journalPath}: ${reasonOf(err)}; nothing else was changed, run laplink again once this is fixed`, 1, { cause: err });
  }
}

async function recoverOrThrow(journalPath: string, dirs: string[]): Promise<Recovery> {
  const out: Recovery = { leftovers: [] };
  const journal = await readJournal(journalPath);
  if (journal) {
    const forward = journal.state === 'committing';
    if (forward) await rollForward(journal.entries);
    else await rollBack(journal.entries);
    await removeJournal(journalPath);
    out.interrupted = { pid: journal.pid, state: journal.state, outcome: forward ? 'rolled forward' : 'rolled back', files: journal.entries.length };
    dirs = [...dirs, ...dirsOf(journal.entries)];
  }
  for (const dir of new Set([...dirs, dirname(journalPath)])) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!LEFTOVER.test(name)) continue;
      if (await unlinkIfThere(join(dir, name))) out.leftovers.push(join(dir, name));
    }
  }
  return out;
}

/** One line saying what recovery did, or undefined when there was nothing to do. */
export function describeRecovery(r: Recovery): string | undefined {
  const parts: string[] = [];
  if (r.interrupted) {
    const i = r.interrupted;
    parts.push(`an interrupted run (pid ${i.pid}, ${i.state}) was found and ${i.outcome} (${i.files} files)`);
  }
  if (r.leftovers.length) parts.push(`${r.leftovers.length} leftover temp/backup/lock files removed`);
  return parts.length ? parts.join('; ') : undefined;
}
