import type { EnvironmentSpec } from './spec.js';

export interface ArmClient {
  arm(method: string, pathAndQuery: string, body?: unknown): Promise<any>;
}

export interface ApplyResult {
  operations: { method: string; id: string }[];
}

const API = { group: '2021-04-01', identity: '2023-01-31', vm: '2024-07-01' };

/**
 * Brings ARM to the spec with PUTs — the same calls a user's own tooling would make, so the seed goes
 * through authentication, authorization and validation like everything else. PUT is idempotent: applying
 * the same file twice changes nothing (identities keep their principal ids).
 */
export async function applyEnvironment(client: ArmClient, subscriptionId: string, spec: EnvironmentSpec): Promise<ApplyResult> {
  const operations: ApplyResult['operations'] = [];
  const put = async (id: string, apiVersion: string, body: unknown) => {
    await client.arm('PUT', `${id}?api-version=${apiVersion}`, body);
    operations.push({ method: 'PUT', id });
  };
  for (const g of spec.resourceGroups) {
    const groupId = `/subscriptions/${subscriptionId}/resourceGroups/${g.name}`;
    await put(groupId, API.group, { location: g.location, ...(g.tags ? { tags: g.tags } : {}) });
    for (const i of g.userAssignedIdentities) {
      await put(`${groupId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.name}`, API.identity, { location: i.location, ...(i.tags ? { tags: i.tags } : {}) });
    }
  }
  for (const g of spec.resourceGroups) {
    const groupId = `/subscriptions/${subscriptionId}/resourceGroups/${g.name}`;
    for (const vm of g.virtualMachines) {
      const ids = vm.userAssigned.map((u) => (u.startsWith('/') ? u : `${groupId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${u}`));
      const type = [vm.systemAssigned ? 'SystemAssigned' : '', ids.length ? 'UserAssigned' : ''].filter(Boolean).join(', ') || 'None';
      await put(`${groupId}/providers/Microsoft.Compute/virtualMachines/${vm.name}`, API.vm, {
        location: vm.location,
        ...(vm.tags ? { tags: vm.tags } : {}),
        identity: { type, ...(ids.length ? { userAssignedIdentities: Object.fromEntries(ids.map((id) => [id, {}])) } : {}) },
        properties: { hardwareProfile: { vmSize: 'Standard_B1s' } },
      });
    }
  }
  return { operations };
}
