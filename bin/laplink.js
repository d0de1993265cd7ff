#!/usr/bin/env node
// The CLI runs from dist/bundle (scripts/bundle.mjs): a handful of files instead of ~450 modules,
// because start-up time is what pppd waits on (`laplink chat`/`modem answer` as its connect program)
// and what a slow machine feels. chat and modem skip the CLI framework and load only their engine.
const sub = process.argv[2];
if (sub === 'chat') {
  const { main } = await import('../dist/bundle/chat.js');
  process.exitCode = await main(process.argv.slice(3));
} else if (sub === 'modem') {
  const { main } = await import('../dist/bundle/modem.js');
  process.exitCode = await main(process.argv.slice(3));
} else {
  const { main } = await import('../dist/bundle/main.js');
  await main(process.argv);
}
