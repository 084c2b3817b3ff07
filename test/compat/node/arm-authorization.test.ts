import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ResourceManagementClient } from '@azure/arm-resources';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { ComputeManagementClient } from '@azure/arm-compute';
import { startTestKeyless, arm, http } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

/**
 * Issue 4 with the official clients: role definitions by name, assignments created / listed / deleted with
 * @azure/arm-authorization, and a second service principal that is refused until it is granted a role.
 */
describe('official clients: Microsoft.Authorization and enforcement', () => {
  let k: StartedKeyless;
  let admin: ClientSecretCredential;
  let dev: { clientId: string; objectId: string; clientSecret: string };
  let devCred: ClientSecretCredential;
  const scopes = () => [`${k.endpoints.armAudience}.default`];
  const rgScope = () => `/subscriptions/${k.subscriptionId}/resourceGroups/team-rg`;

  beforeAll(async () => {
    k = await startTestKeyless();
    admin = new ClientSecretCredential(k.tenantId, k.admin.clientId, k.admin.clientSecret!, { authorityHost: k.endpoints.authorityHost, disableInstanceDiscovery: true });
    dev = await k.createApplication('developer');
    devCred = new ClientSecretCredential(k.tenantId, dev.clientId, dev.clientSecret, { authorityHost: k.endpoints.authorityHost, disableInstanceDiscovery: true });
    const rm = new ResourceManagementClient(admin, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() });
    await rm.resourceGroups.createOrUpdate('team-rg', { location: 'westeurope' });
  });
  afterAll(async () => k?.stop());

  const authz = (cred: ClientSecretCredential) =>
    new AuthorizationManagementClient(cred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() });

  it('1. lists role definitions by name with Azure GUIDs', async () => {
    const found = [];
    for await (const r of authz(admin).roleDefinitions.list(rgScope(), { filter: "roleName eq 'Key Vault Secrets User'" })) found.push(r);
    expect(found).toHaveLength(1);
    expect(found[0]!.name).toBe('4633458b-17de-408a-b874-0445c86b69e6');
    expect(found[0]!.roleType).toBe('BuiltInRole');
    const owner = await authz(admin).roleDefinitions.get(rgScope(), '8e3af657-a8ff-443c-a75c-2fe8c4bcb635');
    expect(owner.roleName).toBe('Owner');
  });

  it('2. a service principal without a role gets AuthorizationFailed from @azure/arm-resources', async () => {
    const rm = new ResourceManagementClient(devCred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() });
    const err = await rm.resourceGroups.get('team-rg').catch((e: unknown) => e as { statusCode: number; code: string; message: string });
    expect(err).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    expect((err as { message: string }).message).toContain(`The client '${dev.clientId}' with object id '${dev.objectId}' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/read' over scope '${rgScope()}'`);
    // Listing never 403s: it shows what the caller may see, here nothing.
    const names = [];
    for await (const g of rm.resourceGroups.list()) names.push(g.name);
    expect(names).toEqual([]);
  });

  let assignmentName: string;
  it('3. the admin grants Contributor on the group; the developer can then work there and only there', async () => {
    assignmentName = randomUUID();
    const ra = await authz(admin).roleAssignments.create(rgScope(), assignmentName, {
      roleDefinitionId: `/subscriptions/${k.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c`,
      principalId: dev.objectId,
      principalType: 'ServicePrincipal',
    });
    expect(ra.name).toBe(assignmentName);
    expect(ra.scope).toBe(rgScope());
    const rm = new ResourceManagementClient(devCred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() });
    expect((await rm.resourceGroups.get('team-rg')).name).toBe('team-rg');
    const msi = new ManagedServiceIdentityClient(devCred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() });
    const id = await msi.userAssignedIdentities.createOrUpdate('team-rg', 'team-id', { location: 'westeurope' });
    expect(id.principalId).toBeTruthy();
    const other = await rm.resourceGroups.createOrUpdate('elsewhere', { location: 'westeurope' }).catch((e: { statusCode: number }) => e);
    expect(other).toMatchObject({ statusCode: 403 });
    // Contributor cannot hand out roles (notActions Microsoft.Authorization/*/Write).
    const grant = await authz(devCred).roleAssignments.create(rgScope(), randomUUID(), {
      roleDefinitionId: `/subscriptions/${k.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
      principalId: dev.objectId,
    }).catch((e: { statusCode: number; code: string }) => e);
    expect(grant).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
  });

  it('4. lists assignments for the subscription with $filter=principalId eq, and at a scope', async () => {
    const mine = [];
    for await (const a of authz(admin).roleAssignments.listForSubscription({ filter: `principalId eq '${dev.objectId}'` })) mine.push(a.name);
    expect(mine).toEqual([assignmentName]);
    const atRg = [];
    for await (const a of authz(admin).roleAssignments.listForScope(rgScope())) atRg.push(a.principalId);
    // Inherited assignments show too: the admin's Owner at subscription scope.
    expect(atRg).toContain(k.admin.objectId);
    expect(atRg).toContain(dev.objectId);
    const onlyAbove = [];
    for await (const a of authz(admin).roleAssignments.listForScope(`/subscriptions/${k.subscriptionId}`, { filter: 'atScope()' })) onlyAbove.push(a.principalId);
    expect(onlyAbove).not.toContain(dev.objectId);
  });

  it('5. assignment errors: RoleAssignmentExists, RoleAssignmentUpdateNotPermitted, PrincipalNotFound, last owner', async () => {
    const contributor = `/subscriptions/${k.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c`;
    const dup = await authz(admin).roleAssignments.create(rgScope(), randomUUID(), { roleDefinitionId: contributor, principalId: dev.objectId }).catch((e) => e);
    expect(dup).toMatchObject({ statusCode: 409, code: 'RoleAssignmentExists' });
    const reader = `/subscriptions/${k.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`;
    const upd = await authz(admin).roleAssignments.create(rgScope(), assignmentName, { roleDefinitionId: reader, principalId: dev.objectId }).catch((e) => e);
    expect(upd).toMatchObject({ statusCode: 409, code: 'RoleAssignmentUpdateNotPermitted' });
    const ghost = await authz(admin).roleAssignments.create(rgScope(), randomUUID(), { roleDefinitionId: reader, principalId: randomUUID() }).catch((e) => e);
    expect(ghost).toMatchObject({ statusCode: 400, code: 'PrincipalNotFound' });
    const owners = [];
    for await (const a of authz(admin).roleAssignments.listForScope(`/subscriptions/${k.subscriptionId}`, { filter: 'atScope()' })) owners.push(a);
    const ownerAssignment = owners.find((a) => a.principalId === k.admin.objectId)!;
    const raw = await arm(k, 'DELETE', `${ownerAssignment.id}?api-version=2022-04-01`);
    expect(raw.status).toBe(409);
  });

  it('6. attaching a user-assigned identity needs assign/action on it: LinkedAuthorizationFailed otherwise', async () => {
    // A VM contributor in team-rg who has no rights on an identity in another group.
    await new ResourceManagementClient(admin, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() }).resourceGroups.createOrUpdate('ids-rg', { location: 'westeurope' });
    const msiAdmin = new ManagedServiceIdentityClient(admin, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() });
    const foreign = await msiAdmin.userAssignedIdentities.createOrUpdate('ids-rg', 'shared-id', { location: 'westeurope' });
    const compute = new ComputeManagementClient(devCred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentials: { scopes: scopes() } });
    const err = await compute.virtualMachines
      .createOrUpdate('team-rg', 'vm-linked', { location: 'westeurope', identity: { type: 'UserAssigned', userAssignedIdentities: { [foreign.id!]: {} } } })
      .catch((e: { statusCode: number; code: string; message: string }) => e);
    expect(err).toMatchObject({ statusCode: 403, code: 'LinkedAuthorizationFailed' });
    expect((err as { message: string }).message).toContain("does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s)");
    expect((await arm(k, 'GET', `${rgScope()}/providers/Microsoft.Compute/virtualMachines/vm-linked`)).status).toBe(404);
    // Managed Identity Operator on the identity (zero-segment wildcard `*/assign/action`) fixes it.
    await k.assignRole({ principalId: dev.objectId, role: 'Managed Identity Operator', scope: foreign.id! });
    const vm = await compute.virtualMachines.createOrUpdate('team-rg', 'vm-linked', { location: 'westeurope', identity: { type: 'UserAssigned', userAssignedIdentities: { [foreign.id!]: {} } } });
    expect(vm.identity?.userAssignedIdentities?.[foreign.id!]?.principalId).toBe(foreign.principalId);
  });

  it('7. a denial carries the explanation out of band and the body stays Azure-shaped', async () => {
    const token = (await devCred.getToken(scopes()))!.token;
    const r = await http('DELETE', `${k.endpoints.resourceManager}/subscriptions/${k.subscriptionId}/resourceGroups/ids-rg?api-version=2021-04-01`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(403);
    expect(Object.keys(r.json)).toEqual(['error']);
    expect(Object.keys(r.json.error).sort()).toEqual(['code', 'message']);
    expect(String(r.headers['x-keyless-authz'])).not.toBe('');
  });

  it('8. deleting the assignment takes effect on the next request', async () => {
    await authz(admin).roleAssignments.delete(rgScope(), assignmentName);
    const rm = new ResourceManagementClient(devCred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() });
    const err = await rm.resourceGroups.get('team-rg').catch((e: { statusCode: number }) => e);
    expect(err).toMatchObject({ statusCode: 403 });
  });
});
