/**
 * Whether the server a TLS client just met is the one wanted: a pure function of what the handshake
 * showed, shared by both dialers (Node's TLS in dial.ts, OpenSSL on the addon's thread in
 * native-dialer.ts) so that they decide alike and refuse in the same words.
 * Without pins the chain must verify (CA file or the system's CAs) and the certificate carry the
 * server name; with pins the public key decides (a self-signed certificate is then fine, as with
 * ssh's known hosts), the dates must hold, and with a CA file as well the chain and name must too.
 */
import type { PeerCertificate } from 'node:tls';
import { dialFailure, SERVER } from './dial-failure.js';
import { peerIdentity } from './identity.js';

export interface ServerPolicy {
  /** `sha256:` fingerprints accepted; none: the chain and the name decide. */
  pins: readonly string[];
  /** A CA file was given: with pins, its verdict counts as well. */
  verifiesChain: boolean;
}

/** Why the chain or the name did not hold, as Node's TLS reports it. */
export interface ServerVerifyError {
  /** The X509_V_ERR_ name without its prefix (`CERT_HAS_EXPIRED`), or `ERR_TLS_CERT_ALTNAME_INVALID`. */
  code: string;
  /** OpenSSL's text for the chain (`certificate has expired`), Node's for the name. */
  message: string;
}

export interface ServerFacts {
  cert: PeerCertificate | undefined;
  /** Undefined when the chain verified and the certificate carries the name. */
  verifyError: ServerVerifyError | undefined;
  now: Date;
}

/** Why this server must not have the session, or undefined when it is the one wanted. */
export function serverRefusal(policy: ServerPolicy, facts: ServerFacts): string | undefined {
  // Not pinned: in the words Node's TLS client gives the same verdict (an 'error' event, dialFailure).
  if (!policy.pins.length) return facts.verifyError && dialFailure(facts.verifyError, SERVER);
  const id = peerIdentity(facts.cert);
  if (!id || !facts.cert) return 'server sent no certificate';
  if (!policy.pins.includes(id.fingerprint)) return `server certificate ${id.fingerprint} is not pinned (--tls-pin)`;
  if (facts.now < new Date(facts.cert.valid_from)) return `server certificate not valid before ${new Date(facts.cert.valid_from).toISOString()}`;
  if (facts.now > new Date(facts.cert.valid_to)) return `server certificate expired ${new Date(facts.cert.valid_to).toISOString()}`;
  if (policy.verifiesChain && facts.verifyError) return `server certificate: ${facts.verifyError.code}`;
  return undefined;
}
