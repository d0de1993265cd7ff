import { errnoText } from '../socket-reason.js';
import { EventEmitter, on } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { LaplinkError } from '../errors.js';
import { backoffDelay, StartHistory, type BackoffOptions, type TooFastOptions } from './backoff.js';
import { DEFAULT_ADOPT_POLL_MS, DEFAULT_BACKOFF, DEFAULT_GRACE_MS, DEFAULT_LOCK_DIR, DEFAULT_PPPD, DEFAULT_RESET_AFTER_MS, DEFAULT_RUN_DIR, DEFAULT_TOO_FAST } from './defaults.js';
import { actionFor, exitPolicy, type ExitAction } from './exit.js';
import { maskFields } from './mask.js';
import { maskSecrets, nextReason, parsePppdLine, type PppdEvent } from './log.js';
import { describeLockHolder, findOrphanPppd, readLockHolder, removeStaleLock } from './orphan.js';
import { applyEvent, clearedLinkFields, pidAlive, readStateFile, writeStateFile, type LinkState, type LinkStatus } from './state.js';
import { isEndState } from './end-states.js';
import { endPppd } from './terminate.js';
import { sleep } from '../runtime/sleep.js';
import { waitForPath } from './wait.js';

/** A second supervisor for the same link, or another condition that prevents supervising at all. */
export class SupervisorError extends LaplinkError {}

/** What pppd is started with; a profile reload may replace it between two runs. */
export interface LinkConfig {
  /** pppd argv without the program (see pppdArgs). */
  args: string[];
  /** Serial device to wait for before starting (absent for bridge/pty lines). */
  device?: string;
  /** The peers file has a `connect` script (Windows handshake): "handshaking" until it succeeds. */
  hasConnectScript?: boolean;
  /** Strings that must never reach the log (profile passwords). */
  secrets?: string[];
  /** The ends' addresses on the profile's IPv6 prefix, shown once IPV6CP is up. */
  ipv6Net?: { local: string; remote: string };
}

export interface SupervisorOptions extends LinkConfig {
  name: string;
  /** pppd binary (default DEFAULT_PPPD). */
  pppd?: string;
  /** Client without --persist: one call, then done. */
  oneShot?: boolean;
  stateDir: string;
  lockDir?: string;
  runDir?: string;
  backoff?: Partial<BackoffOptions>;
  /** A link up at least this long resets the backoff (ms). */
  resetAfterMs?: number;
  tooFast?: Partial<TooFastOptions>;
  /** SIGTERM → SIGKILL grace period (ms). */
  graceMs?: number;
  /** What to do with a pppd left by a killed supervisor. */
  orphan?: 'adopt' | 'end';
  /** Poll interval for an adopted pppd (not our child: no exit event). */
  adoptPollMs?: number;
  env?: Record<string, string>;
  random?: () => number;
  /** Re-validate the profile; throws if invalid. The returned function regenerates and gives the new
   *  config; undefined when the profile did not change since the last look (nothing to do, nothing logged). */
  reload?: () => Promise<(() => Promise<LinkConfig>) | undefined>;
}

export interface SupervisorEvents {
  state: [LinkStatus];
  log: [string];
  pppd: [PppdEvent];
  spawn: [{ pid: number; at: number }];
  exit: [{ code: number; action: ExitAction; at: number }];
}

type PppdChild = ResultPromise<{ buffer: false; reject: false; detached: true; stdin: 'ignore' }>;

const idleStates: readonly LinkState[] = ['waiting-for-device', 'backoff', 'paused', 'down', 'stopped'];

/**
 * Runs pppd for one link and keeps it running according to the exit-status policy (exit.ts),
 * publishing the link state (events + atomic state file). One instance per link.
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly status: LinkStatus;
  private config: LinkConfig;
  private readonly o: SupervisorOptions;
  private readonly pppd: string;
  private readonly lockDir: string;
  private readonly graceMs: number;
  private readonly backoff: BackoffOptions;
  private readonly history: StartHistory;
  private readonly tooFastOpts: TooFastOptions;
  private child?: PppdChild;
  private stopping = false;
  /** Aborted by stop() and by a reload to apply at once: cuts any wait short. Renewed after a reload. */
  private wake = new AbortController();
  private pendingApply?: () => Promise<LinkConfig>;
  private writes: Promise<void> = Promise.resolve();
  private attempt = 0;
  private lastReason?: string;
  private weSignalled = false;
  private running?: Promise<LinkStatus>;

  constructor(options: SupervisorOptions) {
    super();
    this.o = options;
    this.pppd = options.pppd ?? DEFAULT_PPPD;
    this.lockDir = options.lockDir ?? DEFAULT_LOCK_DIR;
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.config = { args: options.args, device: options.device, hasConnectScript: options.hasConnectScript, secrets: options.secrets, ipv6Net: options.ipv6Net };
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.tooFastOpts = { ...DEFAULT_TOO_FAST, ...options.tooFast };
    this.history = new StartHistory(this.tooFastOpts);
    this.status = { name: options.name, state: 'stopped', since: new Date().toISOString(), supervisorPid: process.pid, restarts: 0 };
  }

  /** Events as an async iterator (state changes), ending when `signal` aborts. */
  states(signal?: AbortSignal): AsyncIterableIterator<[LinkStatus]> {
    return on(this, 'state', { signal }) as AsyncIterableIterator<[LinkStatus]>;
  }

  private log(msg: string): void {
    this.emit('log', this.redact(msg));
  }

  private redact(text: string): string {
    return maskSecrets(text, this.config.secrets ?? []);
  }

  /** Changes state (or just fields) and writes the state file; writes are serialized. */
  private set(state: LinkState | undefined, fields: Partial<LinkStatus> = {}): void {
    const s = this.status;
    if (state && state !== s.state) {
      s.state = state;
      s.since = new Date().toISOString();
    }
    Object.assign(s, fields);
    for (const k of Object.keys(fields) as Array<keyof LinkStatus>) if (fields[k] === undefined) delete s[k];
    // pppd's words (peer user, reasons, remote messages) reach the 0644 state file: mask them there too.
    maskFields(s as unknown as Record<string, unknown>, this.config.secrets ?? []);
    const snapshot = structuredClone(s);
    this.writes = this.writes.then(() => writeStateFile(this.o.stateDir, snapshot)).catch((err: unknown) => this.log(`cannot write state file: ${(err as Error).message}`));
    this.emit('state', snapshot);
  }

  /** Waits until every state file write has reached the disk. */
  flush(): Promise<void> {
    return this.writes;
  }

  /** Runs until stopped, a not-retried exit status, or a one-shot call's end. Resolves with the final status. */
  run(): Promise<LinkStatus> {
    this.running ??= this.loop();
    return this.running;
  }

  /** The README's state diagram: waiting-for-device → (paused) → starting … up → down → backoff. */
  private async loop(): Promise<LinkStatus> {
    await this.takeOverOrphan();
    while (!this.stopping) {
      if (this.pendingApply) await this.applyReload();
      if (await this.waitedForDevice()) continue;
      if (await this.pausedForStartingTooFast()) continue;
      this.history.record(Date.now());
      const code = await this.runOnce(); // starting → handshaking → negotiating → up → down
      if (this.stopping) break;
      const action = this.decide(code);
      this.emit('exit', { code, action, at: performance.timeOrigin + performance.now() });
      if (action === 'stop' || action === 'done') {
        this.end(action, code);
        break;
      }
      this.status.restarts++;
      if (action === 'backoff') await this.backOff(code);
    }
    if (this.stopping) this.set('stopped', { ...clearedLinkFields(), nextRetry: undefined, message: 'stopped' });
    await this.flush();
    return structuredClone(this.status);
  }

  /** waiting-for-device: true when the device was missing (and the loop should look again). */
  private async waitedForDevice(): Promise<boolean> {
    const device = this.config.device;
    if (!device || existsSync(device)) return false;
    const message = `waiting for ${device} to appear`;
    this.set('waiting-for-device', { ...clearedLinkFields(), device, message });
    this.log(message);
    await waitForPath(device, this.wake.signal);
    this.renewWake();
    return true;
  }

  /** paused: init's "respawning too fast" guard. True when it paused. */
  private async pausedForStartingTooFast(): Promise<boolean> {
    const now = Date.now();
    if (!this.history.tooFast(now)) return false;
    const t = this.tooFastOpts;
    const until = new Date(now + t.pauseMs);
    const message = `pppd respawning too fast (${t.starts} starts in ${Math.round(t.windowMs / 1000)} s): paused until ${until.toISOString()}`;
    this.log(message);
    this.set('paused', { message, nextRetry: until.toISOString() });
    await this.pause(t.pauseMs);
    this.history.clear();
    return true;
  }

  /** backoff: wait a growing delay, or for the device when exit 7 said it is gone. */
  private async backOff(code: number): Promise<void> {
    const device = this.config.device;
    if (code === 7 && device && !existsSync(device)) return; // waitedForDevice() waits for it instead of polling
    const delay = backoffDelay(this.attempt++, this.backoff, this.o.random);
    this.log(`retrying in ${(delay / 1000).toFixed(1)} s`);
    this.set('backoff', { nextRetry: new Date(Date.now() + delay).toISOString(), message: `retry ${this.attempt} in ${(delay / 1000).toFixed(1)} s` });
    await this.pause(delay);
  }

  /** failed (retrying cannot help) or done (a one-shot call ended). */
  private end(action: 'stop' | 'done', code: number): void {
    const p = exitPolicy(code);
    const message = action === 'stop' ? `pppd exited ${code} (${p.meaning}): ${this.status.lastExit?.reason ?? p.remedy ?? ''} — not restarting` : `call ended: pppd exited ${code} (${p.meaning})`;
    this.log(message);
    this.set(action === 'done' ? 'done' : 'failed', { ...clearedLinkFields(), message });
  }

  private decide(code: number): ExitAction {
    // Exit 5 after a SIGTERM someone else sent (an admin's kill): respawn like inittab would.
    if (code === 5 && this.weSignalled) return 'done';
    return actionFor(code, this.o.oneShot ?? false);
  }

  /** After a wait cut short by a reload (not by stop), the next wait needs a fresh signal. */
  private renewWake(): void {
    if (this.wake.signal.aborted && !this.stopping) this.wake = new AbortController();
  }

  /** Sleeps `ms` unless woken by stop() or a reload applied at once. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, this.wake.signal);
    this.renewWake();
  }

  /** Starts pppd once and resolves with its exit status. */
  private async runOnce(): Promise<number> {
    const c = this.config;
    this.weSignalled = false;
    this.lastReason = undefined;
    this.set(c.hasConnectScript ? 'handshaking' : 'starting', { ...clearedLinkFields(), nextRetry: undefined, message: undefined, device: c.device });
    const child: PppdChild = execa(this.pppd, c.args, {
      buffer: false,
      reject: false,
      detached: true, // own process group: a SIGKILL reaches the connect script too
      stdin: 'ignore',
      env: this.o.env,
      cleanup: true,
    });
    this.child = child;
    const pid = child.pid;
    this.emit('spawn', { pid: pid ?? -1, at: performance.timeOrigin + performance.now() });
    this.set(undefined, { pppdPid: pid });
    // No pid: the spawn failed (the exit below says why); never "started pppd (pid undefined)".
    if (pid !== undefined) this.log(`started pppd (pid ${pid}): ${this.pppd} ${c.args.join(' ')}`);
    const readers = [child.stdout, child.stderr].map((stream) => this.readLines(stream));
    const result = await child;
    await Promise.all(readers);
    this.child = undefined;
    if (pid === undefined) this.lastReason = `cannot run ${this.pppd}: ${(result as { code?: string }).code ? errnoText(result) : (result.shortMessage ?? 'spawn failed')}`;
    const code = typeof result.exitCode === 'number' ? result.exitCode : result.signal === 'SIGTERM' ? 5 : 1;
    await this.recordExit(code, result.signal ?? undefined);
    return code;
  }

  private readLines(stream: Readable | null): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!stream) return resolve();
      const rl = createInterface({ input: stream, crlfDelay: Infinity });
      rl.on('line', (line) => this.onLine(line));
      rl.on('close', resolve);
    });
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    this.log(`pppd: ${line}`);
    const e = parsePppdLine(line);
    this.emit('pppd', e);
    const before = this.status.state;
    const next = applyEvent(this.status, e, this.config.hasConnectScript ?? false);
    this.lastReason = nextReason(e, this.lastReason);
    if (e.type === 'remote-message') this.status.message = `remote message: ${e.text}`;
    if (e.type === 'remote-ip6' && this.config.ipv6Net) Object.assign(this.status, { localIp6Net: this.config.ipv6Net.local, remoteIp6Net: this.config.ipv6Net.remote });
    if (next === 'up' && before !== 'up') {
      this.set('up', { upSince: new Date().toISOString(), message: undefined });
      this.log(`link up: ${this.status.iface ?? '?'} ${this.status.localIp} <--> ${this.status.remoteIp}${this.status.peerUser ? ` user ${this.status.peerUser}` : ''}`);
    } else if (next && next !== before && before !== 'up') {
      this.set(next);
    } else if (e.type !== 'other') {
      this.set(undefined);
    }
  }

  /** down: the exit status, and why in a person's words. */
  private async recordExit(code: number, signal?: string): Promise<void> {
    const p = exitPolicy(code);
    const device = this.config.device;
    let reason = this.lastReason;
    if (code === 6 && device) reason = describeLockHolder(await readLockHolder(this.lockDir, device), device);
    if (code === 17) reason = 'the line echoes back what this end sends (loopback): check the cable and the other end';
    if (code === 7 && device && !existsSync(device)) reason = `${device} does not exist`;
    reason ??= p.remedy ?? p.meaning;
    const upFor = this.status.upSince ? Date.now() - Date.parse(this.status.upSince) : 0;
    if (upFor >= (this.o.resetAfterMs ?? DEFAULT_RESET_AFTER_MS)) this.attempt = 0;
    this.log(`pppd exited ${code}${signal ? ` (${signal})` : ''}: ${p.meaning}${reason !== p.meaning ? ` — ${reason}` : ''}`);
    this.set('down', { ...clearedLinkFields(), lastExit: { code, meaning: p.meaning, reason, at: new Date().toISOString() } });
  }

  /** A pppd of this link still running from a supervisor killed -9: adopt it (watch until it
   *  exits) or end it, so there are never two pppds on one line. */
  private async takeOverOrphan(): Promise<void> {
    // a state file that is not one (a FIFO, too large, of the wrong shape) is said, then replaced
    const previous = await readStateFile(this.o.stateDir, this.o.name).catch((err: unknown) => {
      this.log(`previous state file ignored: ${(err as Error).message}`);
      return undefined;
    });
    if (previous && previous.supervisorPid !== process.pid && pidAlive(previous.supervisorPid) && !isEndState(previous.state)) {
      throw new SupervisorError(`link ${this.o.name} is already supervised by pid ${previous.supervisorPid} (laplink stop ${this.o.name})`);
    }
    if (previous) this.status.restarts = previous.restarts ?? 0;
    const pid = await findOrphanPppd({ name: this.o.name, previous, runDir: this.o.runDir ?? DEFAULT_RUN_DIR, lockDir: this.lockDir, device: this.config.device, warn: (line) => this.log(line) });
    if (!pid) return;
    if (this.o.orphan === 'end') {
      this.log(`ending pppd pid ${pid} left by a previous supervisor`);
      await this.endOrphan(pid);
      return;
    }
    this.log(`adopted pppd pid ${pid} left by a previous supervisor`);
    const keep = previous?.pppdPid === pid ? previous : undefined;
    this.set(keep?.state === 'up' ? 'up' : 'negotiating', {
      pppdPid: pid,
      adopted: true,
      iface: keep?.iface,
      localIp: keep?.localIp,
      remoteIp: keep?.remoteIp,
      peerUser: keep?.peerUser,
      authMethod: keep?.authMethod,
      compression: keep?.compression,
      upSince: keep?.upSince,
      device: keep?.device ?? this.config.device,
    });
    while (pidAlive(pid) && !this.stopping) await sleep(this.o.adoptPollMs ?? DEFAULT_ADOPT_POLL_MS, this.wake.signal);
    if (this.stopping) {
      await this.endOrphan(pid);
      return;
    }
    // Not our child: its exit status is unknowable; treat it like a hangup (respawn at once).
    this.set('down', { ...clearedLinkFields(), lastExit: { code: -1, meaning: 'adopted pppd ended (status unknown)', at: new Date().toISOString() } });
    this.status.restarts++;
  }

  private async endOrphan(pid: number): Promise<void> {
    await endPppd(pid, { graceMs: this.graceMs, onKill: (p, ms) => this.log(`pppd pid ${p} ignored SIGTERM for ${ms} ms: SIGKILL`) });
  }

  /** SIGTERM to pppd, SIGKILL to its process group after the grace period; resolves when run() ends. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.wake.abort();
    const child = this.child;
    if (child?.pid) {
      this.weSignalled = true;
      const pid = child.pid;
      await endPppd(pid, { graceMs: this.graceMs, exited: child, onKill: (p, ms) => this.log(`pppd (pid ${p}) still running ${ms} ms after SIGTERM: SIGKILL`) });
      const device = this.config.device;
      const removed = device ? await removeStaleLock(this.lockDir, device, pid) : undefined;
      if (removed) this.log(`removed the stale lock ${removed} of pppd pid ${pid}`);
    }
    // Resolve only when the loop has ended and its last state is on disk.
    await this.running?.catch(() => undefined);
    await this.flush();
  }

  /** SIGHUP / profile change: re-validate now; apply at once when no pppd runs, else at link-down. */
  async requestReload(): Promise<void> {
    if (!this.o.reload) return;
    let apply: (() => Promise<LinkConfig>) | undefined;
    try {
      apply = await this.o.reload();
    } catch (err) {
      this.log(`profile change rejected, keeping the running link: ${(err as Error).message}`);
      return;
    }
    if (!apply) return;
    this.pendingApply = apply;
    if (idleStates.includes(this.status.state) && !this.child) {
      this.log('profile changed: applying now');
      this.attempt = 0;
      this.wake.abort();
    } else {
      this.log('profile changed: will apply at the next link-down');
    }
  }

  private async applyReload(): Promise<void> {
    const apply = this.pendingApply;
    this.pendingApply = undefined;
    if (!apply) return;
    try {
      this.config = await apply();
      this.log('profile applied');
    } catch (err) {
      this.log(`profile change could not be applied, keeping the previous files: ${(err as Error).message}`);
    }
  }
}
