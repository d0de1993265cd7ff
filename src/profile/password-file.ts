/**
 * `auth.passwordFile` is read by pppd (`@FILE` in pap-secrets) each time the link starts, on the
 * target system: a file that is not there gives an empty secret and a refused login. `check` says
 * so (FAIL) and `generate` refuses to write `@FILE` for it.
 */
import { stat } from 'node:fs/promises';
import { underRoot } from '../render/write.js';
import { readBack } from '../runtime/read-back.js';
import { UsageError } from '../errors.js';
import { errnoText } from '../socket-reason.js';
import type { Profile } from './schema.js';

/** What is wrong with the password file as the target system (under `root`) sees it, or undefined. */
export async function passwordFileProblem(file: string, root: string | undefined): Promise<string | undefined> {
  const path = underRoot(root, file);
  try {
    const st = await stat(path);
    return st.isFile() ? undefined : `${path} is not a regular file; pppd reads the secret from it`;
  } catch (err) {
    return `${path}: ${errnoText(err)}; pppd would read an empty secret from it (create it, mode 0600, holding the password)`;
  }
}

/** Throws a UsageError naming the field and file when the profile's password file cannot serve. */
export async function requirePasswordFile(p: Profile, root: string | undefined): Promise<void> {
  if (p.auth.passwordFile === undefined) return;
  const problem = await passwordFileProblem(p.auth.passwordFile, root);
  if (problem) throw new UsageError(`auth.passwordFile: ${problem}; nothing was written`);
}

/** A password file is a line, not a document: more than this is not read for masking. */
const PASSWORD_FILE_MAX_BYTES = 4096;

/**
 * The secret pppd will read from the password file (its first line, as pppd's @FILE takes it), so
 * that the supervisor masks it in pppd's log lines like an inline password. Undefined when the file
 * cannot be read here: generate and check already say why.
 */
export async function passwordFileSecret(file: string, root: string | undefined): Promise<string | undefined> {
  try {
    const got = await readBack(underRoot(root, file), { maxBytes: PASSWORD_FILE_MAX_BYTES, followSymlinks: true });
    const first = got?.bytes.toString('utf8').split(/\r?\n/)[0];
    return first ? first : undefined;
  } catch {
    return undefined;
  }
}
