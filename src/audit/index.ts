export { AuditTrail, type AuditTrailOptions } from './trail.js';
export { auditOpsRoute, AUDIT_READ_ACTION, type AuditOpsDeps } from './ops-routes.js';
export { reviewAccess, narrowestScope, type AccessReview, type AccessReviewDeps, type IdentityReview, type ReviewIdentity, type VaultPolicies } from './access-review.js';
export { renderEventLine, renderReview } from './render.js';
export { parseDuration, parseTimeBound } from './time.js';
export { scrub, scrubText } from './scrub.js';
export type * from './types.js';
