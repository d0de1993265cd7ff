// Bundles the compiled CLI (dist/src) into a few files in dist/bundle, which bin/laplink.js runs.
// Why: Node's ESM loader pays per module (resolve, read, link), and the CLI with its libraries is
// ~450 modules. On a slow CPU (a small board, a qemu TCG guest: the lab) that was 7-12 s before
// `laplink serve` did anything; bundled, about 2.5 times less. Subcommands stay lazily loaded chunks.
// The serialport binding stays external: it loads its .node file relative to itself.
import { rmSync } from 'node:fs';
import { build } from 'rolldown';

const out = 'dist/bundle';
rmSync(out, { recursive: true, force: true });
await build({
  input: {
    main: 'dist/src/cli/main.js',
    chat: 'dist/src/cli/chat.js',
    modem: 'dist/src/cli/modem.js',
    // started as a worker by URL next to the chunk that starts it (src/bridge/config-isolated.ts)
    'config-worker': 'dist/src/bridge/config-worker.js',
  },
  platform: 'node',
  external: [/^serialport(\/|$)/, /^@serialport\//, /^node:/],
  output: { dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
  logLevel: 'warn',
});
