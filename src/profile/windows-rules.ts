import type { AuthKind } from './auth-kinds.js';
import { isAddressRange } from '../callers/schema.js';

/**
 * Cross-field rules of the fields Windows peers brought in (MS-CHAP kinds, `auth.accept`, MPPE,
 * `gateway`, `usePeerDns`), each reported at the field the user must change. Kept apart from
 * schema.ts so that file stays the list of fields. schema.ts calls these rules, so they import
 * nothing from it: they say below which fields they read, and that call checks the profile has them.
 */

type Report = (path: PropertyKey[], message: string) => void;

/** A profile's `auth:` as these rules read it. */
interface AuthShape {
  require: AuthKind | 'none';
  accept?: AuthKind[] | undefined;
}

interface Shape {
  role: string;
  auth: AuthShape;
  encrypt: string;
  gateway?: object | undefined;
  masquerade?: { outInterface: string } | undefined;
  usePeerDns?: boolean | undefined;
  remoteIp: string;
}

const MS_CHAP: readonly AuthKind[] = ['mschap', 'mschap-v2'];
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** The kinds a client agrees to: `auth.accept`, or else the one it was told the server asks for. */
export function clientKinds(a: AuthShape): AuthKind[] {
  if (a.accept) return [...new Set(a.accept)];
  return a.require === 'none' ? [] : [a.require];
}

export function windowsFieldRules(p: Shape, bad: Report): void {
  const a = p.auth;
  if (p.role === 'server') {
    if (a.accept !== undefined) bad(['auth', 'accept'], 'is a client field (allowed on a server: require, login, users)');
    if (p.usePeerDns) bad(['usePeerDns'], 'is a client field (allowed on a server: gateway.dns hands DNS servers out)');
    if (p.gateway && p.masquerade) bad(['masquerade'], 'is the old spelling of gateway; give one of them (allowed: gateway: { uplink: ' + p.masquerade.outInterface + ' })');
    if (p.gateway && !IPV4.test(p.remoteIp) && !isAddressRange(p.remoteIp)) bad(['remoteIp'], 'gateway needs the peer as an address, not a name (allowed: e.g. 192.168.7.2)');
    if (p.encrypt !== 'none' && !MS_CHAP.includes(a.require as AuthKind)) {
      bad(['encrypt'], `MPPE keys come from MS-CHAP, but auth.require is ${a.require} (allowed: auth.require: mschap or mschap-v2 with encrypt, or encrypt: none)`);
    }
  } else {
    if (p.gateway) bad(['gateway'], 'only a server shares its internet (allowed on a client: defaultRoute, usePeerDns)');
    if (p.encrypt !== 'none') {
      const kinds = clientKinds(a);
      const other = kinds.filter((k) => !MS_CHAP.includes(k));
      if (kinds.length === 0 || other.length > 0) {
        bad(['encrypt'], `MPPE keys come from MS-CHAP, but this client would also authenticate with ${other.join(', ') || 'nothing'} (allowed: auth.accept: [mschap-v2] or [mschap, mschap-v2] with encrypt, or encrypt: none)`);
      }
    }
  }
}
