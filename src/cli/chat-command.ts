import type { Command } from 'commander';
import { CHAT_HELP } from '../chat/usage.js';

/**
 * `chat` in the command listing and in `laplink help chat`. bin/laplink.js runs `laplink chat`
 * itself before the CLI framework loads (pppd's connect program starts cold), so the action here
 * serves only other callers of the CLI's main().
 */
export function register(program: Command): void {
  const chat = program
    .command('chat')
    .description('run a chat(8) script over the line on stdin/stdout (pppd connect program)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[script...]')
    .action(async (args: string[]) => {
      const { main } = await import('./chat.js');
      process.exitCode = await main(args);
    });
  chat.helpInformation = () => `${CHAT_HELP}\n`;
}
