import { clientKinds } from '../profile/windows-rules.js';
import { AUTH_KINDS } from '../profile/auth-kinds.js';
import type { Profile } from '../profile/schema.js';

/**
 * pppd lines for the fields Windows peers brought in: which authentication kinds a client refuses,
 * which secrets files the kinds need, MPPE, and the server's gateway (DNS, proxy ARP, NAT).
 * Everything here is built from schema-checked enums, booleans and IPv4 addresses only.
 */

/** Client with `auth.accept`: refuse every other kind (and EAP, which laplink never configures). */
export function refuseLines(p: Profile): string[] {
  if (p.role !== 'client' || !p.auth.accept) return [];
  const refused = AUTH_KINDS.filter((k) => !p.auth.accept!.includes(k));
  return ['# authenticate only with ' + [...new Set(p.auth.accept)].join(', '), ...refused.map((k) => `refuse-${k}`), 'refuse-eap'];
}

/** pap-secrets and/or chap-secrets: pppd reads chap-secrets for CHAP, MS-CHAP and MS-CHAP v2 alike. */
export function secretsKinds(p: Profile): Array<'pap' | 'chap'> {
  const kinds = p.role === 'server' ? [p.auth.require] : clientKinds(p.auth);
  const out: Array<'pap' | 'chap'> = [];
  if (kinds.includes('pap')) out.push('pap');
  if (kinds.some((k) => k !== 'pap' && k !== 'none')) out.push('chap');
  // a client told require: none still has a user to send: pap-secrets, as before
  return out.length ? out : ['pap'];
}

/** The pppd 2.4.9 option requiring MPPE (ccp.c): there is no "if offered" mode in this pppd. */
export function mppeOption(p: Profile): string | undefined {
  switch (p.encrypt) {
    case 'mppe': return 'require-mppe';
    case 'mppe-40': return 'require-mppe-40';
    case 'mppe-128': return 'require-mppe-128';
    default: return undefined;
  }
}

export interface GatewaySettings {
  uplink: string;
  dns: 'host' | 'none' | string[];
  proxyArp: boolean;
}

/** `gateway:`, or the old `masquerade: { outInterface }` read as gateway through that interface without DNS. */
export function gatewayOf(p: Profile): GatewaySettings | undefined {
  if (p.role !== 'server') return undefined;
  if (p.gateway) return p.gateway;
  if (p.masquerade) return { uplink: p.masquerade.outInterface, dns: 'none', proxyArp: false };
  return undefined;
}

/** Peers-file lines of the gateway: ms-dns per resolver, proxyarp. */
export function gatewayLines(p: Profile, hostResolvers: () => string[]): string[] {
  const g = gatewayOf(p);
  if (!g || !p.gateway) return [];
  const dns = g.dns === 'none' ? [] : g.dns === 'host' ? hostResolvers() : g.dns;
  const lines: string[] = [];
  if (dns.length) lines.push('# DNS servers handed to the peer over IPCP', ...dns.map((ip) => `ms-dns ${ip}`));
  if (g.proxyArp) lines.push('# answer ARP on the LAN for the peer', 'proxyarp');
  return lines;
}
