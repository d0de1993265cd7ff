import type { Profile } from './schema.js';

/** A secret the profile holds, and the field path its messages name it by. */
export interface ProfileSecret {
  field: string;
  value: string;
}

/**
 * Every secret written in a profile: the one place that says which fields hold one, for masking
 * them wherever pppd's words go (log, state file) and for the starter-placeholder warning.
 * (`auth.passwordFile` names a file pppd reads itself; its contents never pass through here.)
 */
export function profileSecrets(p: Profile): ProfileSecret[] {
  const out: ProfileSecret[] = [];
  if (p.auth.password !== undefined) out.push({ field: 'auth.password', value: p.auth.password });
  p.auth.users.forEach((u, i) => {
    if (u.password !== undefined) out.push({ field: `auth.users[${i}].password`, value: u.password });
  });
  return out;
}
