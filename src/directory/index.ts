export { Directory } from './directory.js';
export type { Principal, PrincipalKind } from './types.js';
export { isManagedIdentity } from './types.js';
