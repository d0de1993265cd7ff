import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { LaplinkError } from '../errors.js';
import { EXIT } from '../exit-codes.js';

/** The pppd binary cannot be run: nothing was started. Exit status 78 (EX_CONFIG) like every
 *  condition that retrying cannot fix. */
export class PppdBinaryError extends LaplinkError {
  constructor(message: string) {
    super(message, EXIT.CONFIG);
  }
}

async function isExecutableFile(path: string): Promise<'ok' | 'missing' | 'not-a-file' | 'not-executable'> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return 'missing';
  if (!st.isFile()) return 'not-a-file';
  return access(path, constants.X_OK).then(
    () => 'ok' as const,
    () => 'not-executable' as const,
  );
}

/** Checks before anything starts that `pppd` names an executable file (a bare name is looked up in
 *  $PATH, as execa would). `source` says where the path came from, for the message. */
export async function checkPppdBinary(pppd: string, source: string): Promise<void> {
  if (!pppd.includes('/')) {
    for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) if ((await isExecutableFile(join(dir, pppd))) === 'ok') return;
    throw new PppdBinaryError(`${source} ${pppd}: not found in $PATH`);
  }
  const found = await isExecutableFile(pppd);
  if (found === 'missing') throw new PppdBinaryError(`${source} ${pppd}: no such file`);
  if (found === 'not-a-file') throw new PppdBinaryError(`${source} ${pppd}: not a regular file`);
  if (found === 'not-executable') throw new PppdBinaryError(`${source} ${pppd}: not executable (chmod +x, or name the real pppd)`);
}
