/**
 * Things a valid profile may still get wrong, said by `check` (warn) and `generate` (stderr) but
 * never fatal: the file works, it is just not what the user meant to run.
 */
import type { Profile } from './schema.js';
import { profileSecrets } from './secrets.js';

/** The password `laplink init` writes, which everyone who has read the starter knows. */
export const PLACEHOLDER_PASSWORD = 'change-me';

export interface ProfileWarning {
  /** Field path as in error messages (`auth.users[0].password`). */
  field: string;
  message: string;
}

export function profileWarnings(p: Profile): ProfileWarning[] {
  const out: ProfileWarning[] = [];
  const placeholder = (field: string) => out.push({ field, message: `is still ${PLACEHOLDER_PASSWORD}, the starter's placeholder; set a secret of your own` });
  for (const secret of profileSecrets(p)) if (secret.value === PLACEHOLDER_PASSWORD) placeholder(secret.field);
  return out;
}
