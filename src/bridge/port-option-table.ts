/**
 * Every option of a bridge port in one table, as pppd keeps its option table (options.c): each row
 * says its config key, its type and values, its default, the `bridge serve` flag with its help, and
 * the `showport` line it appears on, with ser2net's words for it in a device config. The config
 * schema (config.ts), the flags of `bridge serve` and `bridge connect` (cli/bridge.ts), the device's
 * termios settings (hub.ts), showport's lines (control.ts), setportconfig's words
 * (device-config-words.ts) and RFC 2217's codes (rfc2217.ts, rfc2217-client.ts) are all read from
 * here, so a new option is one new row.
 *
 * Plain data on purpose: `bridge stdio` (pppd's `pty` program) loads the CLI's flags at every start,
 * and zod stays out of that path (config.ts builds its schema from these rows in a worker thread).
 * A port's name, device, listen address and TLS block are not rows: they are the listener's and the
 * device's identity, shared with rotators, the control port, the exporter and the web listener.
 */
import { defaultSettings, type LineSettings } from '../line/line.js';
import { DATA_BITS, FLOWS, PARITIES, PROTOCOLS, SLOW_CLIENT_POLICIES, STOP_BITS, TERMIOS_SPEEDS } from './port-options.js';
import { SHOWPORT_LABEL, type ShowportLabel } from './showport-labels.js';

interface RowBase {
  /** The `bridge serve` flag, as commander takes it (`--max-connections <n>`, `--no-native-pump`). */
  readonly flag: string;
  readonly help: string;
  /** The field of the device's termios settings this option sets. */
  readonly setting?: keyof LineSettings;
  /** The showport line the option appears on, and how its value is written there. */
  readonly showport?: { readonly label: ShowportLabel; readonly text: (value: never) => string };
  /** Its place in ser2net's device config (showport's `device config` line, setportconfig's words). */
  readonly deviceConfig?: FramePart | OwnWord;
}

/** RFC 2217's code for each value of an option (SET-PARITY, SET-CONTROL's outbound flow), both sides. */
export type Rfc2217Codes<V extends string> = Readonly<Record<V, number>>;

/** A part of the frame word (`115200N81`), at its place, as `showport.text` writes it; `word`:
 *  setportconfig's word for a value besides the frame, where ser2net has one (`EVEN`, `7DATABITS`). */
export interface FramePart {
  readonly kind: 'frame';
  readonly at: number;
  readonly word?: (value: never) => string;
}
/** A word of its own, as `showport.text` writes it ('' for the value ser2net leaves unsaid, which
 *  `-WORD` sets); `alsoRead`: other words setportconfig takes for a value. */
export interface OwnWord {
  readonly kind: 'word';
  readonly alsoRead?: (value: never) => readonly string[];
}

/** One of a fixed list of values (strings or numbers). */
export interface ChoiceRow<V extends string | number = string | number> extends RowBase {
  readonly type: 'choice';
  readonly values: readonly V[];
  readonly default?: V;
  /** RFC 2217's code for each value, where the protocol has a command for the option. */
  readonly rfc2217?: Rfc2217Codes<V & string>;
}
/** A speed termios can set (pppd and stty take no other). */
export interface SpeedRow extends RowBase {
  readonly type: 'speed';
  readonly default: number;
}
/** A whole number from `min` (to `max`). */
export interface WholeRow extends RowBase {
  readonly type: 'whole';
  readonly min: number;
  readonly max?: number;
  readonly default?: number;
}
/** On or off; the flag turns the default around (`--kick-old`, `--no-native-pump`). */
export interface SwitchRow extends RowBase {
  readonly type: 'switch';
  readonly default: boolean;
  /** A flag saying the default out loud too (`--local` beside `--no-local`), with its help. */
  readonly sayDefault?: string;
}
/** Free text; `escapes`: the flag takes \r, \n, \t, \\ and \xHH (ser2net's banner strings). */
export interface TextRow extends RowBase {
  readonly type: 'text';
  readonly escapes?: boolean;
}
/** A list of words (the flag is variadic). */
export interface TextsRow extends RowBase {
  readonly type: 'texts';
}
export type PortOptionRow = ChoiceRow | SpeedRow | WholeRow | SwitchRow | TextRow | TextsRow;

/** Options that only mean something together, one config block of their own (`trace: {…}`). */
export interface GroupRow {
  readonly type: 'group';
  readonly fields: Readonly<Record<string, PortOptionRow>>;
}

export const TERMIOS_SPEED_PROBLEM = `not a termios speed (allowed: ${TERMIOS_SPEEDS.join(', ')})`;

/** The table. Its order is the config's field order (an unknown field's message lists them so). */
export const PORT_OPTIONS = {
  protocol: {
    type: 'choice',
    values: PROTOCOLS,
    default: 'raw',
    flag: '--protocol <protocol>',
    help: 'wire protocol',
    showport: { label: SHOWPORT_LABEL.enableState, text: (v: string) => v },
  } satisfies ChoiceRow<(typeof PROTOCOLS)[number]>,
  speed: {
    type: 'speed',
    default: defaultSettings.speed,
    flag: '--speed <bps>',
    help: 'line speed',
    setting: 'speed',
    showport: { label: SHOWPORT_LABEL.deviceConfig, text: (v: number) => String(v) },
    deviceConfig: { kind: 'frame', at: 0 },
  } satisfies SpeedRow,
  databits: {
    type: 'choice',
    values: DATA_BITS,
    default: defaultSettings.dataBits,
    flag: '--databits <n>',
    help: 'data bits',
    setting: 'dataBits',
    showport: { label: SHOWPORT_LABEL.deviceConfig, text: (v: number) => String(v) },
    deviceConfig: { kind: 'frame', at: 2, word: (v: number) => `${v}DATABITS` },
  } satisfies ChoiceRow<(typeof DATA_BITS)[number]>,
  parity: {
    type: 'choice',
    values: PARITIES,
    default: defaultSettings.parity,
    flag: '--parity <p>',
    help: 'parity',
    setting: 'parity',
    // the frame's letter is the word's first, as gensio writes it (N E O M S)
    showport: { label: SHOWPORT_LABEL.deviceConfig, text: (v: (typeof PARITIES)[number]) => v.charAt(0).toUpperCase() },
    deviceConfig: { kind: 'frame', at: 1, word: (v: (typeof PARITIES)[number]) => v.toUpperCase() },
    rfc2217: { none: 1, odd: 2, even: 3, mark: 4, space: 5 },
  } satisfies ChoiceRow<(typeof PARITIES)[number]>,
  stopbits: {
    type: 'choice',
    values: STOP_BITS,
    default: defaultSettings.stopBits,
    flag: '--stopbits <n>',
    help: 'stop bits',
    setting: 'stopBits',
    showport: { label: SHOWPORT_LABEL.deviceConfig, text: (v: number) => String(v) },
    deviceConfig: { kind: 'frame', at: 3, word: (v: number) => (v === 1 ? '1STOPBIT' : `${v}STOPBITS`) },
  } satisfies ChoiceRow<(typeof STOP_BITS)[number]>,
  flow: {
    type: 'choice',
    values: FLOWS,
    default: defaultSettings.flow,
    flag: '--flow <flow>',
    help: 'flow control',
    setting: 'flow',
    showport: { label: SHOWPORT_LABEL.deviceConfig, text: (v: (typeof FLOWS)[number]) => (v === 'none' ? '' : v.toUpperCase()) },
    deviceConfig: { kind: 'word' },
    rfc2217: { none: 1, xonxoff: 2, rtscts: 3 },
  } satisfies ChoiceRow<(typeof FLOWS)[number]>,
  local: {
    type: 'switch',
    default: defaultSettings.local,
    flag: '--no-local',
    help: 'honour modem control lines',
    sayDefault: 'ignore modem control lines (CLOCAL; the default)',
    setting: 'local',
    // ser2net 4 (gensio) writes CLOCAL and reads LOCAL, as ser2net 3's setportconfig did: we read both
    showport: { label: SHOWPORT_LABEL.deviceConfig, text: (v: boolean) => (v ? 'CLOCAL' : '') },
    deviceConfig: { kind: 'word', alsoRead: (v: boolean) => (v ? ['LOCAL'] : []) },
  } satisfies SwitchRow,
  hupcl: {
    type: 'switch',
    default: defaultSettings.hupcl,
    flag: '--hupcl',
    help: 'drop DTR on last close',
    setting: 'hupcl',
    showport: { label: SHOWPORT_LABEL.deviceConfig, text: (v: boolean) => (v ? 'HANGUP_WHEN_DONE' : '') },
    deviceConfig: { kind: 'word' },
  } satisfies SwitchRow,
  maxConnections: { type: 'whole', min: 1, default: 1, flag: '--max-connections <n>', help: 'clients sharing the device' } satisfies WholeRow,
  kickOld: { type: 'switch', default: false, flag: '--kick-old', help: 'a new client replaces the oldest when full' } satisfies SwitchRow,
  slowClient: {
    type: 'choice',
    values: SLOW_CLIENT_POLICIES,
    default: 'pause',
    flag: '--slow-client <policy>',
    help: 'when a client cannot keep up',
  } satisfies ChoiceRow<(typeof SLOW_CLIENT_POLICIES)[number]>,
  allow: { type: 'texts', flag: '--allow <cidr...>', help: 'client addresses allowed (CIDR or address)' } satisfies TextsRow,
  banner: { type: 'text', escapes: true, flag: '--banner <text>', help: 'sent to each client on connect' } satisfies TextRow,
  openString: { type: 'text', escapes: true, flag: '--open-string <text>', help: 'sent to the device when a client connects' } satisfies TextRow,
  closeString: { type: 'text', escapes: true, flag: '--close-string <text>', help: 'sent to the device when a client disconnects' } satisfies TextRow,
  idleTimeout: {
    type: 'whole',
    min: 0,
    default: 0,
    flag: '--idle-timeout <seconds>',
    help: 'disconnect idle clients',
    showport: { label: SHOWPORT_LABEL.timeout, text: (v: number) => String(v) },
  } satisfies WholeRow,
  nativePump: { type: 'switch', default: true, flag: '--no-native-pump', help: 'move every byte in JavaScript, even in a lone raw session' } satisfies SwitchRow,
  /** Deliver bytes both ways no faster than a UART at this baud rate (line pacing). */
  pace: { type: 'whole', min: 1, max: 4_000_000, flag: '--pace <baud>', help: 'deliver bytes both ways no faster than a UART at BAUD (16-byte FIFO bursts)' } satisfies WholeRow,
  trace: {
    type: 'group',
    fields: {
      read: { type: 'text', flag: '--trace-read <file>', help: 'append bytes read from the device' } satisfies TextRow,
      write: { type: 'text', flag: '--trace-write <file>', help: 'append bytes written to the device' } satisfies TextRow,
      both: { type: 'text', flag: '--trace-both <file>', help: 'append both directions' } satisfies TextRow,
      hex: { type: 'switch', default: false, flag: '--trace-hex', help: 'trace as 8-byte hex+ASCII lines' } satisfies SwitchRow,
      timestamp: { type: 'switch', default: false, flag: '--trace-timestamp', help: 'timestamp trace lines and connect/disconnect records' } satisfies SwitchRow,
    },
  } satisfies GroupRow,
} as const;

export type PortOptionKey = keyof typeof PORT_OPTIONS;

/** What a row holds once read: its values' type, or undefined where it has no default. */
type ValueOf<R> = R extends { type: 'choice'; values: readonly (infer V)[] }
  ? V
  : R extends { type: 'speed' | 'whole' }
    ? number
    : R extends { type: 'switch' }
      ? boolean
      : R extends { type: 'text' }
        ? string
        : R extends { type: 'texts' }
          ? string[]
          : R extends { type: 'group'; fields: infer F }
            ? ValuesOf<F>
            : never;
type Defaulted<T> = { [K in keyof T as T[K] extends { default: unknown } ? K : never]: ValueOf<T[K]> };
type Optional<T> = { [K in keyof T as T[K] extends { default: unknown } ? never : K]?: ValueOf<T[K]> };
type ValuesOf<T> = Defaulted<T> & Optional<T>;

/** A port's options with their defaults applied, as the config schema gives them. */
export type PortOptionValues = ValuesOf<typeof PORT_OPTIONS>;

/** Every row with the path of its config key (`['trace', 'read']` for a field of a block), in table order. */
export function portOptionRows(): Array<{ path: [string] | [string, string]; row: PortOptionRow }> {
  const rows: Array<{ path: [string] | [string, string]; row: PortOptionRow }> = [];
  for (const [key, row] of Object.entries(PORT_OPTIONS) as Array<[string, PortOptionRow | GroupRow]>) {
    if (row.type === 'group') for (const [field, inner] of Object.entries(row.fields)) rows.push({ path: [key, field], row: inner });
    else rows.push({ path: [key], row });
  }
  return rows;
}

/** The device's termios settings a port's options ask for. */
export function lineSettingsOf(options: PortOptionValues): LineSettings {
  const settings: Record<string, unknown> = {};
  for (const { path, row } of portOptionRows()) if (row.setting) settings[row.setting] = (options as Record<string, unknown>)[path[0]];
  return settings as unknown as LineSettings;
}

/** The options that appear on a showport line. */
export type ShownOptionKey = { [K in PortOptionKey]: (typeof PORT_OPTIONS)[K] extends { showport: unknown } ? K : never }[PortOptionKey];

/** How showport writes one option's value. */
export function showportText<K extends ShownOptionKey>(key: K, value: Parameters<(typeof PORT_OPTIONS)[K]['showport']['text']>[0]): string {
  return (PORT_OPTIONS[key].showport.text as (v: unknown) => string)(value);
}

/** The value RFC 2217's `code` stands for in an option's codes; undefined for a code it does not have. */
export function rfc2217Value<V extends string>(codes: Rfc2217Codes<V>, code: number): V | undefined {
  return (Object.keys(codes) as V[]).find((v) => codes[v] === code);
}
