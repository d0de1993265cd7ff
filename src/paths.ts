import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Root of the installed package (where package.json, templates/ and bin/ are). Found by walking up
 * from this module so it is the same whether the code runs from src/ (tests) or dist/src/ (CLI).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the ppp-laplink package root');
    dir = parent;
  }
}

export function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

/**
 * The argv that runs this very installation of `laplink` (absolute node + bin path), for places
 * where another program starts us: pppd's `connect`/`pty`, the systemd unit, the lab guests.
 */
export function laplinkArgv(): string[] {
  return [realpathSync(process.execPath), join(packageRoot(), 'bin', 'laplink.js')];
}
