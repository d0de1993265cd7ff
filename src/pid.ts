import { existsSync, readFileSync } from 'node:fs';

/**
 * The one liveness test for every pid this tool judges (UUCP lock holders, generate's lock, state
 * files' supervisors, an orphaned pppd): the process exists (signal 0; EPERM means it exists but
 * belongs to someone else) and is not a zombie. A zombie (a supervisor killed with -9 whose parent
 * has not reaped it yet) still answers signal 0, but it runs nothing and holds nothing.
 */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0 || !Number.isSafeInteger(pid)) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** /proc/PID/stat's state letter is Z (zombie) or X (dead). The command name in parentheses may hold
 *  spaces and ')' itself, so the state is the field after the last ')'. */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    // gone between the signal and the read; without /proc at all, signal 0 is all there is
    return existsSync('/proc/self/stat');
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}
