// Compiles the native data pump (native/pump.c) against the Node-API headers from npm, so no Node
// source download is needed. Without a C compiler the build still succeeds: the bridge then moves
// every byte in JavaScript, and says so in `laplink bridge` output and the pump's own test.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const include = createRequire(import.meta.url)('node-api-headers').include_dir;
const out = 'dist/native/pump.node';
mkdirSync('dist/native', { recursive: true });
const cc = process.env.CC || 'cc';
try {
  execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-pthread', '-I', include, 'native/pump.c', '-o', out], { stdio: 'inherit' });
} catch (err) {
  console.warn(`build-native: ${out} not built (${err.code === 'ENOENT' ? `no C compiler "${cc}"` : 'compiler failed'}); the bridge will move bytes in JavaScript`);
}
