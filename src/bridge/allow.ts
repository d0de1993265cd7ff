/** Client address allow-list from CIDR blocks or single addresses (ser2net's tcp wrappers role). */
import ipaddr from 'ipaddr.js';
import { UsageError } from '../errors.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

export class AllowList {
  private readonly ranges: Range[];

  constructor(entries: string[]) {
    this.ranges = entries.map((e) => parseEntry(e));
  }

  allows(address: string): boolean {
    if (!ipaddr.isValid(address)) return false;
    let a = ipaddr.parse(address);
    if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
    return this.ranges.some(([net, bits]) => net.kind() === a.kind() && a.match([net, bits] as never));
  }
}

function parseEntry(entry: string): Range {
  try {
    if (entry.includes('/')) return ipaddr.parseCIDR(entry) as Range;
    const a = ipaddr.parse(entry);
    return [a, a.kind() === 'ipv4' ? 32 : 128];
  } catch {
    throw new UsageError(`--allow: "${entry}" is not an IP address or CIDR block`);
  }
}
