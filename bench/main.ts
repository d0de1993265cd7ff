import { ContendersFailed } from './lib/failure.js';
import { suites } from './suites/index.js';

/**
 * `npm run bench [-- --quick] [-- SUITE...] [-- --only CONFIG]`: runs every suite (or the named ones) in one process so
 * ppp-laplink and the anchors (socat, ser2net, real chat) are compared in the same run, as ratios.
 */
const args = process.argv.slice(2);
const quick = args.includes('--quick');
// --only CONFIG (repeatable): a suite that has configurations runs just these
const only = args.flatMap((a, i) => (args[i - 1] === '--only' ? [a] : []));
const wanted = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--only');
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

let failed = false;
for (const load of suites) {
  const suite = await load();
  if (wanted.length > 0 && !wanted.includes(suite.name)) continue;
  process.stdout.write(`\n## ${suite.name}\n\n`);
  try {
    process.stdout.write(`${await suite.run({ quick, signal: controller.signal, ...(only.length ? { only } : {}) })}\n`);
  } catch (err) {
    failed = true;
    if (err instanceof ContendersFailed) process.stdout.write(`${err.report}\n`);
    process.stdout.write(`suite ${suite.name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
