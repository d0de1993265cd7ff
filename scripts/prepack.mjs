// `npm pack` / `npm publish` run this (the `prepack` script): a clean build, then the native pump
// copied to prebuilds/PLATFORM-ARCH/pump.node, which the package ships. Nothing may depend on an
// install script: npm 11 skips dependencies' install scripts in a global install
// (`npm warn install-scripts`), so the addon is built here, at pack time, not on the user's machine.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';

// Stale output of a deleted source file must not ship: build into an empty dist/src. Only src/ is
// compiled (tsconfig.pack.json): the package carries no lab, bench or fuzz code.
for (const dir of ['dist/src', 'dist/native', 'dist/bundle']) rmSync(dir, { recursive: true, force: true });
execFileSync('npx', ['tsc', '-p', 'tsconfig.pack.json'], { stdio: 'inherit' });
execFileSync(process.execPath, ['scripts/build-native.mjs'], { stdio: 'inherit' });
// The package runs from the bundle only (bin/laplink.js imports dist/bundle): dist/src is not shipped.
execFileSync(process.execPath, ['scripts/bundle.mjs'], { stdio: 'inherit' });
// The browser's terminal, served by `laplink web` from the package (dist/web/vendor).
execFileSync(process.execPath, ['scripts/web-assets.mjs'], { stdio: 'inherit' });

const target = `${process.platform}-${process.arch}`;
const built = 'dist/native/pump.node';
rmSync('prebuilds', { recursive: true, force: true });
if (existsSync(built)) {
  mkdirSync(`prebuilds/${target}`, { recursive: true });
  copyFileSync(built, `prebuilds/${target}/pump.node`);
  console.error(`prepack: prebuilds/${target}/pump.node`);
} else if (target === 'linux-x64') {
  // The promise of the package is the pump on linux-x64: a tarball without it must not be made.
  console.error('prepack: dist/native/pump.node was not built (is a C compiler installed?); refusing to pack without the linux-x64 pump');
  process.exit(1);
} else {
  console.error(`prepack: no native pump for ${target}; the package's bridge will move bytes in JavaScript there`);
}
// The other Linux machines the package serves (a Raspberry Pi's 64-bit OS), cross-compiled: without
// its addon a machine has no --pty, no line counters and, worse, no systemd notification, which a
// Type=notify unit waits for. debian-packages.txt lists the cross compilers.
const cross = { 'linux-arm64': 'aarch64-linux-gnu-gcc' };
for (const [other, compiler] of Object.entries(cross)) {
  if (other === target) continue;
  const file = `prebuilds/${other}/pump.node`;
  execFileSync(process.execPath, ['scripts/build-native.mjs', file], { stdio: 'inherit', env: { ...process.env, CC: compiler } });
  console.error(existsSync(file) ? `prepack: ${file}` : `prepack: no addon for ${other} (is ${compiler} installed?)`);
}
