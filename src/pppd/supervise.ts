import { EventEmitter, on } from 'node:events';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { watch } from 'chokidar';
import { LaplinkError } from '../errors.js';
import { execa, type ResultPromise } from 'execa';
import { backoffDelay, defaultBackoff, defaultTooFast, StartHistory, type BackoffOptions, type TooFastOptions } from './backoff.js';
import { actionFor, exitPolicy, type ExitAction } from './exit.js';
import { parsePppdLine, type PppdEvent } from './log.js';
import { describeLockHolder, findOrphanPppd, readLockHolder } from './orphan.js';
import { applyEvent, pidAlive, readStateFile, writeStateFile, type LinkState, type LinkStatus } from './state.js';

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
}

export interface SupervisorOptions extends LinkConfig {
  name: string;
  /** pppd binary (default /usr/sbin/pppd). */
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
  /** Re-validate the profile; throws if invalid. The returned function regenerates and gives the new config. */
  reload?: () => Promise<() => Promise<LinkConfig>>;
}

export interface SupervisorEvents {
  state: [LinkStatus];
  log: [string];
  pppd: [PppdEvent];
  spawn: [{ pid: number; at: number }];
  exit: [{ code: number; action: ExitAction; at: number }];
}

/** Sleep on the real or fake global setTimeout, cut short by `wake`. */
function sleep(ms: number, wake: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (wake.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      wake.removeEventListener('abort', done);
      resolve();
    }
    wake.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs pppd for one link and keeps it running according to the exit-status policy (exit.ts),
 * publishing the link state (events + atomic state file). One instance per link.
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly status: LinkStatus;
  private config: LinkConfig;
  private readonly o: SupervisorOptions;
  private readonly backoff: BackoffOptions;
  private readonly history: StartHistory;
  private readonly tooFastOpts: TooFastOptions;
  private child?: ResultPromise<{ buffer: false; reject: false; detached: true; stdin: 'ignore' }>;
  private stopping = false;
  private stopRequested = new AbortController();
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
    this.config = { args: options.args, device: options.device, hasConnectScript: options.hasConnectScript, secrets: options.secrets };
    this.backoff = { ...defaultBackoff, ...options.backoff };
    this.tooFastOpts = { ...defaultTooFast, ...options.tooFast };
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
    let out = text;
    for (const s of this.config.secrets ?? []) if (s) out = out.split(s).join('********');
    return out;
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

  private async loop(): Promise<LinkStatus> {
    await this.takeOverOrphan();
    while (!this.stopping) {
      if (this.pendingApply) await this.applyReload();
      const device = this.config.device;
      if (device && !existsSync(device)) {
        this.set('waiting-for-device', { device, message: `waiting for ${device} to appear`, pppdPid: undefined });
        this.log(`waiting for ${device} to appear`);
        await this.waitForPath(device);
        continue;
      }
      const now = Date.now();
      if (this.history.tooFast(now)) {
        const until = new Date(now + this.tooFastOpts.pauseMs);
        const msg = `pppd respawning too fast (${this.tooFastOpts.starts} starts in ${Math.round(this.tooFastOpts.windowMs / 1000)} s): paused until ${until.toISOString()}`;
        this.log(msg);
        this.set('paused', { message: msg, nextRetry: until.toISOString() });
        await this.pause(this.tooFastOpts.pauseMs);
        this.history.clear();
        continue;
      }
      this.history.record(now);
      const code = await this.runOnce();
      if (this.stopping) break;
      const action = this.decide(code);
      this.emit('exit', { code, action, at: performance.timeOrigin + performance.now() });
      if (action === 'stop' || action === 'done') {
        const p = exitPolicy(code);
        const state: LinkState = action === 'done' ? 'done' : 'failed';
        const message = action === 'stop' ? `pppd exited ${code} (${p.meaning}): ${this.status.lastExit?.reason ?? p.remedy ?? ''} — not restarting` : `call ended: pppd exited ${code} (${p.meaning})`;
        this.log(message);
        this.set(state, { message, pppdPid: undefined });
        break;
      }
      this.status.restarts++;
      if (action === 'backoff') {
        if (code === 7 && device && !existsSync(device)) continue; // wait for the device instead of polling
        const delay = backoffDelay(this.attempt++, this.backoff, this.o.random);
        const at = new Date(Date.now() + delay).toISOString();
        this.log(`retrying in ${(delay / 1000).toFixed(1)} s`);
        this.set('backoff', { nextRetry: at, message: `retry ${this.attempt} in ${(delay / 1000).toFixed(1)} s` });
        await this.pause(delay);
      }
    }
    if (this.stopping) this.set('stopped', { pppdPid: undefined, nextRetry: undefined, message: 'stopped', adopted: undefined, iface: undefined, localIp: undefined, remoteIp: undefined, peerUser: undefined, authMethod: undefined, compression: undefined, upSince: undefined });
    await this.flush();
    return structuredClone(this.status);
  }

  private decide(code: number): ExitAction {
    // Exit 5 after a SIGTERM someone else sent (an admin's kill): respawn like inittab would.
    if (code === 5 && this.weSignalled) return 'done';
    return actionFor(code, this.o.oneShot ?? false);
  }

  /** Sleeps `ms` unless woken by stop() or a reload applied at once. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, this.wake.signal);
    if (this.wake.signal.aborted && !this.stopping) this.wake = new AbortController();
  }

  private async waitForPath(path: string): Promise<void> {
    const dir = dirname(path);
    const name = basename(path);
    // A directory that does not exist yet (/dev/serial/by-id before the first USB adapter) cannot be
    // watched: look again in a second; the caller's loop re-checks.
    if (!existsSync(dir)) return this.pause(1000);
    return new Promise((resolve) => {
      const watcher = watch(dir, { depth: 0, ignoreInitial: true, followSymlinks: false });
      const check = () => {
        if (existsSync(path) || this.stopping || this.wake.signal.aborted) finish();
      };
      const finish = () => {
        this.wake.signal.removeEventListener('abort', finish);
        void watcher.close();
        if (this.wake.signal.aborted && !this.stopping) this.wake = new AbortController();
        resolve();
      };
      watcher.on('all', (_e, p) => {
        if (basename(p) === name) check();
      });
      watcher.on('ready', check);
      this.wake.signal.addEventListener('abort', finish, { once: true });
    });
  }

  /** Starts pppd once and resolves with its exit status. */
  private async runOnce(): Promise<number> {
    const c = this.config;
    this.weSignalled = false;
    this.lastReason = undefined;
    const startState: LinkState = c.hasConnectScript ? 'handshaking' : 'starting';
    this.set(startState, { iface: undefined, localIp: undefined, remoteIp: undefined, peerUser: undefined, authMethod: undefined, compression: undefined, upSince: undefined, nextRetry: undefined, message: undefined, adopted: undefined, device: c.device });
    const child = execa(this.o.pppd ?? '/usr/sbin/pppd', c.args, {
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
    this.log(`started pppd (pid ${pid}): ${this.o.pppd ?? '/usr/sbin/pppd'} ${c.args.join(' ')}`);
    const readers = [child.stdout, child.stderr].map(
      (stream) =>
        new Promise<void>((resolve) => {
          if (!stream) return resolve();
          const rl = createInterface({ input: stream, crlfDelay: Infinity });
          rl.on('line', (line) => this.onLine(line));
          rl.on('close', resolve);
        }),
    );
    const result = await child;
    await Promise.all(readers);
    this.child = undefined;
    if (pid === undefined) this.lastReason = `cannot run ${this.o.pppd ?? '/usr/sbin/pppd'}: ${(result as { code?: string }).code ?? result.shortMessage ?? 'spawn failed'}`;
    const code = typeof result.exitCode === 'number' ? result.exitCode : result.signal === 'SIGTERM' ? 5 : 1;
    await this.recordExit(code, result.signal ?? undefined);
    return code;
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    this.log(`pppd: ${line}`);
    const e = parsePppdLine(line);
    this.emit('pppd', e);
    const before = this.status.state;
    const next = applyEvent(this.status, e, this.config.hasConnectScript ?? false);
    switch (e.type) {
      case 'terminated-by-peer':
        this.lastReason = `${e.protocol} terminated by peer${e.reason ? ` (${e.reason})` : ''}`;
        break;
      case 'modem-hangup':
        this.lastReason ??= 'modem hangup';
        break;
      case 'link-disconnected':
        this.lastReason = 'serial link appears to be disconnected (no LCP echo replies)';
        break;
      case 'peer-auth-failed':
        this.lastReason = `peer ${e.user} failed authentication`;
        break;
      case 'auth-failed':
        this.lastReason = 'the peer refused our authentication';
        break;
      case 'device-locked':
        this.lastReason = `${e.device} is locked by pid ${e.pid}`;
        break;
      case 'open-failed':
        this.lastReason = `cannot open ${e.device}: ${e.error}`;
        break;
      case 'loopback':
        this.lastReason = 'the serial line is looped back: what we send echoes back';
        break;
      case 'connect-script-failed':
        this.lastReason = 'connect script (handshake) failed';
        break;
      case 'remote-message':
        this.status.message = `remote message: ${e.text}`;
        break;
      default:
    }
    if (next === 'up' && before !== 'up') {
      this.set('up', { upSince: new Date().toISOString(), message: undefined });
      this.log(`link up: ${this.status.iface ?? '?'} ${this.status.localIp} <--> ${this.status.remoteIp}${this.status.peerUser ? ` user ${this.status.peerUser}` : ''}`);
    } else if (next && next !== before && before !== 'up') {
      this.set(next);
    } else if (e.type !== 'other') {
      this.set(undefined);
    }
  }

  private async recordExit(code: number, signal?: string): Promise<void> {
    const p = exitPolicy(code);
    let reason = this.lastReason;
    if (code === 6 && this.config.device) {
      const holder = await readLockHolder(this.o.lockDir ?? '/var/lock', this.config.device);
      reason = describeLockHolder(holder, this.config.device);
    }
    if (code === 17) reason = 'the line echoes back what this end sends (loopback): check the cable and the other end';
    if (code === 7 && this.config.device && !existsSync(this.config.device)) reason = `${this.config.device} does not exist`;
    reason ??= p.remedy ?? p.meaning;
    const upFor = this.status.upSince ? Date.now() - Date.parse(this.status.upSince) : 0;
    if (upFor >= (this.o.resetAfterMs ?? 60_000)) this.attempt = 0;
    this.log(`pppd exited ${code}${signal ? ` (${signal})` : ''}: ${p.meaning}${reason !== p.meaning ? ` — ${reason}` : ''}`);
    this.set('down', { pppdPid: undefined, upSince: undefined, iface: undefined, localIp: undefined, remoteIp: undefined, peerUser: undefined, authMethod: undefined, compression: undefined, lastExit: { code, meaning: p.meaning, reason, at: new Date().toISOString() } });
  }

  /** A pppd of this link still running from a supervisor killed -9: adopt it (watch until it
   *  exits) or end it, so there are never two pppds on one line. */
  private async takeOverOrphan(): Promise<void> {
    const previous = await readStateFile(this.o.stateDir, this.o.name).catch(() => undefined);
    if (previous && previous.supervisorPid !== process.pid && pidAlive(previous.supervisorPid) && !['stopped', 'done', 'failed'].includes(previous.state)) {
      throw new SupervisorError(`link ${this.o.name} is already supervised by pid ${previous.supervisorPid} (laplink stop ${this.o.name})`);
    }
    if (previous) this.status.restarts = previous.restarts ?? 0;
    const pid = await findOrphanPppd({ name: this.o.name, previous, runDir: this.o.runDir, lockDir: this.o.lockDir, device: this.config.device });
    if (!pid) return;
    if (this.o.orphan === 'end') {
      this.log(`ending pppd pid ${pid} left by a previous supervisor`);
      await this.terminatePid(pid);
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
    while (pidAlive(pid) && !this.stopping) await sleep(this.o.adoptPollMs ?? 500, this.wake.signal);
    if (this.stopping) {
      await this.terminatePid(pid);
      return;
    }
    // Not our child: its exit status is unknowable; treat it like a hangup (respawn at once).
    this.set('down', { pppdPid: undefined, adopted: undefined, upSince: undefined, lastExit: { code: -1, meaning: 'adopted pppd ended (status unknown)', at: new Date().toISOString() } });
    this.status.restarts++;
  }

  private async terminatePid(pid: number): Promise<void> {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + (this.o.graceMs ?? 5000);
    while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (pidAlive(pid)) {
      this.log(`pppd pid ${pid} ignored SIGTERM for ${this.o.graceMs ?? 5000} ms: SIGKILL`);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  }

  /** SIGTERM to pppd, SIGKILL to its process group after the grace period; resolves when run() ends. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopRequested.abort();
    this.wake.abort();
    const child = this.child;
    if (child?.pid) {
      this.weSignalled = true;
      const pid = child.pid;
      child.kill('SIGTERM');
      const grace = this.o.graceMs ?? 5000;
      const timer = setTimeout(() => {
        this.log(`pppd (pid ${pid}) still running ${grace} ms after SIGTERM: SIGKILL`);
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, grace);
      await child.catch(() => undefined);
      clearTimeout(timer);
      await this.releaseStaleLock(pid);
      // pppd's connect script, if pppd died before ending it, shares the group: end it too.
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* group already empty */
      }
    }
    // Resolve only when the loop has ended and its last state is on disk.
    await this.running?.catch(() => undefined);
    await this.flush();
  }

  /** A pppd killed with SIGKILL cannot remove its UUCP lock: remove it if it still names that pid. */
  private async releaseStaleLock(pid: number): Promise<void> {
    const device = this.config.device;
    if (!device) return;
    const h = await readLockHolder(this.o.lockDir ?? '/var/lock', device);
    if (h && h.pid === pid && !h.alive) {
      await rm(h.file, { force: true });
      this.log(`removed the stale lock ${h.file} of pppd pid ${pid}`);
    }
  }

  /** SIGHUP / profile change: re-validate now; apply at once when no pppd runs, else at link-down. */
  async requestReload(): Promise<void> {
    if (!this.o.reload) return;
    let apply: () => Promise<LinkConfig>;
    try {
      apply = await this.o.reload();
    } catch (err) {
      this.log(`profile change rejected, keeping the running link: ${(err as Error).message}`);
      return;
    }
    this.pendingApply = apply;
    const idle = ['waiting-for-device', 'backoff', 'paused', 'down', 'stopped'].includes(this.status.state) && !this.child;
    if (idle) {
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
