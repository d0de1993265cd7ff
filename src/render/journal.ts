import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, realpath, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, normalize, relative, sep } from 'node:path';
import { z } from 'zod';
import { LaplinkError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { errnoText } from '../socket-reason.js';
import { pidAlive } from '../pid.js';
import { firstProblem, readBack, ReadBackError } from '../runtime/read-back.js';

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
 *
 * Recovery runs as root on whatever the journal names, so the journal is hostile input: it must be a
 * regular file owned by the running user and writable by no one else, and every path in it must lie
 * inside its root (after resolving symlinked directories) and be one of the files a link can
 * generate, its temp and backup names beside it. Anything else refuses the whole journal before a
 * single file is touched.
 */
export const JOURNAL_PATH = '/var/lib/laplink/generate.journal';

export type JournalState = 'prepared' | 'committing' | 'rolling-back';

export interface JournalEntry {
  /** The file on this machine (under --root). */
  target: string;
  /** The generated path it stands for (/etc/hosts), when `target` is where a symlink of it points. */
  path?: string;
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

/**
 * The file-system calls whose order makes the journal crash-safe. Tests pass their own (recording the
 * order) to prove, for instance, that a directory is fsynced after the renames into it and before
 * the backups and the journal go; nothing else replaces them.
 */
export interface JournalFs {
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  link(existing: string, name: string): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
}

export async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

export const realFs: JournalFs = { rename, unlink, link, fsyncDir };

const exists = (code: string | undefined) => code !== 'ENOENT';

async function unlinkIfThere(path: string, fs: JournalFs = realFs): Promise<boolean> {
  try {
    await fs.unlink(path);
    return true;
  } catch (err) {
    if (!exists((err as NodeJS.ErrnoException).code)) return false;
    throw err;
  }
}

/** Writes `text` to `path` durably: temp file, fsync, rename, fsync of the directory. */
export async function writeDurably(path: string, text: string, mode: number, fs: JournalFs = realFs): Promise<void> {
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
    await fs.rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fs.fsyncDir(dirname(path));
}

export async function writeJournal(path: string, journal: Journal, fs: JournalFs = realFs): Promise<void> {
  await writeDurably(path, `${JSON.stringify(journal)}\n`, 0o600, fs);
}

export async function removeJournal(path: string, fs: JournalFs = realFs): Promise<void> {
  if (await unlinkIfThere(path, fs)) await fs.fsyncDir(dirname(path));
}

/** A journal names a few files per link; this is far more than any real one and far less than memory. */
export const JOURNAL_MAX_BYTES = 256 * 1024;

const LINK = '[a-z0-9][a-z0-9_-]{0,31}';
/**
 * Every path `generate` and `remove` may write (render.ts's paths, a link's name in place of NAME; a
 * test renders every example profile against this list). A journal naming anything else is refused.
 */
export const GENERATED_PATHS: readonly RegExp[] = [
  new RegExp(`^/etc/ppp/peers/${LINK}$`),
  new RegExp(`^/etc/ppp/chat/${LINK}$`),
  /^\/etc\/ppp\/options(?:\.[A-Za-z0-9_+.-]{1,64})?$/,
  /^\/etc\/ppp\/(?:pap|chap)-secrets$/,
  /^\/etc\/hosts$/,
  /^\/etc\/systemd\/system\/laplink(?:-bridge)?@\.service$/,
  new RegExp(`^/etc/systemd/system/laplink-${LINK}\\.service$`),
  new RegExp(`^/etc/systemd/system/laplink@${LINK}\\.service\\.d/profile\\.conf$`),
  new RegExp(`^/etc/laplink/${LINK}\\.inittab$`),
  new RegExp(`^/etc/nftables\\.d/laplink-${LINK}\\.nft$`),
  new RegExp(`^/etc/sysctl\\.d/60-laplink-${LINK}\\.conf$`),
  new RegExp(`^/etc/ppp/ipv6-up\\.d/laplink-${LINK}$`),
  new RegExp(`^/etc/ppp/ip-(?:up|down)\\.d/laplink-${LINK}$`),
];

export const isGeneratedPath = (path: string) => !path.split('/').includes('..') && GENERATED_PATHS.some((re) => re.test(path));

const journalPathText = z.string().min(1).max(4096);
const journalSchema = z.object({
  version: z.literal(1),
  pid: z.number().int(),
  state: z.enum(['prepared', 'committing', 'rolling-back']),
  entries: z.array(z.object({ target: journalPathText, path: journalPathText.optional(), temp: journalPathText.nullable(), backup: journalPathText.nullable() })).max(1024),
});

/** `/`-rooted `path` inside `root` (itself, or below it), compared by whole components. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

/** The temp or backup name of `target` as tempName makes them: beside it, with our tag. */
function isCompanion(target: string, name: string, tag: 'tmp' | 'bak'): boolean {
  return dirname(name) === dirname(target) && new RegExp(`^\\.${basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.laplink-${tag}-[0-9a-f]{8}$`).test(basename(name));
}

/**
 * The journal's text, checked without touching the disk: its shape, and each entry's paths (absolute,
 * normal, inside `root`, a generated file with its own temp and backup names). Pure, for the fuzz
 * target; recovery adds the checks that need the disk (confineOnDisk). `root` is '/' without --root.
 */
export function parseJournal(file: string, text: string, root: string): Journal {
  const refused = (why: string) => new JournalError(`${file} is refused: ${why}; nothing was changed (compare the files with \`laplink generate --dry-run\`, then delete it)`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw refused('it is not JSON');
  }
  const parsed = journalSchema.safeParse(data);
  if (!parsed.success) throw refused(`it is not a journal (${firstProblem(parsed.error)})`);
  const journal = parsed.data as Journal;
  for (const [i, e] of journal.entries.entries()) {
    const at = `entry ${i + 1}`;
    for (const p of [e.target, e.path, e.temp, e.backup]) {
      if (p === null || p === undefined) continue;
      if (!p.startsWith('/') || normalize(p) !== p || p.split('/').includes('..') || p.includes('\0')) throw refused(`${at}: ${JSON.stringify(p)} is not a plain absolute path`);
    }
    if (!isInside(root, e.target)) throw refused(`${at}: ${e.target} is outside ${root}`);
    const generated = e.path ?? `/${relative(root, e.target)}`;
    if (!isGeneratedPath(generated)) throw refused(`${at}: ${generated} is not a file laplink generates`);
    if (e.temp !== null && !isCompanion(e.target, e.temp, 'tmp')) throw refused(`${at}: ${e.temp} is not a temp file of ${e.target}`);
    if (e.backup !== null && !isCompanion(e.target, e.backup, 'bak')) throw refused(`${at}: ${e.backup} is not a backup of ${e.target}`);
  }
  return journal;
}

/** What only the disk can tell: each target's directory really lies inside `root` (no symlinked
 *  directory leads out), and a target standing for a generated path is where that path leads now. */
async function confineOnDisk(file: string, journal: Journal, root: string): Promise<void> {
  const refused = (why: string) => new JournalError(`${file} is refused: ${why}; nothing was changed (compare the files with \`laplink generate --dry-run\`, then delete it)`);
  const realRoot = await realpath(root);
  for (const [i, e] of journal.entries.entries()) {
    const at = `entry ${i + 1}`;
    const dir = await realpath(dirname(e.target)).catch(() => undefined);
    if (dir === undefined) throw refused(`${at}: the directory of ${e.target} does not exist`);
    if (!isInside(realRoot, dir)) throw refused(`${at}: ${dirname(e.target)} leads to ${dir}, outside ${root}`);
    if (e.path !== undefined && e.target !== join(root, e.path)) {
      const leads = await realpath(join(root, e.path)).catch(() => undefined);
      if (leads !== join(dir, basename(e.target))) throw refused(`${at}: ${e.target} is not where ${e.path} leads`);
    }
  }
}

/** The journal at `path`, undefined when there is none; a JournalError (nothing touched) for one that
 *  is not a regular file of ours, writable by others, too large, or naming files it may not. */
async function readJournal(path: string, root: string): Promise<Journal | undefined> {
  let got;
  try {
    got = await readBack(path, { maxBytes: JOURNAL_MAX_BYTES });
  } catch (err) {
    const reason = err instanceof ReadBackError ? err.reason : reasonOf(err);
    throw new JournalError(`${path} is refused (${reason}); nothing was changed: delete it if no laplink is running`, EXIT.FAILED, { cause: err });
  }
  if (!got) return undefined;
  const uid = process.getuid?.();
  if (uid !== undefined && got.stats.uid !== uid) throw new JournalError(`${path} is refused: it belongs to uid ${got.stats.uid}, not to this user (uid ${uid}); nothing was changed`);
  if (got.stats.mode & 0o022) throw new JournalError(`${path} is refused: others may write it (mode ${(got.stats.mode & 0o777).toString(8)}); nothing was changed`);
  const journal = parseJournal(path, got.bytes.toString('utf8'), root);
  await confineOnDisk(path, journal, root);
  return journal;
}

const dirsOf = (entries: JournalEntry[]) => [...new Set(entries.map((e) => dirname(e.target)))];

/** Finishes every rename of a `committing` run (each step can be repeated safely), then drops backups. */
export async function rollForward(entries: JournalEntry[], fs: JournalFs = realFs): Promise<void> {
  for (const e of entries) {
    if (e.temp === null) await unlinkIfThere(e.target, fs);
    else {
      // a temp that is gone was renamed already: nothing else removes one while the journal says committing
      await fs.rename(e.temp, e.target).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }
  await Promise.all(dirsOf(entries).map((d) => fs.fsyncDir(d)));
  for (const e of entries) if (e.backup) await unlinkIfThere(e.backup, fs);
}

/** Puts every target back as it was (from its backup, or deleted if it did not exist), drops temps. */
export async function rollBack(entries: JournalEntry[], fs: JournalFs = realFs): Promise<void> {
  for (const e of entries) {
    if (e.backup !== null) {
      // the backup is a hard link to the old file: renaming it back restores the very same inode
      await fs.rename(e.backup, e.target).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        // no backup yet (killed while preparing): the target was never touched
      });
      // rename() between two links of one inode succeeds and does nothing (POSIX): a target that
      // was never replaced keeps its backup name too, so drop that name
      await unlinkIfThere(e.backup, fs);
    } else if (e.temp !== null) {
      // a created file: it did not exist before this run
      await unlinkIfThere(e.target, fs);
    }
    if (e.temp !== null) await unlinkIfThere(e.temp, fs);
  }
  await Promise.all(dirsOf(entries).map((d) => fs.fsyncDir(d).catch(() => undefined)));
}

/** Creates the backups (hard links to the current targets) that a roll-back would restore. */
export async function makeBackups(entries: JournalEntry[], fs: JournalFs = realFs): Promise<void> {
  for (const e of entries) if (e.backup !== null) await fs.link(e.target, e.backup);
}

/** Where the journal of `root` lives (root undefined: the real system). */
export const journalPathOf = (root: string | undefined) => (root ? join(root, JOURNAL_PATH) : JOURNAL_PATH);

/**
 * Completes or rolls back an interrupted run recorded in the journal of `root`, then deletes
 * leftovers of dead runs (laplink temp and backup names) in `dirs`. Call with the generate lock held.
 */
export async function recover(root: string | undefined, dirs: string[], sweptLockFiles: string[] = [], fs: JournalFs = realFs): Promise<Recovery> {
  const journalPath = journalPathOf(root);
  try {
    const out = await recoverOrThrow(journalPath, root ?? '/', dirs, fs);
    out.leftovers.push(...sweptLockFiles);
    return out;
  } catch (err) {
    if (err instanceof LaplinkError) throw err;
    throw new JournalError(`cannot finish the interrupted run recorded in ${journalPath}: ${reasonOf(err)}; nothing else was changed, run laplink again once this is fixed`, EXIT.FAILED, { cause: err });
  }
}

async function recoverOrThrow(journalPath: string, root: string, dirs: string[], fs: JournalFs): Promise<Recovery> {
  const out: Recovery = { leftovers: [] };
  const journal = await readJournal(journalPath, root);
  if (journal) {
    const forward = journal.state === 'committing';
    if (forward) await rollForward(journal.entries, fs);
    else await rollBack(journal.entries, fs);
    await removeJournal(journalPath, fs);
    out.interrupted = { pid: journal.pid, state: journal.state, outcome: forward ? 'rolled forward' : 'rolled back', files: journal.entries.length };
    dirs = [...dirs, ...dirsOf(journal.entries)];
  }
  for (const path of await leftoversIn([...dirs, dirname(journalPath)])) if (await unlinkIfThere(path, fs)) out.leftovers.push(path);
  return out;
}

/** laplink temp and backup names of dead runs in `dirs` (only the generate lock's holder makes them). */
async function leftoversIn(dirs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of new Set(dirs)) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) if (LEFTOVER.test(name)) out.push(join(dir, name));
  }
  return out;
}

/** What `check` reports of an interrupted run: the same reading and checks as recovery, nothing done. */
export interface Interrupted {
  journal?: { path: string; pid: number; state: JournalState; files: number };
  leftovers: string[];
}

/**
 * Reads the journal of `root` (refusing it exactly as recovery would) and lists leftovers in `dirs`,
 * changing nothing: `check` is a diagnosis. A JournalError for a journal recovery would refuse.
 */
export async function inspectInterrupted(root: string | undefined, dirs: string[], lockLeftovers: string[] = []): Promise<Interrupted> {
  const path = journalPathOf(root);
  const journal = await readJournal(path, root ?? '/');
  // the temps and backups the journal names are its run's, not leftovers
  const named = new Set(journal?.entries.flatMap((e) => [e.temp, e.backup]) ?? []);
  const found = await leftoversIn([...dirs, ...(journal ? dirsOf(journal.entries) : []), dirname(path)]);
  const leftovers = [...found.filter((f) => !named.has(f)), ...lockLeftovers];
  return { journal: journal && { path, pid: journal.pid, state: journal.state, files: journal.entries.length }, leftovers };
}

/** One line saying what an interrupted run left and how the user finishes it, or undefined. */
export function describeInterrupted(i: Interrupted, profile: string): string | undefined {
  const parts: string[] = [];
  if (i.journal) {
    const j = i.journal;
    const how = j.state === 'committing' ? 'completes its change' : 'rolls it back';
    if (pidAlive(j.pid) && j.pid !== process.pid) parts.push(`a laplink (pid ${j.pid}) is writing configuration now (${j.path})`);
    else parts.push(`an interrupted run (pid ${j.pid}, ${j.state}, ${j.files} files) is recorded in ${j.path}: \`laplink generate ${profile}\` (or \`laplink remove ${profile}\`) ${how} first`);
  }
  if (i.leftovers.length) parts.push(`${i.leftovers.length} leftover temp/backup/lock files${i.journal ? '' : `: \`laplink generate ${profile}\` removes them`}`);
  return parts.length ? `${parts.join('; ')}; check changed nothing` : undefined;
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
