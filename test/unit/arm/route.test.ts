import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseArmPath } from '../../../src/arm/route.js';

describe('ARM route parsing', () => {
  const S = '/subscriptions/s1';
  it.each([
    ['/subscriptions', 'GET', { kind: 'subscriptions' }],
    [S, 'GET', { kind: 'subscription', subscriptionId: 's1' }],
    [`${S}/resourcegroups`, 'GET', { kind: 'groups', subscriptionId: 's1' }],
    [`${S}/resourceGroups/g1`, 'PUT', { kind: 'group', subscriptionId: 's1', group: 'g1', id: `${S}/resourceGroups/g1` }],
    [`${S}/resourceGroups/g1/resources`, 'GET', { kind: 'genericResources', subscriptionId: 's1', group: 'g1' }],
    [`${S}/providers`, 'GET', { kind: 'providers', subscriptionId: 's1' }],
    ['//metadata/endpoints/', 'GET', { kind: 'metadataEndpoints' }],
  ])('%s', (path, method, expected) => {
    expect(parseArmPath(path, method)).toEqual(expected);
  });

  it('a resource, a collection, a child resource and a POST action', () => {
    const vm = parseArmPath(`${S}/resourceGroups/g1/providers/Microsoft.Compute/virtualMachines/vm1`, 'GET');
    expect(vm).toMatchObject({ kind: 'resource', type: 'Microsoft.Compute/virtualMachines', name: 'vm1', group: 'g1', subscriptionId: 's1', scope: `${S}/resourceGroups/g1` });
    const list = parseArmPath(`${S}/providers/Microsoft.Compute/virtualMachines`, 'GET');
    expect(list).toMatchObject({ kind: 'resource', name: undefined, group: undefined });
    const fic = parseArmPath(`${S}/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u/federatedIdentityCredentials/f`, 'PUT');
    expect(fic).toMatchObject({ type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials', name: 'f' });
    const keys = parseArmPath(`${S}/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a/listKeys`, 'POST');
    expect(keys).toMatchObject({ type: 'Microsoft.Storage/storageAccounts', name: 'a', action: 'listKeys' });
  });

  it('extension resources carry the scope they are attached to', () => {
    const vmId = `${S}/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1`;
    const ra = parseArmPath(`${vmId}/providers/Microsoft.Authorization/roleAssignments/abc`, 'PUT');
    expect(ra).toMatchObject({ kind: 'resource', scope: vmId, type: 'Microsoft.Authorization/roleAssignments', name: 'abc' });
    const root = parseArmPath('/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635', 'GET');
    expect(root).toMatchObject({ scope: '/', name: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635' });
  });

  it('refuses malformed percent-encoding and unknown shapes without throwing', () => {
    expect(parseArmPath(`${S}/resourceGroups/%E0%A4%A`, 'GET')).toBeUndefined();
    expect(parseArmPath('/nothing/here', 'GET')).toBeUndefined();
  });

  it('never throws on arbitrary paths (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom('subscriptions', 'resourceGroups', 'providers', 'Microsoft.X', '%', '', '..'), fc.string()), { maxLength: 12 }), fc.constantFrom('GET', 'PUT', 'POST', 'DELETE'), (segs, m) => {
        parseArmPath('/' + segs.join('/'), m);
      }),
    );
  });
});

describe('ARM route parsing: regressions', () => {
  it('terminates on a provider segment with no namespace at the start of the path (used to loop forever)', () => {
    expect(parseArmPath('/providers/abc', 'GET')).toBeUndefined();
    expect(parseArmPath('/providers/providers/providers', 'GET')).toBeUndefined();
  });
});
