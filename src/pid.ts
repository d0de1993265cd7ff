/**
 * Whether a process exists (signal 0); EPERM means it exists but belongs to someone else. Lock files
 * (UUCP, generate's own) and state files all decide "stale or held" with this one rule.
 */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
