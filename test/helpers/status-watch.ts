/** Runs `laplink status --watch` as a real process: on a real pseudo-terminal (pty-run.py) or on pipes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { laplinkBin } from './supervisor-harness.js';

export const ptyRun = fileURLToPath(new URL('./pty-run.py', import.meta.url));

export interface WatchProcess {
  proc: ChildProcess;
  /** The watcher's own pid (under a pty, the command's, not python's). */
  pid: Promise<number>;
  output(): string;
  /** Resolves with the offset just past the first match at or after `from`; rejects with the output
   *  so far if the process ends first or the deadline passes (a clear failure, not a timing check). */
  waitFor(pattern: RegExp | string, from?: number): Promise<number>;
  /** Exit status. */
  exit: Promise<number | null>;
  type(text: string): void;
}

export interface WatchStart {
  /** Run under a pty of this size (columns x rows); pipes otherwise. */
  tty?: { cols: number; rows: number };
  env?: NodeJS.ProcessEnv;
  /** A shell command line instead of the laplink argv (for `...; stty -a` after it). */
  shell?: string;
}

const DEADLINE_MS = 20_000;

export function startWatch(args: string[], start: WatchStart = {}): WatchProcess {
  const env = { ...process.env, ...start.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const command = start.shell ? ['sh', '-c', start.shell] : [process.execPath, laplinkBin, 'status', '--watch', ...args];
  const proc = start.tty ? spawn('python3', [ptyRun, String(start.tty.cols), String(start.tty.rows), ...command], { env, stdio: 'pipe' }) : spawn(command[0]!, command.slice(1), { env, stdio: 'pipe' });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString('latin1');
    for (const w of [...waiters]) w();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    for (const w of [...waiters]) w();
  });
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let ended = false;
  void exit.then(() => {
    ended = true;
    for (const w of [...waiters]) w();
  });
  const pid = start.tty
    ? new Promise<number>((resolve, reject) => {
        const check = () => {
          const m = /^pid (\d+)$/m.exec(err);
          if (m) return resolve(Number(m[1]));
          if (ended) reject(new Error(`pty-run.py ended without a pid: ${err}`));
        };
        proc.stderr!.on('data', check);
        void exit.then(check);
      })
    : Promise.resolve(proc.pid!);
  const waitFor = (pattern: RegExp | string, from = 0) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no ${String(pattern)} within ${DEADLINE_MS} ms; output: ${JSON.stringify(out.slice(from))}; stderr: ${err}`)), DEADLINE_MS);
      const check = () => {
        const rest = out.slice(from);
        const m = typeof pattern === 'string' ? (rest.includes(pattern) ? { index: rest.indexOf(pattern), 0: pattern } : null) : pattern.exec(rest);
        if (m) return done(undefined, from + m.index + m[0].length);
        if (ended) done(new Error(`exited before ${String(pattern)}; output: ${JSON.stringify(out.slice(from))}; stderr: ${err}`));
      };
      function done(e: Error | undefined, at?: number) {
        clearTimeout(timer);
        waiters.delete(check);
        if (e) reject(e);
        else resolve(at!);
      }
      waiters.add(check);
      check();
    });
  return { proc, pid, output: () => out, waitFor, exit, type: (t) => proc.stdin!.write(t) };
}

/** Ends a watch a test left running (it failed before stopping it): SIGKILL, then its exit. */
export async function killWatch(w: WatchProcess | undefined): Promise<void> {
  if (!w || w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  w.proc.kill('SIGKILL');
  await w.exit;
}
