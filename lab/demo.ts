import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateLink } from '../src/render/generate.js';
import { packageRoot } from '../src/paths.js';

/**
 * Interim demo (until the qemu lab lands): generate the Windows-DCC server and client from the lab
 * profiles into a scratch root and show every file, secrets masked.
 */
const root = await mkdtemp(join(tmpdir(), 'laplink-demo-'));
for (const name of ['server-windows', 'client-windows']) {
  const profile = join(packageRoot(), 'lab', 'profiles', `${name}.yaml`);
  process.stdout.write(`\n### laplink generate lab/profiles/${name}.yaml --root ${root}\n`);
  const result = await generateLink(profile, { root });
  for (const change of result.changes) {
    if (change.after === null) continue;
    process.stdout.write(`\n--- ${change.path} (${change.action})\n`);
    const text = change.secret ? '(secrets file: contents not shown)\n' : await readFile(change.fsPath, 'utf8');
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}
