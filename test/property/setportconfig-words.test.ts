/**
 * setportconfig reads what showport's `device config` writes: over every combination of line
 * settings, the words showport prints for them, given back to setportconfig, give the same settings.
 * ser2net leaves an option that is off unsaid (no flow word, no CLOCAL, no HANGUP_WHEN_DONE), and
 * our setportconfig changes only what it is told, so an unsaid option keeps the port's value: on
 * the port showport described, that is the same value. ser2net 3's own words (`9600 EVEN 2STOPBITS
 * 7DATABITS -XONXOFF LOCAL`, its man page) still read, in any order and any case. Then the same on a
 * running hub's real control port (in-memory devices, which keep the settings they are given).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePortConfig } from '../../src/bridge/control.js';
import { deviceConfigText } from '../../src/bridge/device-config-words.js';
import { DATA_BITS, FLOWS, PARITIES, STOP_BITS, TERMIOS_SPEEDS } from '../../src/bridge/port-options.js';
import type { LineSettings } from '../../src/line/line.js';
import { ask, openControl } from '../helpers/bridge.js';
import { startMemoryHub } from '../helpers/memory-hub.js';

const settingsArb: fc.Arbitrary<LineSettings> = fc.record({
  speed: fc.constantFrom(...TERMIOS_SPEEDS),
  dataBits: fc.constantFrom(...DATA_BITS),
  parity: fc.constantFrom(...PARITIES),
  stopBits: fc.constantFrom(...STOP_BITS),
  flow: fc.constantFrom(...FLOWS),
  local: fc.boolean(),
  hupcl: fc.boolean(),
});

/** The value of each option that ser2net's device config leaves unsaid. */
const UNSAID: Partial<LineSettings> = { flow: 'none', local: false, hupcl: false };

/** ser2net 3's setportconfig words for settings, every option said (its man page's spelling). */
function ser2net3Words(s: LineSettings): string[] {
  const flow = s.flow === 'none' ? ['-RTSCTS', '-XONXOFF'] : [s.flow.toUpperCase()];
  return [String(s.speed), s.parity.toUpperCase(), `${s.dataBits}DATABITS`, s.stopBits === 1 ? '1STOPBIT' : '2STOPBITS', ...flow, s.local ? 'LOCAL' : '-LOCAL', s.hupcl ? 'HANGUP_WHEN_DONE' : '-HANGUP_WHEN_DONE'];
}

const showportWords = (s: LineSettings) => deviceConfigText(s).split(' ');

describe('setportconfig of showport’s device config', () => {
  it('gives the settings showport described, on a port in any state before', () => {
    fc.assert(
      fc.property(settingsArb, settingsArb, (shown, before) => {
        const after = { ...before, ...parsePortConfig(showportWords(shown)) };
        for (const key of Object.keys(shown) as Array<keyof LineSettings>) {
          const said = !(key in UNSAID) || shown[key] !== UNSAID[key];
          expect(after[key], `${key} after "${deviceConfigText(shown)}"`).toBe(said ? shown[key] : before[key]);
        }
        // on the port it described, nothing changes
        expect({ ...shown, ...parsePortConfig(showportWords(shown)) }).toEqual(shown);
      }),
      { numRuns: 2000, seed: 22 },
    );
  });

  it('writes the frame, then a word for each option that is on (ser2net 4’s spelling)', () => {
    expect(deviceConfigText({ speed: 115200, dataBits: 8, parity: 'none', stopBits: 1, flow: 'none', local: true, hupcl: false })).toBe('115200N81 CLOCAL');
    expect(deviceConfigText({ speed: 50, dataBits: 5, parity: 'even', stopBits: 2, flow: 'rtscts', local: false, hupcl: true })).toBe('50E52 RTSCTS HANGUP_WHEN_DONE');
    expect(deviceConfigText({ speed: 9600, dataBits: 7, parity: 'space', stopBits: 1, flow: 'xonxoff', local: true, hupcl: true })).toBe('9600S71 XONXOFF CLOCAL HANGUP_WHEN_DONE');
  });

  it('reads ser2net 3’s words, every option said, in any order and any case', () => {
    fc.assert(
      fc.property(
        settingsArb.chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray(ser2net3Words(s), { minLength: ser2net3Words(s).length }), fc.boolean())),
        ([s, words, lower]) => {
          expect(parsePortConfig(lower ? words.map((w) => w.toLowerCase()) : words)).toEqual(s);
        },
      ),
      { numRuns: 1000, seed: 22 },
    );
  });

  it('reads the frame word’s first parts alone, and refuses a part that is not a value', () => {
    expect(parsePortConfig(['9600E'])).toEqual({ speed: 9600, parity: 'even' });
    expect(parsePortConfig(['9600e7'])).toEqual({ speed: 9600, parity: 'even', dataBits: 7 });
    expect(parsePortConfig(['09600'])).toEqual({ speed: 9600 });
    for (const bad of ['9601', '9600X81', '9600N91', '9600N83', '9600N812', 'N81', '-CLOCALS', '--LOCAL']) expect(() => parsePortConfig([bad]), bad).toThrow(`Invalid port config: ${bad}`);
  });

  it('turns off only the flow it names: -XONXOFF after RTSCTS leaves RTS/CTS on', () => {
    expect(parsePortConfig(['RTSCTS', '-XONXOFF'])).toEqual({ flow: 'rtscts' });
    expect(parsePortConfig(['RTSCTS', '-RTSCTS'])).toEqual({ flow: 'none' });
    expect(parsePortConfig(['-XONXOFF'])).toEqual({ flow: 'none' });
    expect(parsePortConfig(['CLOCAL', '-LOCAL'])).toEqual({ local: false });
    expect(parsePortConfig(['-CLOCAL', 'LOCAL'])).toEqual({ local: true });
  });
});

describe('on a running hub’s control port', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('setportconfig of the device config showport printed leaves the port as it was', async () => {
    const { hub, tcpPort, device } = await startMemoryHub({ lock: false, control: '127.0.0.1:0', ports: [{ name: 'p', device: 'mem0', listen: '127.0.0.1:0' }] });
    cleanups.push(() => hub.stop());
    const control = { tcpPort: tcpPort('control') };
    const sock = await openControl(control.tcpPort);
    cleanups.push(() => void sock.destroy());
    const deviceConfig = async () => /^ {2}device config: (.*)$/m.exec((await ask(sock, 'showport p')).replace(/\r/g, ''))?.[1];

    await fc.assert(
      fc.asyncProperty(settingsArb, async (s) => {
        expect(await ask(sock, `setportconfig p ${ser2net3Words(s).join(' ')}`)).toBe('');
        expect(device('mem0').line.settings).toEqual(s);
        const shown = await deviceConfig();
        expect(shown).toBe(deviceConfigText(s));
        expect(await ask(sock, `setportconfig p ${shown}`)).toBe('');
        expect(device('mem0').line.settings).toEqual(s);
        expect(await deviceConfig()).toBe(shown);
      }),
      { numRuns: 60, seed: 22 },
    );
  });
});
