/**
 * Walks the port options table and asks each consumer that reads it in-process: `bridge serve`'s
 * flags (its --help and what a flag puts in the port's config) and the config schema (the key is
 * accepted, the default given) and showport of a running port (the option's line, its value). A row
 * one consumer forgets, or an option one of them names outside the table, fails here. The running
 * ports are a BridgeHub's, on in-memory devices (a StreamLine records the settings it is given, as a
 * pty does) and a real control port on loopback.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ask, openControl } from '../helpers/bridge.js';
import { startMemoryHub } from '../helpers/memory-hub.js';
import { register, serveConfig } from '../../src/cli/bridge.js';
import { bridgeConfigSchema } from '../../src/bridge/config.js';
import { PORT_OPTIONS, portOptionRows, showportText, type PortOptionRow, type ShownOptionKey } from '../../src/bridge/port-option-table.js';
import { TERMIOS_SPEEDS } from '../../src/bridge/port-options.js';

/** `bridge serve` as the CLI registers it, on a program of its own. */
function serveCommand(): Command {
  const program = new Command();
  register(program);
  const serve = program.commands.find((c) => c.name() === 'bridge')!.commands.find((c) => c.name() === 'serve')!;
  serve.exitOverride(); // a bad flag throws here instead of ending the test run
  return serve;
}

/** A value of the row's type that is not its default: what a flag or a config sets. */
function sample(row: PortOptionRow): unknown {
  switch (row.type) {
    case 'choice':
      return row.values.find((v) => v !== row.default);
    case 'speed':
      return TERMIOS_SPEEDS.find((v) => v !== row.default);
    case 'whole':
      return (row.default ?? row.min) + 1;
    case 'switch':
      return !row.default;
    case 'text':
      return row.escapes ? 'sample\r\n' : '/var/log/sample.trace';
    case 'texts':
      return ['10.0.0.0/8', '192.168.0.0/16'];
  }
}

/** The command-line words that ask for `sample(row)`. */
function flagWords(row: PortOptionRow): string[] {
  const name = row.flag.split(' ')[0]!;
  const value = sample(row);
  if (row.type === 'switch') return [name];
  if (row.type === 'texts') return [name, ...(value as string[])];
  if (row.type === 'text' && row.escapes) return [name, 'sample\\r\\n']; // the flag's escapes, as a shell passes them
  return [name, String(value)];
}

/** The row of README's table of port options for one row of the table. */
function readmeRow(path: readonly string[], row: PortOptionRow): string {
  const values =
    row.type === 'choice'
      ? row.values.join(', ')
      : row.type === 'speed'
        ? 'a termios speed'
        : row.type === 'whole'
          ? row.max === undefined
            ? `${row.min} or more`
            : `${row.min}–${row.max}`
          : row.type === 'switch'
            ? 'true, false'
            : row.type === 'texts'
              ? 'a list'
              : 'text';
  const byDefault = 'default' in row && row.default !== undefined ? `\`${String(row.default)}\`` : '–';
  return `| \`${path.join('.')}\` | \`${row.flag}\` | ${values} | ${byDefault} | ${row.showport?.label ?? '–'} | ${row.help} |`;
}

const at = (o: unknown, path: readonly string[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
const rows = portOptionRows();
const name = (path: readonly string[]) => path.join('.');

describe('the port options table', () => {
  it('has rows, each under one config key and one flag', () => {
    expect(rows.length).toBeGreaterThan(15);
    const flags = rows.map((r) => r.row.flag.split(' ')[0]);
    expect(new Set(flags).size).toBe(flags.length);
    expect(new Set(rows.map((r) => name(r.path))).size).toBe(rows.length);
  });

  describe.each(rows.map((r) => [name(r.path), r] as const))('%s', (_key, { path, row }) => {
    it('is a flag that `bridge serve --help` shows', () => {
      const help = serveCommand().helpInformation();
      expect(help).toContain(`  ${row.flag} `);
      if (row.type === 'switch' && row.sayDefault) expect(help).toContain(`  ${row.flag.replace(/^--no-/, '--')} `);
    });

    it('is a flag that sets the served port’s config, and the default without it', () => {
      const given = serveCommand();
      given.parseOptions(['--listen', '0', ...flagWords(row)]);
      expect(at(serveConfig('/dev/ttyS0', given.opts()).ports[0], path)).toEqual(sample(row));
      const absent = serveCommand();
      absent.parseOptions(['--listen', '0']);
      expect(at(serveConfig('/dev/ttyS0', absent.opts()).ports[0], path)).toEqual('default' in row ? row.default : undefined);
    });

    it('is a key the config schema accepts, with the default it gives', () => {
      const withValue = path.length === 1 ? { [path[0]]: sample(row) } : { [path[0]]: { [path[1]!]: sample(row) } };
      const set = bridgeConfigSchema.parse({ ports: [{ device: '/dev/ttyS0', ...withValue }] });
      expect(at(set.ports[0], path)).toEqual(sample(row));
      // a block's fields take their defaults once the block is there
      const unset = bridgeConfigSchema.parse({ ports: [{ device: '/dev/ttyS0', ...(path.length === 2 ? { [path[0]]: {} } : {}) }] });
      expect(at(unset.ports[0], path)).toEqual('default' in row ? row.default : undefined);
    });
  });

  it('is every option a config port has, besides its name, device, listener and TLS block', () => {
    const r = bridgeConfigSchema.safeParse({ ports: [{ device: '/dev/ttyS0', notAnOption: 1 }] });
    expect(r.success).toBe(false);
    const portShape = bridgeConfigSchema.shape.ports.element.shape;
    expect(Object.keys(portShape)).toEqual(['name', 'device', 'listen', 'tls', ...Object.keys(PORT_OPTIONS)]);
  });

  it('is every flag of `bridge serve` besides its listener, control port, lock and TLS flags', () => {
    const own = ['--listen', '--control', '--lock-dir', '--no-lock', '--tls-cert', '--tls-key', '--tls-ca', '--tls-client-cert', '--tls-allow'];
    const fromTable = rows.flatMap(({ row }) => [row.flag.split(' ')[0]!, ...(row.type === 'switch' && row.sayDefault ? [row.flag.split(' ')[0]!.replace(/^--no-/, '--')] : [])]);
    expect(serveCommand().options.map((o) => o.long).sort()).toEqual([...own, ...fromTable].sort());
  });

  it('is README’s table of port options, row for row', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('| config key | `bridge serve` flag |');
    expect(start, 'the table’s head in README').toBeGreaterThan(0);
    const table = readme.slice(start).split('\n\n')[0]!.split('\n').slice(2);
    expect(table).toEqual(rows.map(({ path, row }) => readmeRow(path, row)));
  });

  it('reads escapes in text flags (\\r \\n \\t \\\\ \\xHH), as ser2net does', () => {
    const serve = serveCommand();
    serve.parseOptions(['--listen', '0', '--banner', 'a\\tb\\x41\\\\']);
    expect(serveConfig('/dev/ttyS0', serve.opts()).ports[0]!.banner).toBe('a\tbA\\');
  });

  it('prints each option that has a showport line on a running port, with the value its config gave', async () => {
    const shown = rows.filter(({ row }) => row.showport);
    expect(shown.map(({ path }) => name(path))).toEqual(['protocol', 'speed', 'databits', 'parity', 'stopbits', 'flow', 'local', 'hupcl', 'idleTimeout']);
    const set = Object.fromEntries(shown.map(({ path, row }) => [path[0], sample(row)]));
    const { hub, tcpPort } = await startMemoryHub({
      lock: false,
      control: '127.0.0.1:0',
      ports: [
        { name: 'defaults', device: 'mem0', listen: '127.0.0.1:0' },
        { name: 'set', device: 'mem1', listen: '127.0.0.1:0', ...set },
      ],
    });
    try {
      const sock = await openControl(tcpPort('control'));
      const blocks = (await ask(sock, 'showport')).split(/\r?\n(?=TCP port )/);
      sock.destroy();
      expect(blocks).toHaveLength(2);
      const [defaults, given] = blocks as [string, string];
      for (const [block, valueOf] of [
        [defaults, (row: PortOptionRow) => ('default' in row ? row.default : undefined)],
        [given, sample],
      ] as const) {
        for (const { path, row } of shown) {
          const line = block.split(/\r?\n/).find((l) => l.startsWith(`  ${row.showport!.label}: `));
          expect(line, `${name(path)}: its showport line`).toBeDefined();
          // a switch that is off prints no word of its own (ser2net's device config)
          expect(line, `${name(path)}: its value`).toContain(showportText(path[0] as ShownOptionKey, valueOf(row) as never));
        }
      }
      expect(defaults).toContain('  enable state: raw\r\n  timeout: 0\r\n');
      expect(defaults).toContain('  device config: 115200N81 CLOCAL\r\n');
      expect(given).toContain('  enable state: telnet\r\n  timeout: 1\r\n');
      expect(given).toContain('  device config: 50E52 RTSCTS -CLOCAL HANGUP_WHEN_DONE\r\n');
    } finally {
      await hub.stop();
    }
  });
});
