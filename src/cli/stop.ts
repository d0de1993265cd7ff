import type { Command } from 'commander';
import { LaplinkError } from '../errors.js';
import { DEFAULT_STATE_DIR } from '../pppd/defaults.js';
import { pidAlive, readStateFile } from '../pppd/state.js';

export function register(program: Command): void {
  program
    .command('stop')
    .description("stop a link's supervisor (SIGTERM; it ends pppd) and wait until it has exited")
    .argument('<name>', 'link name')
    .option('--state-dir <dir>', 'state file directory', DEFAULT_STATE_DIR)
    .option('--timeout <ms>', 'how long to wait', '15000')
    .action(async (name: string, opts: { stateDir: string; timeout: string }) => {
      const s = await readStateFile(opts.stateDir, name);
      if (!s) throw new LaplinkError(`no state for link ${name} in ${opts.stateDir}`, 3);
      if (!pidAlive(s.supervisorPid)) {
        process.stdout.write(`${name}: not running (supervisor ${s.supervisorPid} is gone; last state ${s.state})\n`);
        return;
      }
      process.kill(s.supervisorPid, 'SIGTERM');
      const deadline = Date.now() + Number(opts.timeout);
      while (pidAlive(s.supervisorPid)) {
        if (Date.now() > deadline) throw new LaplinkError(`${name}: supervisor ${s.supervisorPid} still running after ${opts.timeout} ms`, 1);
        await new Promise((r) => setTimeout(r, 50));
      }
      process.stdout.write(`${name}: stopped\n`);
    });
}
