import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
 * The `laplink` link npm made for this package, if it is installed as a package: PREFIX/bin/laplink
 * for `npm install -g` (the package is PREFIX/lib/node_modules/NAME) or node_modules/.bin/laplink for
 * a local install. That link survives `npm update`/`npm install -g` of a new version, while the
 * package directory behind it is replaced, so generated files name the link, not the target.
 */
export function installedBinLink(root = packageRoot()): string | undefined {
  const entry = realpathSync(join(root, 'bin', 'laplink.js'));
  const modules = dirname(root);
  if (basename(modules) !== 'node_modules') return undefined;
  const links = [join(modules, '.bin', 'laplink')];
  if (basename(dirname(modules)) === 'lib') links.unshift(join(dirname(dirname(modules)), 'bin', 'laplink'));
  return links.find((link) => {
    try {
      return realpathSync(link) === entry;
    } catch {
      return false;
    }
  });
}

/**
 * The argv that runs this very installation of `laplink`, for places where another program starts
 * us: pppd's `connect`/`pty`, the systemd unit, the lab guests. The node binary is named explicitly
 * (pppd's and systemd's PATH need not find the one that runs us); the script is npm's stable bin link
 * when installed as a package, else this checkout's bin/laplink.js.
 */
export function laplinkArgv(): string[] {
  const root = packageRoot();
  return [realpathSync(process.execPath), installedBinLink(root) ?? join(root, 'bin', 'laplink.js')];
}
