import { createTwoFilesPatch } from 'diff';
import { loadProfile, type LoadedProfile } from '../profile/load.js';
import type { Profile } from '../profile/schema.js';
import { requirePasswordFile } from '../profile/password-file.js';
import { planSharedUnits } from './shared-units.js';
import { dirname } from 'node:path';
import { inspectInterrupted, journalPathOf, recover, type Interrupted, type Recovery } from './journal.js';
import { deadLockTemps, withLock } from './generate-lock.js';
import { rmdir } from 'node:fs/promises';
import { legacyUnitPath, renderProfile, unitDropInPath, type RenderedFile } from './render.js';
import { applyChanges, planGenerate, planRemove, underRoot, type ApplyHooks, type FileChange } from './write.js';

export interface GenerateOptions {
  /** Prefix for every absolute path (a scratch root instead of /). */
  root?: string;
  /** Only compute the changes; write nothing. */
  dryRun?: boolean;
  /** argv that runs laplink from pppd/systemd (default: this installation). */
  laplinkArgv?: string[];
  hooks?: ApplyHooks;
  /** How long to wait for another laplink writing configuration (default 10 s). */
  lockWaitMs?: number;
  /** remove: links removed in the same run (remove --all), which no longer count as users of the shared units. */
  alsoRemoving?: string[];
}

/** One lock for every writer of the shared files (hosts, secrets), under --root like them. */
export const LOCK_PATH = '/run/lock/laplink-generate.lock';

export interface GenerateResult {
  profile: Profile;
  profilePath: string;
  changes: FileChange[];
  /** What was found of an interrupted earlier run and done about it (absent on dry runs). */
  recovery?: Recovery;
}

/** The directories a link's files live in, where its temp and backup files could be left. */
function dirsOf(files: RenderedFile[], root: string | undefined): string[] {
  return [...new Set(files.map((f) => dirname(underRoot(root, f.path))))];
}

/**
 * Under the generate lock: completes or rolls back a run that was killed mid-write (journal.ts)
 * and deletes leftovers in `dirs`. Every command that writes or reads the generated files runs
 * this first, so none of them ever sees half of a change.
 */
export async function recoverInterrupted(root: string | undefined, dirs: string[], lockWaitMs?: number): Promise<Recovery> {
  return withLock(underRoot(root, LOCK_PATH), (swept) => recover(root, dirs, swept), { waitMs: lockWaitMs });
}

/** recoverInterrupted for the directories of one loaded profile's files. */
export async function recoverForProfile(loaded: { profile: Profile; path: string }, root: string | undefined): Promise<Recovery> {
  const files = renderProfile(loaded.profile, { profilePath: loaded.path });
  return recoverInterrupted(root, dirsOf(files, root));
}

/** What `check` reports: an interrupted run and leftovers of this profile's files, nothing changed. */
export async function inspectForProfile(loaded: { profile: Profile; path: string }, root: string | undefined): Promise<Interrupted> {
  const files = renderProfile(loaded.profile, { profilePath: loaded.path, hostResolvers: () => [] });
  return inspectInterrupted(root, dirsOf(files, root), await deadLockTemps(underRoot(root, LOCK_PATH)));
}

/** Loads the profile, renders every file and writes them all-or-nothing (unless dryRun). */
export async function generateLink(profileFile: string, options: GenerateOptions = {}): Promise<GenerateResult> {
  const { profile, path } = await loadProfile(profileFile);
  await requirePasswordFile(profile, options.root);
  const files = renderProfile(profile, { profilePath: path, laplinkArgv: options.laplinkArgv });
  if (options.dryRun) return { profile, profilePath: path, changes: [...(await planGenerate(files, profile.name, options.root)), ...(await planLegacyUnit(profile.name, options.root))] };
  // plan and apply under one lock: the plan's view of shared files must still hold at rename time
  return withLock(underRoot(options.root, LOCK_PATH), async (swept) => {
    const recovery = await recover(options.root, dirsOf(files, options.root), swept, options.hooks?.fs);
    const planned = [...(await planGenerate(files, profile.name, options.root)), ...(await planLegacyUnit(profile.name, options.root))];
    await applyChanges(planned, journalPathOf(options.root), options.hooks);
    return { profile, profilePath: path, changes: planned, recovery };
  }, { waitMs: options.lockWaitMs });
}

/**
 * Deleting our old per-link laplink-NAME.service (versions before the template units), if there:
 * one way to run a link, laplink@NAME, as a Debian admin knows it from getty@ and openvpn@; two
 * units for one link would only fight over its line. A file we did not write is never touched.
 */
async function planLegacyUnit(name: string, root?: string): Promise<FileChange[]> {
  const legacy: RenderedFile = { path: legacyUnitPath(name), kind: 'file', content: '', mode: 0o644, secret: false };
  return (await planRemove([legacy], name, root)).filter((c) => c.action === 'removed');
}

/** Deletes the link's own files and strips its managed blocks (all-or-nothing, unless dryRun). */
/** `source` is a profile's file, or the profile already loaded by a caller that needed it first. */
export async function removeLink(source: string | LoadedProfile, options: GenerateOptions = {}): Promise<GenerateResult> {
  const { profile, path } = typeof source === 'string' ? await loadProfile(source) : source;
  // only the paths matter when removing: never fail on the host's resolvers
  const files = renderProfile(profile, { profilePath: path, laplinkArgv: options.laplinkArgv, hostResolvers: () => [] });
  const plan = async () => planSharedUnits([...(await planRemove(files, profile.name, options.root)), ...(await planLegacyUnit(profile.name, options.root))], [profile.name, ...(options.alsoRemoving ?? [])], options.root);
  if (options.dryRun) return { profile, profilePath: path, changes: await plan() };
  return withLock(underRoot(options.root, LOCK_PATH), async (swept) => {
    const recovery = await recover(options.root, dirsOf(files, options.root), swept, options.hooks?.fs);
    const planned = await plan();
    await applyChanges(planned, journalPathOf(options.root), options.hooks);
    // The drop-in's directory was made for it: leave no empty laplink@NAME.service.d behind.
    await rmdir(dirname(underRoot(options.root, unitDropInPath(profile.name)))).catch(() => undefined);
    return { profile, profilePath: path, changes: planned, recovery };
  }, { waitMs: options.lockWaitMs });
}

/** Unified diff of one change; secrets files are summarised, never shown. */
export function changeDiff(c: FileChange): string {
  if (c.action === 'unchanged' || c.action === 'absent' || c.action === 'kept') return '';
  if (c.secret) {
    const count = (t: string | null) => (t === null ? 0 : t.split('\n').length);
    return `--- ${c.path}\n+++ ${c.path}\n(secrets file: ${count(c.before)} → ${count(c.after)} lines, contents not shown)\n`;
  }
  return createTwoFilesPatch(c.before === null ? '/dev/null' : c.path, c.after === null ? '/dev/null' : c.path, c.before ?? '', c.after ?? '', undefined, undefined, { context: 3 });
}
