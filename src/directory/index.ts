export { Directory } from './directory.js';
export type { CertificateCredential, Principal, PrincipalKind } from './types.js';
export { isManagedIdentity } from './types.js';
