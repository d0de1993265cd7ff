import { maskSecrets } from './log.js';

/**
 * Masking the profile's passwords wherever pppd's words travel on: the log, and every string field
 * of the state file (mode 0644) and `status`. pppd prints what the peer sends, so a peer that sends
 * its password as the user name ("PAP peer authentication failed for PASSWORD") would otherwise put
 * it into peerUser or the exit reason. The masking itself is log.ts's `maskSecrets` (a mask
 * character no secret contains), so the log and the state file hide a secret the same way.
 */

/** Masks every string in a JSON-like object, in place (nested objects too). */
export function maskFields(obj: Record<string, unknown>, secrets: readonly string[]): void {
  if (!secrets.some(Boolean)) return;
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string') obj[k] = maskSecrets(v, secrets);
    else if (v && typeof v === 'object') maskFields(v as Record<string, unknown>, secrets);
  }
}
