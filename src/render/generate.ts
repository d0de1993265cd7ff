import { createTwoFilesPatch } from 'diff';
import { loadProfile } from '../profile/load.js';
import type { Profile } from '../profile/schema.js';
import { withLock } from './lock.js';
import { renderProfile } from './render.js';
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
}

/** One lock for every writer of the shared files (hosts, secrets), under --root like them. */
export const LOCK_PATH = '/run/lock/laplink-generate.lock';

export interface GenerateResult {
  profile: Profile;
  profilePath: string;
  changes: FileChange[];
}

/** Loads the profile, renders every file and writes them all-or-nothing (unless dryRun). */
export async function generateLink(profileFile: string, options: GenerateOptions = {}): Promise<GenerateResult> {
  const { profile, path } = await loadProfile(profileFile);
  const files = renderProfile(profile, { profilePath: path, laplinkArgv: options.laplinkArgv });
  if (options.dryRun) return { profile, profilePath: path, changes: await planGenerate(files, profile.name, options.root) };
  // plan and apply under one lock: the plan's view of shared files must still hold at rename time
  const changes = await withLock(underRoot(options.root, LOCK_PATH), async () => {
    const planned = await planGenerate(files, profile.name, options.root);
    await applyChanges(planned, options.hooks);
    return planned;
  }, { waitMs: options.lockWaitMs });
  return { profile, profilePath: path, changes };
}

/** Deletes the link's own files and strips its managed blocks (all-or-nothing, unless dryRun). */
export async function removeLink(profileFile: string, options: GenerateOptions = {}): Promise<GenerateResult> {
  const { profile, path } = await loadProfile(profileFile);
  // only the paths matter when removing: never fail on the host's resolvers
  const files = renderProfile(profile, { profilePath: path, laplinkArgv: options.laplinkArgv, hostResolvers: () => [] });
  if (options.dryRun) return { profile, profilePath: path, changes: await planRemove(files, profile.name, options.root) };
  const changes = await withLock(underRoot(options.root, LOCK_PATH), async () => {
    const planned = await planRemove(files, profile.name, options.root);
    await applyChanges(planned, options.hooks);
    return planned;
  }, { waitMs: options.lockWaitMs });
  return { profile, profilePath: path, changes };
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
