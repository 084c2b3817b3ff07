export {
  SigningKeys,
  thumbprint,
  type ActiveKey,
  type KeyState,
  type LoadedKey,
  type PublicJwk,
  type Sealer,
  type SigningKeyRecord,
  type SigningKeyRepository,
  type SigningKeysOptions,
} from './keys.js';
export {
  authContextClassRef,
  type ClientAuthMethod,
  type IssueRequest,
  type TokenKind,
} from './claims.js';
export { TokenIssuer, type IssuedToken, type TokenIssuerOptions } from './issue.js';
export {
  MAX_TOKEN_CHARS,
  TokenVerifier,
  normalizeAudience,
  type TokenClaims,
  type TokenVerifierOptions,
  type VerifiedToken,
  type VerifierStats,
  type VerifyPolicy,
} from './verify.js';
export { INVALID_TOKEN_CODE, type TokenFailureReason } from './errors.js';
export {
  adfsConfiguration,
  instanceDiscovery,
  jwksDocument,
  openIdConfigurationV1,
  openIdConfigurationV2,
  type AdfsDiscoveryOptions,
  type DiscoveryOptions,
  type InstanceDiscoveryOptions,
  type JwksDocumentOptions,
} from './discovery.js';
