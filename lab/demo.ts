import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateLink } from '../src/render/generate.js';
import { packageRoot } from '../src/paths.js';

/**
 * `npm run demo`: generate the Windows-DCC server and client from the lab profiles into a scratch
 * root and show every file (secrets masked), then run scenario 2 on our own engine in the qemu lab.
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

/*
 * Then the real thing: two qemu guests (Debian's kernel, TCG), guest A running `laplink serve` on
 * the server profile (our engine's dcc-host preset answers CLIENT with CLIENTSERVER), guest B
 * `laplink connect --persist` on the client profile (dcc-guest resends CLIENT), joined on this
 * host by `laplink bridge serve` + `laplink bridge connect`; each guest ends with `laplink status`.
 */
const { prepareLab, runScenario } = await import('./run.js');
const { dccScenario } = await import('./scenarios.js');
process.stdout.write('\n### qemu lab: preparing the guest kernel (fetched once into the lab cache)\n');
const images = await prepareLab((l) => process.stdout.write(`  ${l}\n`));
const scenario = dccScenario('laplink', 'laplink');
process.stdout.write(`\n### ${scenario.title}\n  runs on: ${scenario.runsOn}\n  booting two guests…\n`);
const ac = new AbortController();
process.once('SIGINT', () => ac.abort());
const r = await runScenario(scenario, images, { signal: ac.signal });
const show = (who: string, text: string) => {
  process.stdout.write(`\n--- guest ${who}\n`);
  for (const line of text.split('\n')) {
    const m = /^LAB:(?:PPPD |LOG |TABLE |PEERS )?(.*)$/.exec(line.trim());
    if (m && !/^(BOOTED|EXIT)/.test(m[1]!)) process.stdout.write(`  ${m[1]}\n`);
  }
};
show('A (DCC host, server)', r.consoleA);
show('B (DCC guest, client)', r.consoleB);
process.stdout.write(`\n### ${r.ok ? 'PASS' : `FAIL: ${r.problem}`} in ${r.seconds.toFixed(1)} s\n`);
await rm(root, { recursive: true, force: true });
process.exitCode = r.ok ? 0 : 1;
