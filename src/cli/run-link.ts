import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { addressOn } from '../profile/ipv6.js';
import { profileSecrets } from '../profile/secrets.js';
import { passwordFileSecret } from '../profile/password-file.js';
import { pppdArgs } from '../pppd/args.js';
import { checkPppdBinary } from '../pppd/binary.js';
import { DEFAULT_BACKOFF, DEFAULT_GRACE_MS, DEFAULT_LOCK_DIR, DEFAULT_PPPD, DEFAULT_RESET_AFTER_MS, DEFAULT_RUN_DIR, DEFAULT_STATE_DIR, DEFAULT_TOO_FAST } from '../pppd/defaults.js';
import type { Profile } from '../pppd/profile.js';
import { loadLinkProfile, regenerateLink } from '../pppd/profile.js';
import { notifySystemd } from '../pppd/sd-link.js';
import { Supervisor, type LinkConfig } from '../pppd/supervise.js';
import { readBack } from '../runtime/read-back.js';
import { watchFile } from '../runtime/watch-file.js';
import { MAX_CONFIG_BYTES } from '../yaml/load.js';
import { wholeNumber } from './int-flag.js';

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
  grace: number;
  backoffInitial: number;
  backoffMax: number;
  resetAfter: number;
  tooFastStarts: number;
  tooFastWindow: number;
  tooFastPause: number;
  orphan: 'adopt' | 'end';
}

/** How long a profile's directory must be quiet before the profile is read again (ms). */
const PROFILE_SETTLE_MS = 100;

/**
 * The profile's bytes now, read as the loader reads it (by type, capped: a FIFO put in its place
 * would otherwise hold every later reload, and the stop that waits for them); undefined while it is
 * missing (being replaced). Anything else is a ReadBackError naming the file.
 */
async function profileText(path: string): Promise<string | undefined> {
  return (await readBack(path, { maxBytes: MAX_CONFIG_BYTES, followSymlinks: true }))?.bytes.toString('utf8');
}

async function linkConfig(profile: Profile, flags: RunLinkFlags): Promise<LinkConfig> {
  const device = flags.device ?? (profile.bridge ? undefined : profile.device);
  const fromFile = profile.auth.passwordFile === undefined ? undefined : await passwordFileSecret(profile.auth.passwordFile, flags.root);
  return {
    args: pppdArgs({ name: profile.name, root: flags.root, device: flags.device, debug: flags.debug }),
    device,
    hasConnectScript: profile.peer !== 'linux',
    secrets: [...profileSecrets(profile).map((s) => s.value), ...(fromFile ? [fromFile] : [])],
    ipv6Net: profile.ipv6?.prefix && profile.ipv6.localId && profile.ipv6.remoteId ? { local: addressOn(profile.ipv6.prefix, profile.ipv6.localId), remote: addressOn(profile.ipv6.prefix, profile.ipv6.remoteId) } : undefined,
  };
}

/** Shared by `serve` and `connect`: generate the link's files, then supervise pppd until stopped. */
export async function runLink(profilePath: string, flags: RunLinkFlags, role: 'server' | 'client'): Promise<number> {
  const write = (s: string) => process.stderr.write(`${s}\n`);
  const pppd = flags.pppd ?? process.env.LAPLINK_PPPD ?? DEFAULT_PPPD;
  // Before generating or starting anything: a wrong path would otherwise surface as a failed spawn.
  await checkPppdBinary(pppd, flags.pppd ? '--pppd' : process.env.LAPLINK_PPPD ? '$LAPLINK_PPPD' : 'pppd');
  // The text the running link was made from, read before it is loaded: an edit in between is then
  // seen as one by the first look of the watch below. One that cannot be read is said by the load
  // just below, in the loader's words.
  let seenText = await profileText(profilePath).catch(() => undefined);
  const loaded = flags.generate ? await regenerateLink(profilePath, flags.root, write) : await loadLinkProfile(profilePath);
  const profile = loaded.profile;
  if (profile.listen) return (await import('../callers/run.js')).runCallers(loaded.path, profile, flags, pppd);
  const name = profile.name;
  const oneShot = role === 'client' && !flags.persist && !profile.persist;
  const sup = new Supervisor({
    name,
    ...(await linkConfig(profile, flags)),
    pppd,
    oneShot,
    stateDir: flags.stateDir,
    lockDir: flags.lockDir,
    runDir: flags.runDir,
    graceMs: flags.grace,
    backoff: { initialMs: flags.backoffInitial, maxMs: flags.backoffMax },
    resetAfterMs: flags.resetAfter,
    tooFast: { starts: flags.tooFastStarts, windowMs: flags.tooFastWindow, pauseMs: flags.tooFastPause },
    orphan: flags.orphan,
    reload: async () => {
      // One edit is acted on once, however many ways it is announced (several inotify events, the
      // watch and a SIGHUP): only text not seen before is a change. A missing or empty file is a
      // save under way (install(1) unlinks first; a truncate comes before the write): its next
      // event brings the rest. One that is not a regular file, or too large, is rejected by name.
      const text = await profileText(profilePath);
      if (!text || text === seenText) return undefined;
      seenText = text;
      // Validate now (an invalid profile keeps the running link); regenerate when applied.
      await loadLinkProfile(profilePath);
      return async () => {
        const r = flags.generate ? await regenerateLink(profilePath, flags.root, write) : await loadLinkProfile(profilePath);
        if (r.profile.name !== name) throw new UsageError(`the link name changed (${name} → ${r.profile.name}); restart the supervisor for a new link`);
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

  // Reloads run one after another, so two looks at the file cannot overtake each other.
  let reloads = Promise.resolve();
  const reload = (): void => {
    reloads = reloads.then(() => sup.requestReload());
  };
  // An editor's save is several events (truncate then write, or unlink, create, write, chmod):
  // act once they stopped.
  const watch = watchFile(loaded.path, reload, { settleMs: PROFILE_SETTLE_MS });
  const onHup = reload;
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
    if (final.state === 'failed') return oneShot && final.lastExit ? final.lastExit.code : EXIT.CONFIG;
    if (final.state === 'done') return final.lastExit && final.lastExit.code > 0 ? final.lastExit.code : EXIT.OK;
    return EXIT.OK;
  } finally {
    sd.stopping();
    sd.close();
    await watch.close();
    await reloads;
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
    .option('--grace <ms>', 'SIGTERM → SIGKILL grace period for pppd', wholeNumber(), DEFAULT_GRACE_MS)
    .option('--backoff-initial <ms>', 'first retry delay', wholeNumber(), DEFAULT_BACKOFF.initialMs)
    .option('--backoff-max <ms>', 'longest retry delay', wholeNumber(), DEFAULT_BACKOFF.maxMs)
    .option('--reset-after <ms>', 'a link up this long resets the backoff', wholeNumber(), DEFAULT_RESET_AFTER_MS)
    .option('--too-fast-starts <n>', 'this many starts …', wholeNumber(1), DEFAULT_TOO_FAST.starts)
    .option('--too-fast-window <ms>', '… within this window pause the link', wholeNumber(), DEFAULT_TOO_FAST.windowMs)
    .option('--too-fast-pause <ms>', 'how long to pause', wholeNumber(), DEFAULT_TOO_FAST.pauseMs)
    .option('--orphan <mode>', 'a pppd left by a killed supervisor: adopt | end', 'adopt');
}
