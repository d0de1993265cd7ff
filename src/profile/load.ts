import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadYamlFile, parseYamlText } from '../yaml/load.js';
import { profileSchema, type Profile } from './schema.js';

export { ConfigError as ProfileError };

/** A validated profile and the absolute path it came from (the systemd unit points back at it). */
export interface LoadedProfile {
  profile: Profile;
  path: string;
}

/** Loads and validates a profile file; throws ProfileError (exit 2) listing every problem. */
export async function loadProfile(path: string): Promise<LoadedProfile> {
  const abs = resolve(path);
  return { profile: await loadYamlFile(abs, profileSchema), path: abs };
}

/** Same as loadProfile for text already in memory (tests, `init` self-check). */
export function parseProfile(text: string, fileName = 'profile.yaml'): Profile {
  return parseYamlText(text, fileName, profileSchema);
}
