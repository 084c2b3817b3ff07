import { createPublicKey } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { CertificateCredential, Principal } from '../directory/index.js';
import {
  assertionReplayed,
  audienceMismatch,
  certificateBadSignature,
  certificateExpired,
  certificateNotRegistered,
  clientIdMismatch,
  malformedAssertion,
  notInValidTimeRange,
  unsupportedAlgorithm,
} from './errors.js';
import { checkTimes } from './federated-assertion.js';
import type { JtiReplayGuard } from './jti-guard.js';
import { audiences, stringClaim, verifySignature, type AssertionAlg, type DecodedJwt } from './jwt.js';
import type { TokenEndpointAudience } from './token-endpoint-audience.js';

/** msal-node signs RS256 with `x5t`, or PS256 with `x5t#S256` (protocols.md §2.8). */
export const CERTIFICATE_ALGS: readonly AssertionAlg[] = ['RS256', 'PS256'];

export interface CertificateAssertionDeps {
  clock: Clock;
  skewSec: number;
  /** Longest an assertion may still be valid when presented; msal makes them for 10 minutes. */
  maxRemainingLifetimeSec: number;
  audience: TokenEndpointAudience;
  jti: JtiReplayGuard;
  certificates(objectId: string): Promise<CertificateCredential[]>;
}

/**
 * An application authenticating with a certificate (RFC 7523 private_key_jwt as Entra does it): the assertion
 * names itself (`iss` = `sub` = client id), the token endpoint (`aud`), and the registered certificate that signed
 * it (`x5t` / `x5t#S256`).
 */
export async function verifyCertificateAssertion(
  jwt: DecodedJwt,
  assertion: string,
  app: Principal,
  tokenEndpoint: string,
  deps: CertificateAssertionDeps,
): Promise<CertificateCredential> {
  const iss = stringClaim(jwt.payload, 'iss');
  const sub = stringClaim(jwt.payload, 'sub');
  if (iss?.toLowerCase() !== app.appId || sub?.toLowerCase() !== app.appId) throw clientIdMismatch();
  if (!deps.audience.accepts(audiences(jwt.payload), tokenEndpoint)) throw audienceMismatch();

  const alg = jwt.header['alg'];
  if (typeof alg !== 'string' || !(CERTIFICATE_ALGS as readonly string[]).includes(alg)) throw unsupportedAlgorithm(alg, CERTIFICATE_ALGS);
  if (jwt.header['crit'] !== undefined) throw malformedAssertion('crit header parameter is not supported');

  const sha256 = thumbprintHeader(jwt.header['x5t#S256'], 32);
  const sha1 = thumbprintHeader(jwt.header['x5t'], 20);
  const registered = await deps.certificates(app.objectId);
  // Without a thumbprint header every registered certificate is a candidate (there are only ever a few).
  const named = jwt.header['x5t#S256'] !== undefined || jwt.header['x5t'] !== undefined;
  const candidates = registered.filter((c) => (sha256 ? c.thumbprintSha256 === sha256 : sha1 ? c.thumbprintSha1 === sha1 : !named));
  const shown = sha1 ?? sha256 ?? '';
  if (candidates.length === 0) throw certificateNotRegistered(shown, app.appId);

  const nowMs = deps.clock.now();
  const current = candidates.filter((c) => c.startAt <= nowMs && nowMs < c.endAt);
  if (current.length === 0) throw certificateExpired(shown, app.appId, candidates[0]!);
  const signer = current.find((c) => verifySignature(jwt, alg as AssertionAlg, createPublicKey(c.certPem)));
  if (!signer) throw certificateBadSignature(shown, app.appId, current[0]!);

  const { exp, nbf } = checkTimes(jwt, nowMs, deps.skewSec);
  if (exp - nowMs / 1000 > deps.maxRemainingLifetimeSec + deps.skewSec) throw notInValidTimeRange(nowMs, nbf, exp);
  const jti = stringClaim(jwt.payload, 'jti');
  if (!jti || jti.length > 256) throw malformedAssertion('certificate assertion has no usable jti');
  // Only after the signature verified, so the replay memory holds nothing an outsider chose.
  if (!deps.jti.admit(app.appId, jti, assertion, exp, deps.skewSec)) throw assertionReplayed();
  return signer;
}

/** A base64url thumbprint header → upper-case hex, or undefined when absent or not the expected digest size. */
function thumbprintHeader(v: unknown, bytes: number): string | undefined {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v)) return undefined;
  const raw = Buffer.from(v, 'base64url');
  return raw.length === bytes ? raw.toString('hex').toUpperCase() : undefined;
}
