/**
 * The TLS flags of every command that listens (bridge ports, the exporter, the web listener): one
 * spelling, one default and one set of rules, the same as a `tls:` block of a bridge config.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { CLIENT_CERT_POLICIES } from '../bridge/port-options.js';
import { assertTlsServerSettings, type TlsServerSettings } from '../tls/settings.js';

/** --tls-cert/--tls-key/--tls-ca/--tls-client-cert/--tls-allow of a listening command. */
export function withTlsServerFlags(cmd: Command): Command {
  return cmd
    .option('--tls-cert <file>', 'serve TLS with this certificate (PEM); needs --tls-key')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM, mode 0600)')
    .option('--tls-ca <file>', 'CA certificates that sign acceptable client certificates')
    .addOption(new Option('--tls-client-cert <policy>', 'client certificates (default: required with --tls-ca or --tls-allow, else none)').choices(CLIENT_CERT_POLICIES))
    .option('--tls-allow <fingerprint|CN=name...>', 'clients allowed: sha256 public-key fingerprints (see bridge keygen) or CN=NAME (with --tls-ca)');
}

export function tlsServerFrom(opts: Record<string, unknown>): TlsServerSettings | undefined {
  const given = ['tlsCert', 'tlsKey', 'tlsCa', 'tlsClientCert', 'tlsAllow'].some((k) => opts[k] !== undefined);
  if (!given) return undefined;
  if (opts.tlsCert === undefined || opts.tlsKey === undefined) throw new UsageError('--tls-cert and --tls-key: a TLS port needs both');
  const settings: TlsServerSettings = {
    cert: String(opts.tlsCert),
    key: String(opts.tlsKey),
    ca: opts.tlsCa as string | undefined,
    clientCert: opts.tlsClientCert as TlsServerSettings['clientCert'],
    allow: opts.tlsAllow as string[] | undefined,
  };
  assertTlsServerSettings(settings); // the rules the config schema applies, before the device is opened
  return settings;
}
