#!/usr/bin/env node
// pppd waits on `laplink chat` as its connect program, so that path skips the CLI framework
// and loads only the chat engine: cold start matters there.
const sub = process.argv[2];
if (sub === 'chat') {
  const { main } = await import('../dist/src/cli/chat.js');
  process.exitCode = await main(process.argv.slice(3));
} else {
  const { main } = await import('../dist/src/cli/main.js');
  await main(process.argv);
}
