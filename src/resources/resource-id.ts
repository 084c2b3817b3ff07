/** Facts derived from an ARM resource id, with ARM's case-insensitive comparison key. */
export interface ResourceIdParts {
  key: string;
  subscriptionId: string;
  groupKey: string | null;
  resourceGroup: string | null;
  /** e.g. Microsoft.Compute/virtualMachines or Microsoft.Storage/storageAccounts/blobServices/containers */
  type: string;
  typeKey: string;
  name: string;
  parentId: string | null;
}

/**
 * Parses `/subscriptions/{s}/resourceGroups/{g}/providers/{ns}/{type}/{name}[/{type}/{name}]…`, plus the
 * resource group id itself. Returns undefined for anything else (the router answers those).
 */
export function parseResourceId(id: string): ResourceIdParts | undefined {
  const seg = id.split('/');
  if (seg[0] !== '' || seg[1]?.toLowerCase() !== 'subscriptions' || !seg[2]) return undefined;
  const subscriptionId = seg[2].toLowerCase();
  if (seg[3]?.toLowerCase() !== 'resourcegroups' || !seg[4]) return undefined;
  const resourceGroup = seg[4];
  if (seg.length === 5) {
    return {
      key: id.toLowerCase(),
      subscriptionId,
      groupKey: resourceGroup.toLowerCase(),
      resourceGroup,
      type: 'Microsoft.Resources/resourceGroups',
      typeKey: 'microsoft.resources/resourcegroups',
      name: resourceGroup,
      parentId: null,
    };
  }
  if (seg[5]?.toLowerCase() !== 'providers' || !seg[6]) return undefined;
  const rest = seg.slice(7);
  if (rest.length < 2 || rest.length % 2 !== 0 || rest.some((s) => s === '')) return undefined;
  const types: string[] = [];
  for (let i = 0; i < rest.length; i += 2) types.push(rest[i]!);
  const type = `${seg[6]}/${types.join('/')}`;
  const name = rest[rest.length - 1]!;
  const parentId = rest.length > 2 ? seg.slice(0, seg.length - 2).join('/') : null;
  return {
    key: id.toLowerCase(),
    subscriptionId,
    groupKey: resourceGroup.toLowerCase(),
    resourceGroup,
    type,
    typeKey: type.toLowerCase(),
    name,
    parentId,
  };
}

export const resourceGroupId = (subscriptionId: string, group: string): string =>
  `/subscriptions/${subscriptionId}/resourceGroups/${group}`;
