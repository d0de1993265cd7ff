/**
 * Things a valid profile may still get wrong, said by `check` (warn) and `generate` (stderr) but
 * never fatal: the file works, it is just not what the user meant to run.
 */
import type { Profile } from './schema.js';

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
  if (p.auth.password === PLACEHOLDER_PASSWORD) placeholder('auth.password');
  p.auth.users.forEach((u, i) => {
    if (u.password === PLACEHOLDER_PASSWORD) placeholder(`auth.users[${i}].password`);
  });
  return out;
}
