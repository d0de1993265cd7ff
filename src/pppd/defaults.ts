import type { BackoffOptions, TooFastOptions } from './backoff.js';

/**
 * The supervisor's defaults, named once: the CLI's option defaults and the library's fallbacks
 * read the same values, so `laplink serve --help` and the Supervisor never disagree.
 */

/** pppd as Debian installs it; `--pppd` or `$LAPLINK_PPPD` replace it. */
export const DEFAULT_PPPD = '/usr/sbin/pppd';
/** Where pppd's `lock` and other UUCP programs put LCK..TTY files on Debian (FHS). */
export const DEFAULT_LOCK_DIR = '/var/lock';
/** Where pppd writes ppp-LINKNAME.pid (pppd's _PATH_VARRUN). */
export const DEFAULT_RUN_DIR = '/var/run';
/** Where the supervisors write NAME.json; tmpfs, so a reboot leaves no stale state behind. */
export const DEFAULT_STATE_DIR = '/run/laplink';
/** SIGTERM → SIGKILL: pppd needs about a second to send LCP TermReq and restore the tty. */
export const DEFAULT_GRACE_MS = 5000;
/** A link up this long is healthy: the next failure starts the backoff from its first step. */
export const DEFAULT_RESET_AFTER_MS = 60_000;
/** An adopted pppd is not our child (no exit event): how often to look whether it still runs. */
export const DEFAULT_ADOPT_POLL_MS = 500;
/** Retry delays: doubling from 1 s to 60 s, ±20 % so two ends (or many links) do not retry in lockstep. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000, factor: 2, jitter: 0.2 };
/** init's guard: this many starts within the window pause the link. */
export const DEFAULT_TOO_FAST: TooFastOptions = { starts: 10, windowMs: 120_000, pauseMs: 300_000 };
