// Copies the browser's terminal (@xterm/xterm and its fit addon, devDependencies) into dist/web/vendor:
// the package serves them itself (no CDN), and the installed package has no node_modules of ours.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

const out = 'dist/web/vendor';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const [from, to] of [
  ['node_modules/@xterm/xterm/lib/xterm.mjs', 'xterm.mjs'],
  ['node_modules/@xterm/xterm/css/xterm.css', 'xterm.css'],
  ['node_modules/@xterm/addon-fit/lib/addon-fit.mjs', 'addon-fit.mjs'],
]) copyFileSync(from, `${out}/${to}`);
