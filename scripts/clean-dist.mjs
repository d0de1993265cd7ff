// tsc only ever adds to dist/: a module renamed or deleted in the source would live on there as a
// stale .js that the lab, the bench and the bin could still import. The compiled trees go before
// each build; dist/native and the bundled binding are rebuilt by their own steps.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
for (const tree of ['src', 'bench', 'lab', 'fuzz', 'test']) rmSync(dist + tree, { recursive: true, force: true });
