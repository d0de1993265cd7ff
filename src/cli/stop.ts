import type { Command } from 'commander';
import { LaplinkError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { DEFAULT_GRACE_MS, DEFAULT_LOCK_DIR, DEFAULT_RUN_DIR, DEFAULT_STATE_DIR } from '../pppd/defaults.js';
import { findOrphanPppd, removeStaleLock } from '../pppd/orphan.js';
import { processOwner } from '../pppd/owner.js';
import { clearedLinkFields, pidAlive, readStateFile, writeStateFile, type LinkStatus } from '../pppd/state.js';
import { endPppd, NotPermittedError, signalPid } from '../pppd/terminate.js';
import { sleep } from '../runtime/sleep.js';
import { wholeNumber } from './int-flag.js';

/** How long `stop` waits for the supervisor to end pppd and exit (--timeout). */
const STOP_TIMEOUT_MS = 15_000;

interface StopFlags {
  stateDir: string;
  runDir: string;
  lockDir: string;
  timeout: number;
  grace: number;
}

/** One line naming what needs root, instead of "kill EPERM". */
function needsOwner(what: string, pid: number): LaplinkError {
  return new LaplinkError(`stop: ${what} runs as ${processOwner(pid)} (pid ${pid}); run stop as ${processOwner(pid)}`, EXIT.NOT_PERMITTED);
}

async function stopSupervisor(name: string, s: LinkStatus, flags: StopFlags): Promise<string> {
  try {
    signalPid(s.supervisorPid, 'SIGTERM');
  } catch (err) {
    if (err instanceof NotPermittedError) throw needsOwner(`the supervisor of ${name}`, s.supervisorPid);
    throw err;
  }
  const deadline = Date.now() + flags.timeout;
  while (pidAlive(s.supervisorPid)) {
    if (Date.now() > deadline) throw new LaplinkError(`${name}: supervisor ${s.supervisorPid} still running after ${flags.timeout} ms`);
    await sleep(50);
  }
  return `${name}: stopped`;
}

/** The supervisor died (kill -9) and left pppd holding the line: end that pppd ourselves. */
async function stopOrphan(name: string, s: LinkStatus, flags: StopFlags): Promise<string> {
  const pid = await findOrphanPppd({ name, previous: s, runDir: flags.runDir, lockDir: flags.lockDir, device: s.device });
  if (!pid) return `${name}: not running (supervisor ${s.supervisorPid} is gone; last state ${s.state})`;
  try {
    await endPppd(pid, { graceMs: flags.grace });
  } catch (err) {
    if (err instanceof NotPermittedError) throw needsOwner(`the pppd of ${name}`, pid);
    throw err;
  }
  if (s.device) await removeStaleLock(flags.lockDir, s.device, pid);
  const message = `stopped: laplink stop ended pppd pid ${pid} left by supervisor ${s.supervisorPid}`;
  await writeStateFile(flags.stateDir, { ...s, ...clearedLinkFields(), state: 'stopped', since: new Date().toISOString(), message, nextRetry: undefined });
  return `${name}: ended pppd pid ${pid} (its supervisor ${s.supervisorPid} is gone); stopped`;
}

export function register(program: Command): void {
  program
    .command('stop')
    .description("stop a link's supervisor (SIGTERM; it ends pppd) and wait until it has exited; a pppd left by a killed supervisor is ended directly")
    .argument('<name>', 'link name')
    .option('--state-dir <dir>', 'state file directory', DEFAULT_STATE_DIR)
    .option('--run-dir <dir>', "pppd's pid file directory (ppp-NAME.pid)", DEFAULT_RUN_DIR)
    .option('--lock-dir <dir>', 'UUCP lock directory', DEFAULT_LOCK_DIR)
    .option('--timeout <ms>', 'how long to wait', wholeNumber(), STOP_TIMEOUT_MS)
    .option('--grace <ms>', 'SIGTERM → SIGKILL grace period for a left-over pppd', wholeNumber(), DEFAULT_GRACE_MS)
    .action(async (name: string, flags: StopFlags) => {
      const s = await readStateFile(flags.stateDir, name);
      if (!s) throw new LaplinkError(`no state for link ${name} in ${flags.stateDir}`, EXIT.NO_SUCH_LINK);
      const line = pidAlive(s.supervisorPid) ? await stopSupervisor(name, s, flags) : await stopOrphan(name, s, flags);
      process.stdout.write(`${line}\n`);
    });
}
