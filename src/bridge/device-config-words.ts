/**
 * ser2net's device config words, both ways, from the option table's rows alone: what showport's
 * `device config` line writes (`115200N81 RTSCTS CLOCAL`) and what setportconfig reads (those, and
 * ser2net 3's `9600 EVEN 2STOPBITS 7DATABITS -XONXOFF LOCAL`). A row spells its words once (its
 * `showport.text` and `deviceConfig`), so what showport writes always reads back.
 *
 * setportconfig starts from the rows' defaults, as ser2net 3's does (devcfg.c: devconfig() calls
 * devinit() before reading a word): ser2net leaves an option that is off unsaid, so only a reset
 * makes pasting one port's device config onto another give the two the same settings. ser2net's
 * defaults are all off; ours has CLOCAL on, so showport says `-CLOCAL` when it is off.
 */
import { UsageError } from '../errors.js';
import { defaultSettings, type LineSettings } from '../line/line.js';
import { TERMIOS_SPEEDS } from './port-options.js';
import { portOptionRows, type FramePart, type OwnWord, type PortOptionRow } from './port-option-table.js';

type Setting = keyof LineSettings;
type Value = LineSettings[Setting];

interface Spelled {
  setting: Setting;
  /** Every value the option takes, each with what showport writes for it. */
  values: Array<{ value: Value; text: string }>;
}

/** The values a row takes: its choices, the termios speeds, or on and off. */
function valuesOf(row: PortOptionRow): readonly Value[] {
  if (row.type === 'choice') return row.values as readonly Value[];
  if (row.type === 'speed') return TERMIOS_SPEEDS;
  if (row.type === 'switch') return [false, true];
  throw new Error(`a ${row.type} option has no device config words`);
}

/** A row on showport's `device config` line. */
type DeviceConfigRow = PortOptionRow & { setting: Setting; showport: NonNullable<PortOptionRow['showport']>; deviceConfig: FramePart | OwnWord };

function spelled(row: DeviceConfigRow): Spelled {
  const text = row.showport.text as (v: Value) => string;
  return { setting: row.setting, values: valuesOf(row).map((value) => ({ value, text: text(value) })) };
}

const rows = portOptionRows()
  .map(({ row }) => row)
  .filter((row): row is DeviceConfigRow => !!row.deviceConfig && !!row.setting && !!row.showport);

/** The frame's parts in their order: speed, parity, data bits, stop bits. */
const frame = rows
  .filter((row) => row.deviceConfig.kind === 'frame')
  .sort((a, b) => (a.deviceConfig as FramePart).at - (b.deviceConfig as FramePart).at)
  .map(spelled);

/** The options said by a word of their own, in the table's order (flow, CLOCAL, HANGUP_WHEN_DONE). */
const ownWords = rows.filter((row) => row.deviceConfig.kind === 'word').map((row) => ({ ...spelled(row), alsoRead: (row.deviceConfig as OwnWord).alsoRead as ((v: Value) => readonly string[]) | undefined }));

/** The settings a device config starts from: each row's default. */
export const DEVICE_CONFIG_DEFAULTS: Readonly<LineSettings> = (() => {
  const defaults: Partial<Record<Setting, Value>> = {};
  for (const row of rows) {
    const value = ('default' in row ? row.default : undefined) as Value | undefined;
    if (value === undefined) throw new Error(`${row.setting}: a device config option needs a default (setportconfig resets to it)`);
    defaults[row.setting] = value;
  }
  // a line setting with no row would keep its value through setportconfig, unseen by showport (only
  // the keys of defaultSettings are read here: the values are the rows')
  for (const setting of Object.keys(defaultSettings) as Setting[]) if (!(setting in defaults)) throw new Error(`${setting}: a line setting with no device config row`);
  return Object.freeze(defaults as LineSettings);
})();

const textOf = (o: Spelled, value: Value) => o.values.find((v) => v.value === value)?.text ?? '';

/** An option's own word: its value's, or `-WORD` of the default where ser2net leaves the value
 *  unsaid but the default is said (CLOCAL is on by default here, off in ser2net), so that reading
 *  the text from the defaults gives back every setting. */
function ownWordOf(o: Spelled, settings: LineSettings): string {
  const text = textOf(o, settings[o.setting]);
  const defaultText = textOf(o, DEVICE_CONFIG_DEFAULTS[o.setting]);
  return text || !defaultText ? text : `-${defaultText}`;
}

/** ser2net's `device config`: the frame as one word (`115200N81`), then a word per option that is
 *  on, and `-WORD` for one that is off but on by default (`-CLOCAL`). */
export function deviceConfigText(settings: LineSettings): string {
  return [frame.map((part) => textOf(part, settings[part.setting])).join(''), ...ownWords.map((o) => ownWordOf(o, settings))].filter(Boolean).join(' ');
}

/** What a word read sets: a value, or (`-WORD`) the option's unsaid value unless this command chose another. */
type Reading = { setting: Setting; value: Value; off: boolean };

/** Every word setportconfig reads, upper case: the frame parts' own words, each option's word, `-WORD`. */
const WORDS: ReadonlyMap<string, Reading> = (() => {
  const words = new Map<string, Reading>();
  const add = (word: string, reading: Reading) => {
    const key = word.toUpperCase();
    if (words.has(key)) throw new Error(`device config word ${key} is spelled by two options`);
    words.set(key, reading);
  };
  for (const row of rows.filter((r) => r.deviceConfig.kind === 'frame')) {
    const word = (row.deviceConfig as FramePart).word as ((v: Value) => string) | undefined;
    if (word) for (const value of valuesOf(row)) add(word(value), { setting: row.setting, value, off: false });
  }
  for (const o of ownWords) {
    const unsaid = o.values.find((v) => !v.text);
    if (!unsaid) throw new Error(`${o.setting}: one value must go unsaid (the one -WORD sets)`);
    for (const { value, text } of o.values) {
      for (const word of [text, ...(o.alsoRead?.(value) ?? [])].filter(Boolean)) {
        add(word, { setting: o.setting, value, off: false });
        add(`-${word}`, { setting: o.setting, value: unsaid.value, off: true });
      }
    }
  }
  return words;
})();

const digits = /^\d+$/;

/** The frame word's parts (`115200N81`, or its first parts: `9600`, `9600E`): speed alone is a bare number. */
const FRAME_WORD = new RegExp(`^${frame.reduceRight((rest, part) => `(${partPattern(part)})${rest ? `(?:${rest})?` : ''}`, '')}$`);

/** A part as a pattern: digits where its texts are numbers (a speed), else one of its texts. */
function partPattern(part: Spelled): string {
  const texts = part.values.map((v) => v.text);
  if (texts.every((t) => digits.test(t))) return new Set(texts.map((t) => t.length)).size === 1 ? `\\d{${texts[0]!.length}}` : '\\d+';
  return texts.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

/** A matched part's value; numbers compare as numbers (`09600` is 9600, as it always was). */
function partValue(part: Spelled, matched: string): Value | undefined {
  return part.values.find((v) => v.text === matched || (digits.test(matched) && digits.test(v.text) && Number(v.text) === Number(matched)))?.value;
}

/** Parses setportconfig's words into settings, the last word for an option winning; a UsageError names the offending word. */
export function parsePortConfig(words: string[]): Partial<LineSettings> {
  const s: Partial<Record<Setting, Value>> = {};
  for (const w of words) {
    const u = w.toUpperCase();
    const reading = WORDS.get(u);
    if (reading) {
      // `-XONXOFF` after `RTSCTS` in the same command leaves RTS/CTS on: it turns off only its own word
      const chosen = s[reading.setting];
      s[reading.setting] = reading.off && chosen !== undefined && chosen !== WORDS.get(u.slice(1))!.value ? chosen : reading.value;
      continue;
    }
    const m = FRAME_WORD.exec(u);
    const parts = m ? frame.map((part, i) => (m[i + 1] === undefined ? undefined : { setting: part.setting, value: partValue(part, m[i + 1]!) })) : [];
    if (!m || parts.some((p) => p && p.value === undefined)) throw new UsageError(`Invalid port config: ${w}`);
    for (const p of parts) if (p) s[p.setting] = p.value;
  }
  return s as Partial<LineSettings>;
}

/** The settings setportconfig gives a port: the defaults, with what its words say (a UsageError names a word it cannot read). */
export function portConfigSettings(words: string[]): LineSettings {
  return { ...DEVICE_CONFIG_DEFAULTS, ...parsePortConfig(words) };
}
