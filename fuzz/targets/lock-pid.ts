import fc from 'fast-check';
import { parseLockPid } from '../../src/line/uucp-lock.js';
import type { FuzzTarget } from '../target.js';

/** UUCP lock files as pppd, minicom, uucp (ASCII, 10 wide) and old binary writers leave them, and junk. */
const content = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => ({ buf: Buffer.from(b), pid: undefined as number | undefined })),
  fc.integer({ min: 1, max: 2 ** 22 }).map((pid) => ({ buf: Buffer.from(`${String(pid).padStart(10)}\n`), pid })),
  fc.integer({ min: 1, max: 2 ** 31 - 1 }).map((pid) => {
    const buf = Buffer.alloc(4);
    buf.writeInt32LE(pid);
    // a binary pid whose bytes read as ASCII digits first would be parsed as text: keep only clean ones
    return { buf, pid: /^\s*[-+]?\d/.test(buf.toString('latin1')) ? undefined : pid };
  }),
);

export const target: FuzzTarget = {
  name: 'lock-pid',
  description: 'lock-file bytes → parseLockPid: never throws; a positive whole pid or undefined; ASCII and binary pids read back',
  property: () =>
    fc.property(content, ({ buf, pid }) => {
      const got = parseLockPid(buf);
      if (got !== undefined && !(Number.isSafeInteger(got) && got > 0)) throw new Error(`not a pid: ${got}`);
      if (pid !== undefined && got !== pid) throw new Error(`wrote ${pid}, read ${got}`);
    }),
};
