/**
 * The TLS flags of every command that connects to a TLS listener: `bridge connect` and `bridge
 * stdio` reach a bridge port with `--tls-*`; `status --watch`, `exporter` and `web` reach control
 * ports with `--control-tls-*`, and `web`'s consoles reach bridge ports with `--bridge-tls-*` (their
 * own `--tls-*`, where they have one, is for what they serve). One list of flags, one set of rules
 * (those of TlsDialer), three prefixes.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { tlsClientProblems, type TlsClientSettings } from '../tls/settings.js';

export type TlsClientPrefix = 'tls' | 'control-tls' | 'bridge-tls';

/** `control-tls` → `controlTls`, as commander names the option. */
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The flags after the prefix, each with the key TlsClientSettings gives it. */
const FLAGS = [
  { flag: '', key: undefined },
  { flag: '-ca', key: 'ca' },
  { flag: '-pin', key: 'pin' },
  { flag: '-server-name', key: 'serverName' },
  { flag: '-cert', key: 'cert' },
  { flag: '-key', key: 'key' },
] as const;

/** --PREFIX, --PREFIX-ca, --PREFIX-pin, --PREFIX-server-name, --PREFIX-cert, --PREFIX-key. */
export function withTlsClientFlags(cmd: Command, prefix: TlsClientPrefix = 'tls'): Command {
  const server = { tls: "the server's", 'control-tls': "the control port's", 'bridge-tls': "a bridge port's" }[prefix];
  return cmd
    .option(`--${prefix}`, `connect with TLS, checking ${server} certificate against the system's CAs`)
    .option(`--${prefix}-ca <file>`, `CA certificates that sign ${server} certificate (implies --${prefix})`)
    .option(`--${prefix}-pin <fingerprint...>`, `accept ${server} certificate by its sha256 public-key fingerprint, even self-signed (implies --${prefix})`)
    .option(`--${prefix}-server-name <name>`, `name ${server} certificate must carry, sent as SNI (default: the host; implies --${prefix})`)
    .option(`--${prefix}-cert <file>`, `our client certificate, for ${prefix === 'control-tls' ? 'control ports' : 'ports'} that require one (implies --${prefix})`)
    .option(`--${prefix}-key <file>`, `private key of --${prefix}-cert`);
}

/** The settings the flags give, undefined when none was given; a UsageError naming the flag otherwise. */
export function tlsClientFrom(opts: Record<string, unknown>, prefix: TlsClientPrefix = 'tls'): TlsClientSettings | undefined {
  const value = (flag: string) => opts[camel(`${prefix}${flag}`)];
  if (!FLAGS.some(({ flag }) => value(flag) !== undefined)) return undefined;
  const settings: TlsClientSettings = {};
  for (const { flag, key } of FLAGS) if (key && value(flag) !== undefined) Object.assign(settings, { [key]: value(flag) });
  const [problem] = tlsClientProblems(settings);
  // the rules speak of --tls-*; say the flag as this command spells it
  if (problem) throw new UsageError(problem.replace(/--tls-/g, `--${prefix}-`));
  return settings;
}

/** Reads the certificate, key and CA files once, so a missing or mismatched file is a usage error
 *  at start (naming the flag) rather than a failure at every look. */
export async function checkTlsClientFiles(settings: TlsClientSettings, prefix: TlsClientPrefix): Promise<void> {
  const { TlsDialer } = await import('../tls/dial.js');
  try {
    await TlsDialer.create(settings);
  } catch (err) {
    throw new UsageError(`--${prefix}-*: ${(err as Error).message}`);
  }
}
