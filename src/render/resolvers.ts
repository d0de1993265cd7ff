import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

/**
 * This machine's DNS servers, for `gateway.dns: host` (pppd `ms-dns`). A peer behind the cable
 * cannot reach a resolver on this machine's loopback, so a local stub (systemd-resolved's
 * 127.0.0.53, or any 127.x/::1 entry) is replaced by the upstream servers systemd-resolved lists in
 * its own file. ms-dns carries IPv4 only, and Windows takes a primary and a secondary: at most two.
 */
export interface ResolverFiles {
  resolvConf: string;
  /** systemd-resolved's list of upstream servers (what the stub forwards to). */
  upstreamResolvConf: string;
}

export const DEFAULT_RESOLVER_FILES: ResolverFiles = {
  resolvConf: '/etc/resolv.conf',
  upstreamResolvConf: '/run/systemd/resolve/resolv.conf',
};

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const MAX_RESOLV_BYTES = 64 * 1024;

/** `nameserver` addresses of a resolv.conf text, in order (resolv.conf(5): keyword, whitespace, address). */
export function nameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

const isLoopback = (addr: string) => /^127\./.test(addr) || addr === '::1';

function readText(path: string): string | undefined {
  try {
    // bounded: a resolv.conf is a few lines; anything larger is not one
    return readFileSync(path, 'utf8').slice(0, MAX_RESOLV_BYTES);
  } catch {
    return undefined;
  }
}

/** The IPv4 resolvers to hand out, or a UsageError naming the field and what to write instead. */
export function readHostResolvers(files: ResolverFiles = DEFAULT_RESOLVER_FILES): string[] {
  const text = readText(files.resolvConf);
  if (text === undefined) throw new UsageError(`gateway.dns: host, but ${files.resolvConf} cannot be read (allowed: dns: [one or two IPv4 addresses], or none)`);
  let servers = nameservers(text);
  if (servers.some(isLoopback)) {
    const upstream = readText(files.upstreamResolvConf);
    const remote = servers.filter((s) => !isLoopback(s));
    servers = [...remote, ...(upstream ? nameservers(upstream).filter((s) => !isLoopback(s)) : [])];
  }
  const usable = [...new Set(servers.filter((s) => IPV4.test(s)))].slice(0, 2);
  if (usable.length === 0) {
    throw new UsageError(`gateway.dns: host, but ${files.resolvConf} names no IPv4 resolver the peer can reach (only a local stub, and no upstream in ${files.upstreamResolvConf}) (allowed: dns: [one or two IPv4 addresses], or none)`);
  }
  return usable;
}
