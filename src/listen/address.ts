/**
 * HOST:PORT, the one way every bridge address is read: listen addresses (`[HOST:]PORT`, host
 * defaulting to loopback, port 0 picking a free one), remote targets (`HOST:PORT`, port 1-65535) and
 * the control port of `status --watch`. IPv6 hosts are written in brackets (`[::1]:4001`).
 */
import { UsageError } from '../errors.js';

export interface HostPort {
  host: string;
  port: number;
}

/** The problem with an address text, without the field name (callers put `--listen: ` and the like first). */
export class AddressError extends UsageError {}

/** Loopback unless told otherwise: a bridge port is reachable from the network only on request. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';

/** `[HOST:]PORT` for listening; a bare number is a port (YAML reads `listen: 4001` as one). */
export function parseListenAddress(text: string | number): HostPort {
  const t = String(text);
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(t) ?? /^()()(\d+)$/.exec(t);
  if (!m) throw new AddressError(`"${t}" is not [HOST:]PORT`);
  return { host: m[1] || m[2] || DEFAULT_LISTEN_HOST, port: checkedPort(m[3]!, 0) };
}

/** `HOST:PORT` of a remote end: the host is required and port 0 means nothing there. */
export function parseTargetAddress(text: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(text);
  if (!m) throw new AddressError(`"${text}" is not HOST:PORT`);
  return { host: m[1] || m[2]!, port: checkedPort(m[3]!, 1) };
}

function checkedPort(digits: string, min: number): number {
  const port = Number(digits);
  if (digits.length > 5 || port < min || port > 65535) throw new AddressError(`port ${digits} is out of range ${min}-65535`);
  return port;
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatAddress(a: HostPort): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** A listener on these hosts is reachable from this machine only; anything else needs TLS or a login. */
export function isLoopbackHost(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || host === 'localhost';
}
