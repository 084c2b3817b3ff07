import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientSecretCredential } from '@azure/identity';
import { ResourceManagementClient } from '@azure/arm-resources';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { ComputeManagementClient } from '@azure/arm-compute';
import { createRemoteJWKSet, jwtVerify, decodeJwt } from 'jose';
import { startTestKeyless, http } from '../../support/keyless.js';
import { runChild, lastJson } from '../../support/child.js';
import type { StartedKeyless } from '../../../src/index.js';

const APP = path.join(import.meta.dirname, 'apps', 'get-token.mjs');

/**
 * Issue 3's user story with the official npm clients: the admin service principal builds a VM with a
 * system-assigned and a user-assigned identity through @azure/arm-*, then an unmodified app run as the VM
 * gets tokens for each identity from @azure/identity, and the tokens verify against Keyless's JWKS.
 */
describe('official clients: ARM + managed identity', () => {
  let k: StartedKeyless;
  let cred: ClientSecretCredential;
  const scopes = () => [`${k.endpoints.armAudience}.default`];
  let vmId: string;
  let uai: { id: string; principalId: string; clientId: string };
  let systemPrincipalId: string;

  beforeAll(async () => {
    k = await startTestKeyless();
    cred = new ClientSecretCredential(k.tenantId, k.admin.clientId, k.admin.clientSecret!, {
      authorityHost: k.endpoints.authorityHost,
      disableInstanceDiscovery: true,
    });
  });
  afterAll(async () => k?.stop());

  it('1. creates a resource group with @azure/arm-resources', async () => {
    const client = new ResourceManagementClient(cred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() });
    const g = await client.resourceGroups.createOrUpdate('app-rg', { location: 'westeurope', tags: { env: 'test' } });
    expect(g.name).toBe('app-rg');
    expect(g.properties?.provisioningState).toBe('Succeeded');
    const list = [];
    for await (const x of client.resourceGroups.list()) list.push(x.name);
    expect(list).toContain('app-rg');
  });

  it('2. creates a user-assigned identity with @azure/arm-msi', async () => {
    const client = new ManagedServiceIdentityClient(cred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() });
    const id = await client.userAssignedIdentities.createOrUpdate('app-rg', 'app-id', { location: 'westeurope' });
    expect(id.principalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(id.clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(id.tenantId).toBe(k.tenantId);
    uai = { id: id.id!, principalId: id.principalId!, clientId: id.clientId! };
    const again = await client.userAssignedIdentities.get('app-rg', 'app-id');
    expect(again.principalId).toBe(uai.principalId);
  });

  it('3. creates a VM with a system-assigned identity and attaches the user-assigned one with @azure/arm-compute', async () => {
    const client = new ComputeManagementClient(cred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentials: { scopes: scopes() } });
    const vm = await client.virtualMachines.createOrUpdate('app-rg', 'vm1', { location: 'westeurope', identity: { type: 'SystemAssigned' } });
    expect(vm.identity?.type).toBe('SystemAssigned');
    systemPrincipalId = vm.identity!.principalId!;
    expect(systemPrincipalId).toMatch(/^[0-9a-f-]{36}$/);
    const updated = await client.virtualMachines.update('app-rg', 'vm1', {
      identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uai.id]: {} } },
    });
    expect(updated.identity?.type).toBe('SystemAssigned, UserAssigned');
    expect(updated.identity?.principalId).toBe(systemPrincipalId);
    expect(updated.identity?.userAssignedIdentities?.[uai.id]?.clientId).toBe(uai.clientId);
    vmId = updated.id!;
  });

  async function tokenAs(mode: 'mi' | 'dac', selector?: string) {
    const env = await k.vmEnvironment(vmId);
    expect(env).toBeDefined();
    const r = await runChild(process.execPath, [APP, mode, 'https://vault.azure.net/.default', ...(selector ? [selector] : [])], env!);
    return lastJson(r.stdout);
  }

  async function verify(token: string) {
    const discovery = await http('GET', k.endpoints.openIdConfiguration);
    const jwks = createRemoteJWKSet(new URL(discovery.json.jwks_uri));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: k.endpoints.issuer, audience: 'https://vault.azure.net' });
    expect(protectedHeader.alg).toBe('RS256');
    expect(protectedHeader.kid).toBeTruthy();
    return payload;
  }

  it('4. ManagedIdentityCredential gets a token for the system-assigned identity that verifies against the JWKS', async () => {
    const r = await tokenAs('mi');
    expect(r.ok, r.message).toBe(true);
    const claims = await verify(r.token);
    expect(claims['oid']).toBe(systemPrincipalId);
    expect(claims['tid']).toBe(k.tenantId);
    expect(claims['idtyp']).toBe('app');
    expect(String(claims['xms_mirid']).toLowerCase()).toBe(vmId.toLowerCase());
    // About 24 h, as Azure's managed-identity tokens.
    expect(Number(claims['exp']) - Number(claims['iat'])).toBeGreaterThan(23 * 3600);
  });

  it.each([
    ['clientId', () => `clientId=${uai.clientId}`],
    ['objectId', () => `objectId=${uai.principalId}`],
    ['resourceId', () => `resourceId=${uai.id}`],
  ])('5. ManagedIdentityCredential selects the user-assigned identity by %s', async (_kind, sel) => {
    const r = await tokenAs('mi', sel());
    expect(r.ok, r.message).toBe(true);
    const claims = await verify(r.token);
    expect(claims['oid']).toBe(uai.principalId);
    expect(claims['appid']).toBe(uai.clientId);
    expect(String(claims['xms_mirid']).toLowerCase()).toBe(uai.id.toLowerCase());
  });

  it('6. DefaultAzureCredential gets the system identity, and the user-assigned one by managedIdentityClientId', async () => {
    const sys = await tokenAs('dac');
    expect(sys.ok, sys.message).toBe(true);
    expect(decodeJwt(sys.token)['oid']).toBe(systemPrincipalId);
    const user = await tokenAs('dac', `clientId=${uai.clientId}`);
    expect(user.ok, user.message).toBe(true);
    expect(decodeJwt(user.token)['oid']).toBe(uai.principalId);
  });

  it('7. deleting the VM deletes its system identity; the user-assigned identity survives', async () => {
    const env = (await k.vmEnvironment(vmId))!;
    const compute = new ComputeManagementClient(cred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentials: { scopes: scopes() } });
    await compute.virtualMachines.delete('app-rg', 'vm1');
    // The IMDS address is gone with the VM: the old environment reaches nothing that answers for it.
    const r = await runChild(process.execPath, [APP, 'mi', 'https://vault.azure.net/.default'], env);
    expect(lastJson(r.stdout).ok).toBe(false);
    const msi = new ManagedServiceIdentityClient(cred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes() });
    const still = await msi.userAssignedIdentities.get('app-rg', 'app-id');
    expect(still.principalId).toBe(uai.principalId);
  });
});
