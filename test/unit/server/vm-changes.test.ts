import { describe, expect, it } from 'vitest';
import { isVmKey, mayChangeVms } from '../../../src/server/vm-changes.js';

const rg = '/subscriptions/3f4e0000-0000-4000-8000-000000000001/resourceGroups/app-rg';

describe('which changes can bind or unbind a VM\'s IMDS listener', () => {
  it('an ARM mutation of a VM, a group or a subscription can; one under another provider cannot', () => {
    expect(mayChangeVms(`${rg}/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2024-03-01`)).toBe(true);
    expect(mayChangeVms(`${rg}/providers/microsoft.compute/VIRTUALMACHINES/vm1`)).toBe(true);
    // Deleting a group or moving resources out of it takes VMs with it.
    expect(mayChangeVms(`${rg}?api-version=2021-04-01`)).toBe(true);
    expect(mayChangeVms(`${rg}/moveResources?api-version=2021-04-01`)).toBe(true);
    expect(mayChangeVms('/subscriptions/3f4e0000-0000-4000-8000-000000000001')).toBe(true);
    // An identity's tags, a role assignment, a vault, listKeys: the soak's writes, none of them a VM.
    expect(mayChangeVms(`${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1?api-version=2023-01-31`)).toBe(false);
    expect(mayChangeVms(`${rg}/providers/Microsoft.Authorization/roleAssignments/6b0e0000-0000-4000-8000-000000000001`)).toBe(false);
    expect(mayChangeVms(`${rg}/providers/Microsoft.Storage/storageAccounts/acct/listKeys?api-version=2023-05-01`)).toBe(false);
    // A query string naming a VM does not make the path one.
    expect(mayChangeVms(`${rg}/providers/Microsoft.KeyVault/vaults/kv?x=/providers/microsoft.compute/virtualmachines/`)).toBe(false);
  });

  it('a VM\'s resource key, or its child\'s, is a VM key; others are not', () => {
    const vm = `${rg}/providers/microsoft.compute/virtualmachines/vm1`.toLowerCase();
    expect(isVmKey(vm)).toBe(true);
    expect(isVmKey(`${vm}/extensions/ext`)).toBe(true);
    expect(isVmKey(rg.toLowerCase())).toBe(false);
    expect(isVmKey(`${rg}/providers/microsoft.managedidentity/userassignedidentities/id1`.toLowerCase())).toBe(false);
  });
});
