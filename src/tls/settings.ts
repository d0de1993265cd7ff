/**
 * What a TLS port or client is told, as plain data: the same fields come from a `bridge run` port's
 * `tls:` block, from `--tls-*` flags, and from a profile's `bridge:` line. `tlsServerProblems` holds
 * the rules no single field can check; the config schema reports them at the field, the CLI as a
 * usage error, so both say the same words.
 */
import { UsageError } from '../errors.js';
import { CLIENT_CERT_POLICIES } from '../bridge/port-options.js';
import { parsePeerPattern } from './identity.js';

export { CLIENT_CERT_POLICIES };
export type ClientCertPolicy = (typeof CLIENT_CERT_POLICIES)[number];

export interface TlsServerSettings {
  cert: string;
  key: string;
  /** CA certificates (PEM) that sign acceptable client certificates. */
  ca?: string;
  /** Default: `required` when a CA or an allow-list is given, else `none`. */
  clientCert?: ClientCertPolicy;
  /** Clients accepted, by public-key fingerprint or CN=NAME (CN only with a CA). Empty: any the CA signed. */
  allow?: string[];
}

export interface TlsClientSettings {
  /** Our certificate and key, for ports that ask for one. */
  cert?: string;
  key?: string;
  /** CAs that sign the server's certificate (default: the system's store, unless pinned). */
  ca?: string;
  /** Name checked against the server's certificate and sent as SNI (default: the host). */
  serverName?: string;
  /** Server public-key fingerprints accepted; when given, a self-signed server certificate is fine. */
  pin?: string[];
}

export function clientCertPolicy(s: TlsServerSettings): ClientCertPolicy {
  return s.clientCert ?? (s.ca || s.allow?.length ? 'required' : 'none');
}

export interface TlsProblem {
  /** The field to change, relative to the `tls:` block. */
  field: 'clientCert' | 'allow' | 'key';
  message: string;
}

export function tlsServerProblems(s: TlsServerSettings): TlsProblem[] {
  const problems: TlsProblem[] = [];
  const policy = clientCertPolicy(s);
  const allow = s.allow ?? [];
  if (policy !== 'none' && !s.ca && !allow.length)
    problems.push({ field: 'clientCert', message: `client certificates ${policy} but nothing to check them against (allowed: a ca file, an allow list of fingerprints, or none)` });
  if (policy === 'none' && allow.length) problems.push({ field: 'allow', message: 'an allow list needs client certificates (allowed: clientCert required or optional)' });
  allow.forEach((entry) => {
    try {
      const p = parsePeerPattern(entry, 'allow');
      // Anyone can write any name into a self-signed certificate: a name means something only
      // when a CA we trust vouches for it.
      if (p.kind === 'cn' && !s.ca) problems.push({ field: 'allow', message: `${entry}: a CN=NAME entry needs a ca file (allowed without one: sha256 fingerprints)` });
    } catch (err) {
      problems.push({ field: 'allow', message: (err as Error).message.replace(/^allow: /, '') });
    }
  });
  if (!!s.cert !== !!s.key) problems.push({ field: 'key', message: 'give both a certificate and its key' });
  return problems;
}

export function tlsClientProblems(s: TlsClientSettings): string[] {
  const problems: string[] = [];
  if (!!s.cert !== !!s.key) problems.push('--tls-cert and --tls-key go together');
  for (const p of s.pin ?? []) {
    try {
      if (parsePeerPattern(p, '--tls-pin').kind === 'cn') problems.push(`--tls-pin: ${p}: a pin is a fingerprint (use --tls-server-name for a name)`);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}

/** For the CLI: the first problem as a usage error, with the flag it came from. */
export function assertTlsServerSettings(s: TlsServerSettings): void {
  const flag = { clientCert: '--tls-client-cert', allow: '--tls-allow', key: '--tls-key' } as const;
  const [p] = tlsServerProblems(s);
  if (p) throw new UsageError(`${flag[p.field]}: ${p.message.replace('a ca file', '--tls-ca').replace('clientCert', '--tls-client-cert')}`);
}
