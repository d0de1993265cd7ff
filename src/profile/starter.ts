import { profileObject } from './schema.js';
import { PLACEHOLDER_PASSWORD } from './warnings.js';

export interface StarterOptions {
  role: 'server' | 'client';
  peer?: 'linux' | 'windows' | 'dialup';
}

type AnyDef = { type: string; defaultValue?: unknown; innerType?: { _zod: { def: AnyDef } }; shape?: Record<string, Field> };
type Field = { description?: string; _zod: { def: AnyDef } };

function unwrap(f: Field): AnyDef {
  let def = f._zod.def;
  while (def.innerType) def = def.innerType._zod.def;
  return def;
}

function defaultOf(f: Field): unknown {
  let def = f._zod.def;
  for (;;) {
    if (def.type === 'default') return def.defaultValue;
    if (!def.innerType) return undefined;
    def = def.innerType._zod.def;
  }
}

const yamlValue = (v: unknown): string => (typeof v === 'string' ? (/^[\w./:@-]+$/.test(v) ? v : JSON.stringify(v)) : JSON.stringify(v));

/** The values a newcomer most likely needs to change, per role (the HOWTO's addresses). */
function examples(o: StarterOptions): Record<string, string> {
  const server = o.role === 'server';
  return {
    // named for what it is, so two starters (a Windows client and a dial-up server) do not collide
    name: `${!o.peer || o.peer === 'linux' ? 'laplink' : o.peer}-${o.role}`,
    role: o.role,
    peer: o.peer ?? 'linux',
    device: '/dev/ttyS0',
    localIp: server ? '192.168.7.1' : '192.168.7.2',
    remoteIp: server ? '192.168.7.2' : '192.168.7.1',
    auth: server
      ? `auth:\n  require: pap\n  users:\n    - name: laplink\n      password: ${PLACEHOLDER_PASSWORD}\n      # ips: [192.168.7.2]`
      : `auth:\n  user: laplink\n  password: ${PLACEHOLDER_PASSWORD}\n  # passwordFile: /etc/laplink/secret`,
  };
}

const ROLE_ONLY: Record<string, 'server' | 'client'> = { defaultRoute: 'client', masquerade: 'server', persist: 'client', gateway: 'server', usePeerDns: 'client' };

/**
 * A commented starter profile: every field of the schema with its description; the ones a user
 * must look at are set, the rest are shown commented out with their defaults. Built from the
 * schema so the two cannot drift apart.
 */
export function starterProfile(o: StarterOptions): string {
  const ex = examples(o);
  const out = [
    `# ppp-laplink link profile (${o.role}${o.peer === 'windows' ? ', Windows peer' : o.peer === 'dialup' ? ', the peer dials: answered as a modem' : ''}).`,
    '# Edit, then: laplink check THIS_FILE && laplink generate THIS_FILE',
    '',
  ];
  const shape = (profileObject as unknown as { shape: Record<string, Field> }).shape;
  for (const [key, field] of Object.entries(shape)) {
    const only = ROLE_ONLY[key];
    if (only && only !== o.role) continue;
    const def = unwrap(field);
    const dflt = defaultOf(field);
    out.push(`# ${field.description ?? key}${dflt !== undefined && def.type !== 'object' ? ` (default: ${yamlValue(dflt)})` : ''}`);
    if (def.type === 'object' && def.shape) {
      for (const [sub, sf] of Object.entries(def.shape)) {
        const d = defaultOf(sf);
        out.push(`#   ${sub}: ${sf.description ?? ''}${d !== undefined ? ` (default: ${yamlValue(d)})` : ''}`);
      }
    }
    if (ex[key] !== undefined) out.push(ex[key]!.includes('\n') ? ex[key]! : `${key}: ${yamlValue(ex[key])}`);
    else if (key === 'bridge') out.push('# bridge: 127.0.0.1:4001');
    else if (key === 'listen') out.push('# listen: 0.0.0.0:2323   # with remoteIp: 192.168.7.10-192.168.7.40 (docs/callers.md)');
    else if (key === 'callers') out.push('# callers: { max: 8, protocol: modem, telnet: false }');
    else if (key === 'bridgeTls') out.push('# bridgeTls: { pin: [sha256:FINGERPRINT] }   # from laplink bridge keygen on the bridge host');
    else if (key === 'masquerade') out.push('# masquerade: { outInterface: eth0 }');
    else if (key === 'gateway') out.push('# gateway: { uplink: default, dns: host, proxyArp: false }');
    else if (key === 'hostnames') out.push(`# hostnames: { local: ${o.role}-end, remote: ${o.role === 'server' ? 'client' : 'server'}-end }`);
    else if (key === 'lcpEcho') out.push('# lcpEcho: { interval: 10, failures: 3 }');
    else if (key === 'ipv6') out.push(o.role === 'server' ? "# ipv6: { localId: '::1', remoteId: '::2', prefix: 'fd00:7::/64' }" : "# ipv6: { localId: '::2', remoteId: '::1', prefix: 'fd00:7::/64' }");
    else if (key === 'modem') out.push(o.peer === 'dialup' ? 'modem: { ring: false }   # connectSpeed: 33600 to report a 33.6k modem' : '# modem: { connectSpeed: 115200, ring: false }   # with peer: dialup');
    else if (key === 'mtu') out.push('# mtu: 1500');
    else if (key === 'idle') out.push('# idle: 600');
    else if (key === 'extraOptions') out.push('# extraOptions: [lcp-restart 1]');
    else if (dflt !== undefined) out.push(`# ${key}: ${yamlValue(dflt)}`);
    out.push('');
  }
  return out.join('\n');
}
