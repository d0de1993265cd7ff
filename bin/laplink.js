#!/usr/bin/env node
// pppd waits on `laplink chat` or `laplink modem answer` as its connect program, so those paths skip the CLI framework
// and loads only that engine: cold start matters there.
const sub = process.argv[2];
if (sub === 'chat') {
  const { main } = await import('../dist/src/cli/chat.js');
  process.exitCode = await main(process.argv.slice(3));
} else if (sub === 'modem') {
  const { main } = await import('../dist/src/cli/modem.js');
  process.exitCode = await main(process.argv.slice(3));
} else {
  const { main } = await import('../dist/src/cli/main.js');
  await main(process.argv);
}
