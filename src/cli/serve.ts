import { watch } from 'chokidar';
import type { Command } from 'commander';
import { LaplinkError } from '../errors.js';
import { addressOn } from '../profile/ipv6.js';
import { pppdArgs } from '../pppd/args.js';
import { checkPppdBinary } from '../pppd/binary.js';
import { DEFAULT_GRACE_MS, DEFAULT_LOCK_DIR, DEFAULT_PPPD, DEFAULT_RESET_AFTER_MS, DEFAULT_RUN_DIR, DEFAULT_STATE_DIR } from '../pppd/defaults.js';
import type { Profile } from '../pppd/profile.js';
import { loadLinkProfile, regenerateLink } from '../pppd/profile.js';
import { notifySystemd } from '../pppd/sd-link.js';
import { Supervisor, type LinkConfig } from '../pppd/supervise.js';

export interface RunLinkFlags {
  root?: string;
  stateDir: string;
  pppd?: string;
  debug?: boolean;
  device?: string;
  lockDir: string;
  runDir: string;
  persist?: boolean;
  generate: boolean;
  grace: string;
  backoffInitial: string;
  backoffMax: string;
  resetAfter: string;
  tooFastStarts: string;
  tooFastWindow: string;
  tooFastPause: string;
  orphan: 'adopt' | 'end';
}

/** Exit status when pppd's exit status says retrying cannot help (EX_CONFIG): a systemd unit can
 *  list it in RestartPreventExitStatus= so systemd does not loop either. */
export const EXIT_NOT_RETRIED = 78;

const num = (v: string, flag: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new LaplinkError(`${flag} must be a non-negative number, got ${JSON.stringify(v)}`, 2);
  return n;
};

function linkConfig(profile: Profile, flags: RunLinkFlags): LinkConfig {
  const device = flags.device ?? (profile.bridge ? undefined : profile.device);
  const secrets = [profile.auth.password, ...profile.auth.users.map((u) => u.password)].filter((s): s is string => !!s);
  return {
    args: pppdArgs({ name: profile.name, root: flags.root, device: flags.device, debug: flags.debug }),
    device,
    hasConnectScript: profile.peer !== 'linux',
    secrets,
    ipv6Net: profile.ipv6?.prefix && profile.ipv6.localId && profile.ipv6.remoteId ? { local: addressOn(profile.ipv6.prefix, profile.ipv6.localId), remote: addressOn(profile.ipv6.prefix, profile.ipv6.remoteId) } : undefined,
  };
}

/** Shared by `serve` and `connect`: generate the link's files, then supervise pppd until stopped. */
export async function runLink(profilePath: string, flags: RunLinkFlags, role: 'server' | 'client'): Promise<number> {
  const write = (s: string) => process.stderr.write(`${s}\n`);
  const pppd = flags.pppd ?? process.env.LAPLINK_PPPD ?? DEFAULT_PPPD;
  // Before generating or starting anything: a wrong path would otherwise surface as a failed spawn.
  await checkPppdBinary(pppd, flags.pppd ? '--pppd' : process.env.LAPLINK_PPPD ? '$LAPLINK_PPPD' : 'pppd');
  const loaded = flags.generate ? await regenerateLink(profilePath, flags.root, write) : await loadLinkProfile(profilePath);
  const profile = loaded.profile;
  if (profile.listen) return (await import('../callers/run.js')).runCallers(loaded.path, profile, flags, pppd);
  const name = profile.name;
  const oneShot = role === 'client' && !flags.persist && !profile.persist;
  const sup = new Supervisor({
    name,
    ...linkConfig(profile, flags),
    pppd,
    oneShot,
    stateDir: flags.stateDir,
    lockDir: flags.lockDir,
    runDir: flags.runDir,
    graceMs: num(flags.grace, '--grace'),
    backoff: { initialMs: num(flags.backoffInitial, '--backoff-initial'), maxMs: num(flags.backoffMax, '--backoff-max') },
    resetAfterMs: num(flags.resetAfter, '--reset-after'),
    tooFast: { starts: num(flags.tooFastStarts, '--too-fast-starts'), windowMs: num(flags.tooFastWindow, '--too-fast-window'), pauseMs: num(flags.tooFastPause, '--too-fast-pause') },
    orphan: flags.orphan,
    reload: async () => {
      // Validate now (an invalid profile keeps the running link); regenerate when applied.
      await loadLinkProfile(profilePath);
      return async () => {
        const r = flags.generate ? await regenerateLink(profilePath, flags.root, write) : await loadLinkProfile(profilePath);
        if (r.profile.name !== name) throw new Error(`the link name changed (${name} → ${r.profile.name}); restart the supervisor for a new link`);
        return linkConfig(r.profile, flags);
      };
    },
  });
  sup.on('log', (line) => write(`${name}: ${line}`));
  const sd = notifySystemd(sup, (line) => write(`${name}: ${line}`));
  let shown = '';
  sup.on('state', (s) => {
    if (s.state !== shown && s.state !== 'up') write(`${name}: state ${s.state}`);
    shown = s.state;
  });

  // An editor's save (or `cat > profile`) is a truncate then a write, often within one mtime tick:
  // wait until the file has stopped changing, or the reload reads an empty file and the real change
  // that follows is coalesced away.
  const watcher = watch(loaded.path, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 25 } });
  watcher.on('change', () => void sup.requestReload());
  const onHup = () => void sup.requestReload();
  const onTerm = () => {
    sd.stopping();
    void sup.stop();
  };
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  try {
    const final = await sup.run();
    // A one-shot call exits with pppd's own status, whatever it was (connect's help says so); a
    // supervisor that keeps the link up exits EX_CONFIG, which systemd's RestartPreventExitStatus names.
    if (final.state === 'failed') return oneShot && final.lastExit ? final.lastExit.code : EXIT_NOT_RETRIED;
    if (final.state === 'done') return final.lastExit && final.lastExit.code > 0 ? final.lastExit.code : 0;
    return 0;
  } finally {
    sd.stopping();
    sd.close();
    await watcher.close();
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onTerm);
  }
}

export function addLinkOptions(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'the link files were generated under this directory (pppd runs `file DIR/etc/ppp/peers/NAME`)')
    .option('--state-dir <dir>', 'where the state file NAME.json is written', DEFAULT_STATE_DIR)
    .option('--pppd <path>', `pppd binary (env LAPLINK_PPPD; default ${DEFAULT_PPPD})`)
    .option('--debug', "add pppd's `debug` option")
    .option('--device <path>', "serial device instead of the profile's (also passed to pppd)")
    .option('--lock-dir <dir>', 'UUCP lock directory, to name who holds the line', DEFAULT_LOCK_DIR)
    .option('--run-dir <dir>', "pppd's pid file directory (ppp-NAME.pid)", DEFAULT_RUN_DIR)
    .option('--no-generate', 'do not (re)generate the link files before starting')
    .option('--grace <ms>', 'SIGTERM → SIGKILL grace period for pppd', String(DEFAULT_GRACE_MS))
    .option('--backoff-initial <ms>', 'first retry delay', '1000')
    .option('--backoff-max <ms>', 'longest retry delay', '60000')
    .option('--reset-after <ms>', 'a link up this long resets the backoff', String(DEFAULT_RESET_AFTER_MS))
    .option('--too-fast-starts <n>', 'this many starts …', '10')
    .option('--too-fast-window <ms>', '… within this window pause the link', '120000')
    .option('--too-fast-pause <ms>', 'how long to pause', '300000')
    .option('--orphan <mode>', 'a pppd left by a killed supervisor: adopt | end', 'adopt');
}

export function register(program: Command): void {
  addLinkOptions(
    program
      .command('serve')
      .description('server: run pppd on the line and respawn it after every call (exit-status policy, backoff, state file)')
      .argument('<profile>', 'link profile (YAML)')
      .option('--persist', 'accepted for symmetry with connect (a server always respawns)'),
  ).action(async (profile: string, opts: RunLinkFlags) => {
    process.exitCode = await runLink(profile, opts, 'server');
  });
}
