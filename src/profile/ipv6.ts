import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/**
 * IPv6 over the link: IPV6CP with interface identifiers, and an optional /64 (ULA or global) whose
 * addresses PREFIX::localId / PREFIX::remoteId the two ends put on the interface. Values land in
 * pppd's options (`ipv6 ::1,::2`) and in a shell script root runs (ipv6-up.d), so only hex digits and
 * colons pass, and every value is parsed, not pattern-matched.
 */

/** Only hex digits and colons: no zone (`%eth0`), no embedded IPv4, nothing a shell or pppd reads specially. */
const HEX_COLON = /^[0-9A-Fa-f:]+$/;

/** The eight 16-bit groups of an IPv6 address in plain hex-and-colon form, or undefined. */
export function ipv6Groups(text: string): number[] | undefined {
  if (!HEX_COLON.test(text) || !ipaddr.IPv6.isValid(text)) return undefined;
  return ipaddr.IPv6.parse(text).parts;
}

/** Canonical text of eight groups (RFC 5952: lowercase, the longest run of zero groups as ::). */
export function formatIpv6(groups: readonly number[]): string {
  return new ipaddr.IPv6([...groups]).toRFC5952String();
}

/** An interface identifier written as an address with only its low 64 bits set (`::1`, `::a:b:c:d`). */
export const interfaceId = z
  .string()
  .refine((s) => {
    const g = ipv6Groups(s);
    return !!g && g.slice(0, 4).every((x) => x === 0) && g.slice(4).some((x) => x !== 0);
  }, 'not a 64-bit interface identifier (allowed: ::1 up to ::ffff:ffff:ffff:ffff, hex digits and colons only, not ::)');

/** `ADDRESS/LEN` split into the address's groups and the length as written (1 to 3 digits), or undefined. */
function splitPrefix(s: string): { groups: number[]; len: string } | undefined {
  const [addr, len, ...rest] = s.split('/');
  const groups = addr === undefined ? undefined : ipv6Groups(addr);
  return groups && !rest.length && /^\d{1,3}$/.test(len ?? '') ? { groups, len: len! } : undefined;
}

/** fc00::/7, by the first group. */
const uniqueLocalGroup = (first: number) => (first & 0xfe00) === 0xfc00;
/** Unique local or global unicast (2000::/3): the only prefixes a link may carry or route. */
const linkScopeGroup = (first: number) => uniqueLocalGroup(first) || (first & 0xe000) === 0x2000;
const SCOPE = 'neither unique local (fc00::/7) nor global unicast (2000::/3)';

/** A /64 that is unique local (fc00::/7) or global unicast (2000::/3), host bits zero. */
export const linkPrefix = z.string().superRefine((s, ctx) => {
  const bad = (message: string) => ctx.addIssue({ code: 'custom', message });
  const p = splitPrefix(s);
  if (!p) return bad('not an IPv6 prefix (allowed: e.g. fd00:7::/64)');
  if (p.len !== '64') return bad('the link prefix must be a /64 (allowed: e.g. fd00:7::/64)');
  if (p.groups.slice(4).some((x) => x !== 0)) return bad('host bits set after the /64 (allowed: e.g. fd00:7::/64)');
  if (!linkScopeGroup(p.groups[0]!)) bad(`${SCOPE} (allowed: e.g. fd00:7::/64 or 2001:db8:7::/64)`);
});

/**
 * A prefix routed to the peer through the link (the network behind it: its LAN, or a /56 your ISP
 * delegated): unique local or global, /16 to /64, host bits zero.
 */
export const routedPrefix = z.string().superRefine((s, ctx) => {
  const bad = (message: string) => ctx.addIssue({ code: 'custom', message });
  const p = splitPrefix(s);
  if (!p) return bad('not an IPv6 prefix (allowed: e.g. fd00:77::/64 or 2001:db8:100::/56)');
  const bits = Number(p.len);
  if (bits < 16 || bits > 64) return bad('the routed prefix must be /16 to /64 (allowed: e.g. fd00:77::/64 or 2001:db8:100::/56)');
  const hostBitsSet = p.groups.some((group, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    return (group & (0xffff >> keep)) !== 0;
  });
  if (hostBitsSet) return bad(`host bits set after the /${bits} (allowed: e.g. fd00:77::/64)`);
  if (!linkScopeGroup(p.groups[0]!)) bad(`${SCOPE} (allowed: e.g. fd00:77::/64)`);
});

/** Canonical text of a prefix (`FD00:77:0::/64` → `fd00:77::/64`). */
export function formatPrefix(prefix: string): string {
  const [addr, len] = prefix.split('/');
  return `${formatIpv6(ipv6Groups(addr!)!)}/${len}`;
}

/** True when `prefix` lies in unique local space (fc00::/7): reaching the internet from it needs NAT66. */
export function isUniqueLocal(prefix: string): boolean {
  return uniqueLocalGroup(ipv6Groups(prefix.split('/')[0]!)![0]!);
}

export const ipv6Link = z
  .object({
    localId: interfaceId.optional().describe('interface identifier of this end (fe80::ID); omit: pppd picks one'),
    remoteId: interfaceId.optional().describe('interface identifier given to the other end'),
    prefix: linkPrefix.optional().describe('a /64 for the link: this end gets PREFIX::localId (needs both identifiers)'),
    routedPrefix: routedPrefix.optional().describe('a prefix routed to the peer through the link (the network behind it), e.g. fd00:77::/64'),
  })
  .strict()
  .superRefine((v, ctx) => {
    const bad = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (v.localId && v.remoteId && formatIpv6(ipv6Groups(v.localId)!) === formatIpv6(ipv6Groups(v.remoteId)!)) bad('remoteId', 'must differ from localId (allowed: e.g. ::1 and ::2)');
    if (v.prefix && !v.localId) bad('localId', 'required with prefix: this end\'s address is PREFIX::localId (allowed: e.g. ::1)');
    if (v.prefix && !v.remoteId) bad('remoteId', 'required with prefix: the peer\'s address is PREFIX::remoteId (allowed: e.g. ::2)');
  });

export type Ipv6Link = z.infer<typeof ipv6Link>;

/** The address an end with identifier `id` has on `prefix` (a /64): PREFIX::ID. */
export function addressOn(prefix: string, id: string): string {
  const p = ipv6Groups(prefix.split('/')[0]!)!;
  const i = ipv6Groups(id)!;
  return formatIpv6([...p.slice(0, 4), ...i.slice(4)]);
}

/** pppd's `ipv6 LOCAL,REMOTE` argument (either side may be empty), canonical, or undefined. */
export function ipv6IdsOption(v: Ipv6Link): string | undefined {
  if (!v.localId && !v.remoteId) return undefined;
  const canon = (s: string | undefined) => (s ? formatIpv6(ipv6Groups(s)!) : '');
  return `${canon(v.localId)},${canon(v.remoteId)}`;
}
