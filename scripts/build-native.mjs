// Compiles the addon (native/*.c: the data pump and the few libc calls Node lacks) against the
// Node-API headers from npm, so no Node source download is needed. Without a C compiler the build
// still succeeds: the bridge then moves every byte in JavaScript (and says so), while what needs a
// system call (a new pty, line counters, systemd notification) fails with a clear error.
// `node scripts/build-native.mjs [OUT]` with CC=a cross compiler builds for another machine
// (scripts/prepack.mjs does, for linux-arm64).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';

const include = createRequire(import.meta.url)('node-api-headers').include_dir;
const out = process.argv[2] ?? 'dist/native/pump.node';
mkdirSync(dirname(out), { recursive: true });
const cc = process.env.CC || 'cc';
// native/tls.c calls the OpenSSL that the node binary exports (nothing is linked) but needs its
// headers (libssl-dev) for this compiler's target; without them the addon is built without TLS
// termination rather than not at all (the arm64 cross build has no arm64 headers).
let withTls = true;
try {
  execFileSync(cc, ['-E', '-x', 'c', '-', '-o', '/dev/null'], { input: '#include <openssl/ssl.h>\n', stdio: ['pipe', 'ignore', 'ignore'] });
} catch {
  withTls = false;
  console.warn(`build-native: no OpenSSL headers for "${cc}" (libssl-dev); ${out} is built without native TLS termination`);
}
const sources = readdirSync('native')
  .filter((f) => f.endsWith('.c') && (withTls || f !== 'tls.c'))
  .sort()
  .map((f) => `native/${f}`);
try {
  execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-pthread', ...(withTls ? [] : ['-DLAPLINK_NO_TLS']), '-I', include, ...sources, '-o', out], { stdio: 'inherit' });
} catch (err) {
  console.warn(`build-native: ${out} not built (${err.code === 'ENOENT' ? `no C compiler "${cc}"` : 'compiler failed'}); the bridge will move bytes in JavaScript and --pty, line counters and systemd notification will not work`);
}
