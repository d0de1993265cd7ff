import { execFileSync } from 'node:child_process';
import { realpathSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openSerialLine } from '../../src/line/serial.js';
import type { Line } from '../../src/line/line.js';
import { startPtyPair, type PtyPair } from '../helpers/ptypair.js';

/** What `stty -a` says of the real device (speed and the flags we set). */
function sttyOf(device: string): string {
  return execFileSync('stty', ['-F', device, '-a'], { encoding: 'utf8' });
}

describe('a serial line applies new settings to the device it holds', () => {
  let pair: PtyPair | undefined;
  let line: Line | undefined;
  afterEach(async () => {
    await line?.close();
    await pair?.close();
    line = pair = undefined;
  });

  it('even after the name it was opened by is gone (a udev rename, a removed link)', async () => {
    pair = await startPtyPair();
    line = await openSerialLine({ path: pair.a });
    const device = realpathSync(pair.a); // /dev/pts/N, which stays
    rmSync(pair.a); // the name the line was opened by goes (socat's link=)
    await line.apply({ speed: 9600, flow: 'rtscts', hupcl: true });
    const shown = sttyOf(device);
    // the device and what the line reports agree: stty by name failed here, after the speed had
    // already been set, and left the line saying 115200 over a device running at 9600
    expect(shown).toMatch(/speed 9600 baud/);
    expect(shown).toMatch(/(^|\s)crtscts(\s|$)/);
    expect(shown).toMatch(/(^|\s)hupcl(\s|$)/);
    expect(line.settings).toMatchObject({ speed: 9600, flow: 'rtscts', hupcl: true });
  });
});
