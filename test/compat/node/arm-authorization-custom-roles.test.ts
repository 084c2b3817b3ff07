import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import { AuthorizationManagementClient, type RoleDefinition } from '@azure/arm-authorization';
import { ComputeManagementClient } from '@azure/arm-compute';
import { ResourceManagementClient } from '@azure/arm-resources';
import { startTestKeyless } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

/** Issue 4, custom roles with the official client: createOrUpdate, get, list with $filter, assign, delete. */
describe('official clients: custom role definitions', () => {
  let k: StartedKeyless;
  let admin: ClientSecretCredential;
  let dev: { clientId: string; objectId: string; clientSecret: string };
  let devCred: ClientSecretCredential;
  const scopes = () => [`${k.endpoints.armAudience}.default`];
  const sub = () => `/subscriptions/${k.subscriptionId}`;
  const rgScope = () => `${sub()}/resourceGroups/custom-rg`;
  const roleId = randomUUID();
  const credential = (clientId: string, secret: string) =>
    new ClientSecretCredential(k.tenantId, clientId, secret, { authorityHost: k.endpoints.authorityHost, disableInstanceDiscovery: true });
  const authz = (cred: ClientSecretCredential) => new AuthorizationManagementClient(cred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() });
  const compute = (cred: ClientSecretCredential) => new ComputeManagementClient(cred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentials: { scopes: scopes() } });
  const vmReader = (description: string): RoleDefinition => ({
    roleName: 'Compat VM Reader',
    description,
    roleType: 'CustomRole',
    assignableScopes: [sub()],
    permissions: [{ actions: ['Microsoft.Compute/virtualMachines/read'], notActions: [], dataActions: [], notDataActions: [] }],
  });

  beforeAll(async () => {
    k = await startTestKeyless();
    admin = credential(k.admin.clientId, k.admin.clientSecret!);
    dev = await k.createApplication('compat-custom-role-dev');
    devCred = credential(dev.clientId, dev.clientSecret);
    await new ResourceManagementClient(admin, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() }).resourceGroups.createOrUpdate('custom-rg', { location: 'westeurope' });
    await compute(admin).virtualMachines.createOrUpdate('custom-rg', 'vm1', { location: 'westeurope' });
  }, 60_000);
  afterAll(async () => k?.stop());

  it('createOrUpdate creates, then updates the same GUID; get reads it', async () => {
    const created = await authz(admin).roleDefinitions.createOrUpdate(sub(), roleId, vmReader('reads VMs'));
    expect(created).toMatchObject({ name: roleId, roleName: 'Compat VM Reader', roleType: 'CustomRole', assignableScopes: [sub()] });
    expect(created.permissions?.[0]?.actions).toEqual(['Microsoft.Compute/virtualMachines/read']);
    const updated = await authz(admin).roleDefinitions.createOrUpdate(sub(), roleId, vmReader('reads virtual machines'));
    expect(updated.description).toBe('reads virtual machines');
    const got = await authz(admin).roleDefinitions.get(rgScope(), roleId);
    expect(got).toMatchObject({ id: `${sub()}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`, description: 'reads virtual machines' });
  });

  it('list with $filter type and roleName', async () => {
    const custom: string[] = [];
    for await (const r of authz(admin).roleDefinitions.list(sub(), { filter: "type eq 'CustomRole'" })) custom.push(r.name!);
    expect(custom).toEqual([roleId]);
    const byName: string[] = [];
    for await (const r of authz(admin).roleDefinitions.list(rgScope(), { filter: "roleName eq 'Compat VM Reader'" })) byName.push(r.name!);
    expect(byName).toEqual([roleId]);
  });

  it('assigned, it lets the developer read the VM and nothing else; delete is refused while assigned', async () => {
    const assignmentName = randomUUID();
    await authz(admin).roleAssignments.create(rgScope(), assignmentName, {
      roleDefinitionId: `${sub()}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`,
      principalId: dev.objectId,
      principalType: 'ServicePrincipal',
    });
    expect((await compute(devCred).virtualMachines.get('custom-rg', 'vm1')).name).toBe('vm1');
    const write = await compute(devCred).virtualMachines.createOrUpdate('custom-rg', 'vm2', { location: 'westeurope' }).catch((e: { statusCode: number; code: string }) => e);
    expect(write).toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    const refused = await authz(admin).roleDefinitions.delete(sub(), roleId).catch((e: { statusCode: number; code: string }) => e);
    expect(refused).toMatchObject({ statusCode: 409, code: 'RoleDefinitionHasAssignments' });
    await authz(admin).roleAssignments.delete(rgScope(), assignmentName);
  });

  it('delete returns the role, then nothing; the role is gone', async () => {
    const deleted = await authz(admin).roleDefinitions.delete(sub(), roleId);
    expect(deleted.name).toBe(roleId);
    const again = await authz(admin).roleDefinitions.delete(sub(), roleId);
    expect(again?.name).toBeUndefined();
    const missing = await authz(admin).roleDefinitions.get(sub(), roleId).catch((e: { statusCode: number; code: string }) => e);
    expect(missing).toMatchObject({ statusCode: 404, code: 'RoleDefinitionDoesNotExist' });
  });
});
