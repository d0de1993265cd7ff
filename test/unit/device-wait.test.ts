import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitForPath } from '../../src/pppd/wait.js';
import { cpuLoad } from '../helpers/cpu-load.js';

// The supervisor's wait for a device node (state waiting-for-device). A real USB adapter's node
// comes from udev: a symlink in /dev/serial/by-id made by rename (a temporary name, then rename(2)),
// and the directory itself is removed with the last adapter and made again with the next. The same
// moves here, in a temporary directory, with two CPU-bound processes beside.

let dir = '';
let load: { stop(): Promise<void> } | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-wait-'));
  load = cpuLoad(2);
});
afterEach(async () => {
  await load?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Resolves with 'noticed' when waitForPath ended; rejects with a clear message after 15 s (a guard
 *  against hanging, not a measure: the node was there long before). */
async function noticed(path: string, make: () => Promise<void>): Promise<string> {
  const stop = new AbortController();
  const waiting = waitForPath(path, stop.signal).then(() => 'noticed');
  // let the watch settle on the directory as it is now, as a supervisor's does
  await new Promise((r) => setTimeout(r, 300));
  await make();
  const guard = new Promise<string>((resolve) => setTimeout(() => resolve('still waiting for the device 15 s after it appeared'), 15_000).unref());
  const r = await Promise.race([waiting, guard]);
  stop.abort();
  await waiting;
  return r;
}

const renameInto = async (d: string, name: string): Promise<void> => {
  await writeFile(join(d, `.${name}.tmp`), '');
  await rename(join(d, `.${name}.tmp`), join(d, name));
};

describe('waitForPath', () => {
  it('notices a device that appears by rename in its directory', async () => {
    const byId = join(dir, 'by-id');
    await mkdir(byId);
    expect(await noticed(join(byId, 'usb-adapter'), () => renameInto(byId, 'usb-adapter'))).toBe('noticed');
  });

  it('notices it in a directory removed and made again while waiting (the last adapter unplugged)', async () => {
    const byId = join(dir, 'by-id');
    await mkdir(byId);
    expect(
      await noticed(join(byId, 'usb-adapter'), async () => {
        await rm(byId, { recursive: true });
        await mkdir(byId);
        await renameInto(byId, 'usb-adapter');
      }),
    ).toBe('noticed');
  });

  it('notices it in a directory replaced by rename', async () => {
    const byId = join(dir, 'by-id');
    await mkdir(byId);
    expect(
      await noticed(join(byId, 'usb-adapter'), async () => {
        const next = join(dir, 'by-id.new');
        await mkdir(next);
        await writeFile(join(next, 'usb-adapter'), '');
        await rm(byId, { recursive: true });
        await rename(next, byId);
      }),
    ).toBe('noticed');
  });

  it('notices it when neither the directory nor its parent existed yet', async () => {
    const byId = join(dir, 'serial', 'by-id');
    expect(
      await noticed(join(byId, 'usb-adapter'), async () => {
        await mkdir(byId, { recursive: true });
        await renameInto(byId, 'usb-adapter');
      }),
    ).toBe('noticed');
  });

  it('ends when the signal aborts, the device still missing', async () => {
    const stop = new AbortController();
    const waiting = waitForPath(join(dir, 'none', 'ttyUSB0'), stop.signal);
    stop.abort();
    await expect(waiting).resolves.toBeUndefined();
  });
});
