export { SignInService, type IssuedAccessToken, type ManagedIdentityRequest, type IdentitySelector, type SelectionRules, type SignInEvent, type Issuer } from './service.js';
export { AudienceCatalog, normalizeAudience, scopeToResource } from './audiences.js';
export { aadsts, identityNotFound, resourceNotFoundInTenant } from './errors.js';
