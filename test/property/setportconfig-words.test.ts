/**
 * setportconfig reads what showport's `device config` writes: over every combination of line
 * settings, the words showport prints for them, given back to setportconfig, give the same settings,
 * whatever the port's settings were before. ser2net leaves an option that is off unsaid (no flow
 * word, no CLOCAL, no HANGUP_WHEN_DONE), and setportconfig, as ser2net 3's, starts from the defaults,
 * so what is unsaid is the default and never the port's old value. ser2net 3's own words (`9600 EVEN
 * 2STOPBITS 7DATABITS -XONXOFF LOCAL`, its man page) still read, in any order and any case. Then the
 * same on a running hub's real control port (in-memory devices, which keep the settings they are given).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePortConfig } from '../../src/bridge/control.js';
import { deviceConfigText, portConfigSettings } from '../../src/bridge/device-config-words.js';
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

/** The option table's defaults (README's port options table), what setportconfig starts from. */
const TABLE_DEFAULTS: LineSettings = { speed: 115200, dataBits: 8, parity: 'none', stopBits: 1, flow: 'none', local: true, hupcl: false };

/** ser2net 3's setportconfig words for each option of settings (its man page's spelling). */
function ser2net3WordsByOption(s: LineSettings): Record<keyof LineSettings, string[]> {
  return {
    speed: [String(s.speed)],
    parity: [s.parity.toUpperCase()],
    dataBits: [`${s.dataBits}DATABITS`],
    stopBits: [s.stopBits === 1 ? '1STOPBIT' : '2STOPBITS'],
    flow: s.flow === 'none' ? ['-RTSCTS', '-XONXOFF'] : [s.flow.toUpperCase()],
    local: [s.local ? 'LOCAL' : '-LOCAL'],
    hupcl: [s.hupcl ? 'HANGUP_WHEN_DONE' : '-HANGUP_WHEN_DONE'],
  };
}

/** ser2net 3's words for settings, every option said. */
const ser2net3Words = (s: LineSettings) => Object.values(ser2net3WordsByOption(s)).flat();

const showportWords = (s: LineSettings) => deviceConfigText(s).split(' ');

describe('setportconfig of showport’s device config', () => {
  it('gives the settings showport described, every one of them', () => {
    fc.assert(
      fc.property(settingsArb, (shown) => {
        expect(portConfigSettings(showportWords(shown)), `after "${deviceConfigText(shown)}"`).toEqual(shown);
      }),
      { numRuns: 2000, seed: 22 },
    );
  });

  it('gives the words’ settings and the table’s default for each option they do not say', () => {
    const options = Object.keys(TABLE_DEFAULTS) as Array<keyof LineSettings>;
    fc.assert(
      fc.property(settingsArb, fc.subarray(options), (s, said) => {
        const words = said.flatMap((key) => ser2net3WordsByOption(s)[key]);
        const expected = { ...TABLE_DEFAULTS, ...Object.fromEntries(said.map((key) => [key, s[key]])) };
        expect(portConfigSettings(words), words.join(' ')).toEqual(expected);
      }),
      { numRuns: 1000, seed: 22 },
    );
    expect(portConfigSettings(['RTSCTS'])).toEqual({ ...TABLE_DEFAULTS, flow: 'rtscts' });
    expect(portConfigSettings(['9600E'])).toEqual({ ...TABLE_DEFAULTS, speed: 9600, parity: 'even' });
  });

  it('writes the frame, then a word for each option that is on (ser2net 4’s spelling), and -CLOCAL for CLOCAL off (on by default)', () => {
    expect(deviceConfigText({ speed: 115200, dataBits: 8, parity: 'none', stopBits: 1, flow: 'none', local: true, hupcl: false })).toBe('115200N81 CLOCAL');
    expect(deviceConfigText({ speed: 50, dataBits: 5, parity: 'even', stopBits: 2, flow: 'rtscts', local: false, hupcl: true })).toBe('50E52 RTSCTS -CLOCAL HANGUP_WHEN_DONE');
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

  async function twoPorts() {
    const { hub, tcpPort, device } = await startMemoryHub({ lock: false, control: '127.0.0.1:0', ports: [{ name: 'p', device: 'mem0', listen: '127.0.0.1:0' }, { name: 'q', device: 'mem1', listen: '127.0.0.1:0' }] });
    cleanups.push(() => hub.stop());
    const sock = await openControl(tcpPort('control'));
    cleanups.push(() => void sock.destroy());
    const deviceConfig = async (port: string) => /^ {2}device config: (.*)$/m.exec((await ask(sock, `showport ${port}`)).replace(/\r/g, ''))?.[1];
    return { sock, device, deviceConfig };
  }

  it('setportconfig of one port’s device config makes another port identical, whatever it was before', async () => {
    const { sock, device, deviceConfig } = await twoPorts();
    await fc.assert(
      fc.asyncProperty(settingsArb, settingsArb, async (s, before) => {
        expect(await ask(sock, `setportconfig p ${ser2net3Words(s).join(' ')}`)).toBe('');
        expect(device('mem0').line.settings).toEqual(s);
        expect(await ask(sock, `setportconfig q ${ser2net3Words(before).join(' ')}`)).toBe('');
        expect(device('mem1').line.settings).toEqual(before);
        const shown = await deviceConfig('p');
        expect(shown).toBe(deviceConfigText(s));
        expect(await ask(sock, `setportconfig q ${shown}`)).toBe('');
        expect(device('mem1').line.settings).toEqual(s);
        expect(await deviceConfig('q')).toBe(shown);
      }),
      { numRuns: 60, seed: 22 },
    );
  });

  it('a port with RTS/CTS, CLOCAL off and HUPCL on, given a default port’s device config, ends as the default port', async () => {
    const { sock, device, deviceConfig } = await twoPorts();
    expect(await ask(sock, 'setportconfig q 9600 RTSCTS -LOCAL HANGUP_WHEN_DONE')).toBe('');
    expect(await deviceConfig('q')).toBe('9600N81 RTSCTS -CLOCAL HANGUP_WHEN_DONE');
    const shown = await deviceConfig('p');
    expect(shown).toBe('115200N81 CLOCAL');
    expect(await ask(sock, `setportconfig q ${shown}`)).toBe('');
    expect(await deviceConfig('q')).toBe(shown);
    expect(device('mem1').line.settings).toEqual(device('mem0').line.settings);
    expect(device('mem1').line.settings).toEqual(TABLE_DEFAULTS);
  });

  it('words said win over the defaults; an invalid word, or none, refuses the whole line and changes nothing', async () => {
    const { sock, device, deviceConfig } = await twoPorts();
    expect(await ask(sock, 'setportconfig q 9600 RTSCTS -LOCAL HANGUP_WHEN_DONE')).toBe('');
    expect(await ask(sock, 'setportconfig q 57600 XONXOFF')).toBe('');
    expect(await deviceConfig('q')).toBe('57600N81 XONXOFF CLOCAL');
    expect(device('mem1').line.settings).toEqual({ ...TABLE_DEFAULTS, speed: 57600, flow: 'xonxoff' });
    expect(await ask(sock, 'setportconfig q 9600 RTSCTS -LOCAL HANGUP_WHEN_DONE')).toBe('');
    const refusals = { 'setportconfig q 2400 EVEN BOGUS': 'Invalid port config: BOGUS', 'setportconfig q 9601': 'Invalid port config: 9601', 'setportconfig q': 'No device config' };
    for (const [line, refusal] of Object.entries(refusals)) {
      expect(await ask(sock, line), line).toBe(`${refusal}\r\n`);
      expect(await deviceConfig('q'), line).toBe('9600N81 RTSCTS -CLOCAL HANGUP_WHEN_DONE');
      expect(device('mem1').line.settings, line).toEqual({ ...TABLE_DEFAULTS, speed: 9600, flow: 'rtscts', local: false, hupcl: true });
    }
  });
});
