import { noFederatedRecord, noRecordForAudience, noRecordForIssuer, noRecordForSubject } from './errors.js';
import type { FicRecord } from './fic-rules.js';

export interface PresentedClaims {
  iss: string;
  sub: string;
  aud: string[];
}

/**
 * Finds the credential an external token matches: issuer and subject equal exactly (Entra made matching
 * case-sensitive in 2025), and the credential's audience among the token's `aud`. When nothing matches, the
 * error names the first field that no credential agrees with, as Entra's 700211/700213/700212 do.
 */
export function matchFederatedCredential(fics: readonly FicRecord[], claims: PresentedClaims): FicRecord {
  if (fics.length === 0) throw noFederatedRecord(claims.iss, claims.sub, claims.aud);
  const byIssuer = fics.filter((f) => f.properties.issuer === claims.iss);
  if (byIssuer.length === 0) throw noRecordForIssuer(claims.iss);
  const bySubject = byIssuer.filter((f) => f.properties.subject === claims.sub);
  if (bySubject.length === 0) throw noRecordForSubject(claims.sub);
  const match = bySubject.find((f) => claims.aud.includes(f.properties.audiences[0]));
  if (!match) throw noRecordForAudience(claims.aud);
  return match;
}
