export { ResourceService, newEtag } from './service.js';
export { parseResourceId, resourceGroupId, type ResourceIdParts } from './resource-id.js';
export { desiredIdentity, parseIdentityType, identityTypeString, type DesiredIdentity } from './identity-property.js';
export type { ArmDocument, IdentityDocument, StoredResource, ResourceInternal } from './types.js';
