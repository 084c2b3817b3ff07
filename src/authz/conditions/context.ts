/**
 * What a condition is evaluated against. Attribute bags are keyed by the full attribute name as it appears between
 * the brackets, e.g. `request['Microsoft.Authorization/roleAssignments:RoleDefinitionId']`; lookup ignores case
 * (see attributes.ts for tag keys). Values: string | string[] | number | boolean | Date (arrays of those too).
 */
export interface ConditionContext {
  /** The action being checked, e.g. 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'. */
  action: string;
  /** e.g. 'Blob.List'; absent for operations without a suboperation. */
  subOperation?: string;
  /** @Request[...] attributes. */
  request?: Record<string, unknown>;
  /** @Resource[...] attributes. */
  resource?: Record<string, unknown>;
  /** @Principal[...] attributes (Entra custom security attributes). */
  principal?: Record<string, unknown>;
  /** @Environment[...] attributes (UtcNow, isPrivateLink, Microsoft.Network/privateEndpoints, …). */
  environment?: Record<string, unknown>;
}
