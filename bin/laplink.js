#!/usr/bin/env node
// The CLI runs from dist/bundle (scripts/bundle.mjs): a handful of files instead of ~450 modules,
// because start-up time is what pppd waits on (`laplink chat`/`modem answer` as its connect program)
// and what a slow machine feels. chat and modem skip the CLI framework and load only their engine;
// --version loads nothing.
const sub = process.argv[2];
if ((sub === '--version' || sub === '-V') && process.argv.length === 3) {
  // the version alone needs no module at all: package.json beside this file, as npm installed it
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else if (sub === 'chat') {
  const { main } = await import('../dist/bundle/chat.js');
  process.exitCode = await main(process.argv.slice(3));
} else if (sub === 'modem') {
  const { main } = await import('../dist/bundle/modem.js');
  process.exitCode = await main(process.argv.slice(3));
} else {
  const { main } = await import('../dist/bundle/main.js');
  await main(process.argv);
}
