// Bundles the compiled CLI (dist/src) into a few files in dist/bundle, which bin/laplink.js runs.
// Why: Node's ESM loader pays per module (resolve, read, link), and the CLI with its libraries is
// ~450 modules. On a slow CPU (a small board, a qemu TCG guest: the lab) that was 7-12 s before
// `laplink serve` did anything; bundled, about 2.5 times less. Subcommands stay lazily loaded chunks.
//
// The serialport binding (@serialport/bindings-cpp, a devDependency) is bundled too, and only its
// Linux prebuilt .node files are copied, to dist/serialport/prebuilds: the package is a Linux tool,
// and the binding's npm package carries every platform's (2.3 MB installed, 1 MB of it Linux). Its
// one module that finds the .node file next to itself (`dist/serialport-bindings.js`) is swapped for
// the same node-gyp-build call pointed at dist/serialport, so the choice of file (glibc or musl,
// which ARM) stays node-gyp-build's. The binding's MIT licence goes with its files.
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'rolldown';

const out = 'dist/bundle';
rmSync(out, { recursive: true, force: true });

const bindingRoot = dirname(createRequire(import.meta.url).resolve('@serialport/bindings-cpp/package.json'));
const bindingOut = 'dist/serialport';
rmSync(bindingOut, { recursive: true, force: true });
for (const target of readdirSync(join(bindingRoot, 'prebuilds')).filter((t) => t.startsWith('linux-'))) {
  cpSync(join(bindingRoot, 'prebuilds', target), join(bindingOut, 'prebuilds', target), { recursive: true });
}
cpSync(join(bindingRoot, 'LICENSE'), join(bindingOut, 'LICENSE'));
const bindingLoader = join(bindingRoot, 'dist', 'serialport-bindings.js');

/** Points the binding's loader at dist/serialport (relative to the chunk, which lives in dist/bundle). */
const serialportPrebuilds = {
  name: 'serialport-prebuilds',
  load(id) {
    if (id !== bindingLoader) return null;
    return [
      "import nodeGypBuild from 'node-gyp-build';",
      "import { fileURLToPath } from 'node:url';",
      "export const binding = nodeGypBuild(fileURLToPath(new URL('../serialport/', import.meta.url)));",
    ].join('\n');
  },
};

await build({
  input: {
    main: 'dist/src/cli/main.js',
    chat: 'dist/src/cli/chat.js',
    modem: 'dist/src/cli/modem.js',
    // started as a worker by URL next to the chunk that starts it (src/bridge/config-isolated.ts)
    'config-worker': 'dist/src/bridge/config-worker.js',
  },
  platform: 'node',
  plugins: [serialportPrebuilds],
  external: [/^node:/],
  output: { dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
  logLevel: 'warn',
});
