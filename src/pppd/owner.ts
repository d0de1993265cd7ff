import { readFileSync } from 'node:fs';

/** Who owns a process, in words for "run it as …" messages: `root`, or `uid N` (/proc/PID/status). */
export function processOwner(pid: number): string {
  try {
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (uid === undefined) return 'another user';
    return uid === '0' ? 'root' : `uid ${uid}`;
  } catch {
    return 'another user';
  }
}
