import type { Clock } from '../core/clock.js';
import { federatedBadSignature, federatedKeyNotFound, malformedAssertion, notInValidTimeRange, unsupportedAlgorithm } from './errors.js';
import { matchFederatedCredential } from './fic-matching.js';
import type { FicRecord } from './fic-rules.js';
import type { IssuerKeySource } from './issuer-keys.js';
import { audiences, numericClaim, stringClaim, verifySignature, type AssertionAlg, type DecodedJwt } from './jwt.js';

export const FEDERATED_ALGS: readonly AssertionAlg[] = ['RS256', 'PS256', 'ES256'];

export interface FederatedAssertionDeps {
  keys: IssuerKeySource;
  clock: Clock;
  /** Tolerated clock difference with the issuer, seconds. */
  skewSec: number;
}

/**
 * Workload identity federation: an external token stands in for a client secret. It is accepted when one of the
 * identity's federated credentials names its issuer, subject and audience, the issuer's published keys verify it,
 * and it is inside its validity window. Unlike certificate assertions, the same token may be exchanged many
 * times (the SDKs re-read the token file every few minutes and send whatever is there).
 */
export async function verifyFederatedAssertion(jwt: DecodedJwt, fics: readonly FicRecord[], deps: FederatedAssertionDeps): Promise<FicRecord> {
  const iss = stringClaim(jwt.payload, 'iss');
  const sub = stringClaim(jwt.payload, 'sub');
  const aud = audiences(jwt.payload);
  if (!iss || !sub || aud.length === 0) throw malformedAssertion('federated assertion lacks iss, sub or aud');
  const fic = matchFederatedCredential(fics, { iss, sub, aud });

  const alg = jwt.header['alg'];
  if (typeof alg !== 'string' || !(FEDERATED_ALGS as readonly string[]).includes(alg)) throw unsupportedAlgorithm(alg, FEDERATED_ALGS);
  if (jwt.header['crit'] !== undefined) throw malformedAssertion('crit header parameter is not supported');
  // jku/x5u/jwk/x5c would let the token choose its own key; only the issuer's published keys count.
  const kid = typeof jwt.header['kid'] === 'string' ? jwt.header['kid'] : typeof jwt.header['x5t'] === 'string' ? jwt.header['x5t'] : undefined;
  const keys = await deps.keys.keysFor(iss, kid);
  const candidates = kid === undefined ? keys : keys.filter((k) => k.kid === kid || k.x5t === kid);
  if (candidates.length === 0) throw federatedKeyNotFound(kid ?? '(none)', iss);
  if (!candidates.some((k) => verifySignature(jwt, alg as AssertionAlg, k.key))) throw federatedBadSignature();

  checkTimes(jwt, deps.clock.now(), deps.skewSec);
  return fic;
}

/** exp is required; nbf is honoured when present. Both with the skew allowance. */
export function checkTimes(jwt: DecodedJwt, nowMs: number, skewSec: number): { exp: number; nbf: number | undefined } {
  const exp = numericClaim(jwt.payload, 'exp');
  const nbf = numericClaim(jwt.payload, 'nbf');
  if (exp === undefined) throw malformedAssertion('assertion has no numeric exp');
  const now = nowMs / 1000;
  if (exp + skewSec <= now || (nbf !== undefined && nbf - skewSec > now)) throw notInValidTimeRange(nowMs, nbf, exp);
  return { exp, nbf };
}
