/**
 * The supervisor's one import site of the foundation's profile loader and file generator, so the
 * rest of src/pppd depends only on plain options.
 */
import { loadProfile, type LoadedProfile } from '../profile/load.js';
import { generateLink } from '../render/generate.js';

export type { Profile } from '../profile/schema.js';

export function loadLinkProfile(path: string): Promise<LoadedProfile> {
  return loadProfile(path);
}

/** Regenerates the link's files (idempotent; reports only files that changed) and returns the profile. */
export async function regenerateLink(path: string, root: string | undefined, report: (line: string) => void): Promise<LoadedProfile> {
  const r = await generateLink(path, { root });
  for (const c of r.changes) if (c.action !== 'unchanged' && c.action !== 'absent' && c.action !== 'kept') report(`${r.profile.name}: ${c.action} ${c.fsPath}`);
  return { profile: r.profile, path: r.profilePath };
}
