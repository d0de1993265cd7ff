/**
 * Whether a client that finished its handshake may have a session: a pure function of what the
 * handshake showed (its certificate, OpenSSL's verdict against the CA) and the port's policy. The
 * handshake itself accepts every certificate so that a refusal can say why, in one log line.
 */
import type { PeerCertificate } from 'node:tls';
import { matchesPattern, peerIdentity, type PeerIdentity, type PeerPattern } from './identity.js';
import type { ClientCertPolicy } from './settings.js';

export interface PeerPolicy {
  clientCert: ClientCertPolicy;
  /** A CA was given: OpenSSL's chain verdict counts. */
  verifiesChain: boolean;
  allow: PeerPattern[];
}

export interface HandshakeFacts {
  cert: PeerCertificate | undefined;
  /** OpenSSL's verification error code (e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`), undefined when it verified. */
  chainError: string | undefined;
  now: Date;
}

export type PeerVerdict = { ok: true; identity: PeerIdentity | undefined } | { ok: false; reason: string };

const CHAIN_ERRORS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate not signed by the CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate not signed by the CA',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate not signed by the CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate not signed by the CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'certificate chain ends in a CA not trusted here',
  CERT_SIGNATURE_FAILURE: 'certificate signature does not verify',
  CERT_REVOKED: 'certificate revoked',
  INVALID_CA: 'certificate issued by something that is not a CA',
};

/** The refusal of a client that showed none where one is required (said by checkPeer, or by OpenSSL in native TLS). */
export const NO_CLIENT_CERTIFICATE = 'no client certificate';

export function checkPeer(policy: PeerPolicy, facts: HandshakeFacts): PeerVerdict {
  const identity = peerIdentity(facts.cert);
  if (!identity || !facts.cert) {
    return policy.clientCert === 'required' ? { ok: false, reason: NO_CLIENT_CERTIFICATE } : { ok: true, identity: undefined };
  }
  // Dates first, whatever else is wrong, so an expired certificate is always called that.
  const from = new Date(facts.cert.valid_from);
  const to = new Date(facts.cert.valid_to);
  const who = `client certificate ${describeShort(identity)}`;
  if (facts.now < from) return { ok: false, reason: `${who} not valid before ${from.toISOString()}` };
  if (facts.now > to) return { ok: false, reason: `${who} expired ${to.toISOString()}` };
  if (policy.verifiesChain && facts.chainError) {
    const why = CHAIN_ERRORS[facts.chainError] ?? facts.chainError.toLowerCase().replace(/_/g, ' ');
    return { ok: false, reason: `${who}: ${why}` };
  }
  if (policy.allow.length && !policy.allow.some((p) => matchesPattern(identity, p))) return { ok: false, reason: `${who} not on the allow list` };
  return { ok: true, identity };
}

function describeShort(id: PeerIdentity): string {
  return id.cn ? `CN=${id.cn} ${id.fingerprint}` : id.fingerprint;
}
