import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientSecretCredential } from '@azure/identity';
import { KeyVaultManagementClient } from '@azure/arm-keyvault';
import { SecretClient } from '@azure/keyvault-secrets';
import { arm, startTestKeyless } from '../../support/keyless.js';
import { runChild, lastJson } from '../../support/child.js';
import type { StartedKeyless } from '../../../src/index.js';

const APP = path.join(import.meta.dirname, 'apps', 'keyvault-secret.mjs');

/**
 * Issue 5's Key Vault user stories with the official npm clients: vaults managed with @azure/arm-keyvault,
 * secrets read by an unmodified app run as a VM (ManagedIdentityCredential + SecretClient, the full
 * challenge flow with resource verification on), under RBAC and under access policies.
 */
describe('official clients: Key Vault secrets', () => {
  let k: StartedKeyless;
  let cred: ClientSecretCredential;
  let kvm: KeyVaultManagementClient;
  let vmId: string;
  let vmPrincipal: string;
  const RG = 'kv-compat-rg';
  const RBAC = 'kv-compat-rbac';
  const POLICY = 'kv-compat-policy';
  const vaultId = (name: string) => `/subscriptions/${k.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/${name}`;
  const vaultUrl = (name: string) => `https://${name}.vault.${k.config.dnsSuffix}:${new URL(k.endpoints.resourceManager).port}`;
  const adminOid = () => k.admin.objectId;

  beforeAll(async () => {
    k = await startTestKeyless();
    cred = new ClientSecretCredential(k.tenantId, k.admin.clientId, k.admin.clientSecret!, { authorityHost: k.endpoints.authorityHost, disableInstanceDiscovery: true });
    kvm = new KeyVaultManagementClient(cred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentials: { scopes: [`${k.endpoints.armAudience}.default`] } });
    await arm(k, 'PUT', `/subscriptions/${k.subscriptionId}/resourceGroups/${RG}`, { location: 'westeurope' });
    const vm = await arm(k, 'PUT', `/subscriptions/${k.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/app-vm?api-version=2024-07-01`, {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
    });
    expect(vm.status, vm.text).toBeLessThan(300);
    vmId = vm.json.id;
    vmPrincipal = vm.json.identity.principalId;
  });
  afterAll(async () => k?.stop());

  /** Runs the app as the VM; the vault URL comes from the environment `keyless run` would set. */
  async function asVm(vault: string, op: 'get' | 'set' | 'list', name?: string, value?: string) {
    const env = await k.vmEnvironment(vmId);
    expect(env).toBeDefined();
    const envName = `KEYLESS_VAULT_${vault.toUpperCase().replace(/-/g, '_')}_URL`;
    expect(env![envName]).toBe(`${vaultUrl(vault)}/`);
    const r = await runChild(process.execPath, [APP, envName, op, ...(name ? [name] : []), ...(value ? [value] : [])], env!);
    return lastJson(r.stdout);
  }

  it('1. @azure/arm-keyvault creates an RBAC vault and an access-policy vault', async () => {
    const rbac = await kvm.vaults.createOrUpdate(RG, RBAC, {
      location: 'westeurope',
      properties: { tenantId: k.tenantId, sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: true },
    });
    expect(rbac.properties?.vaultUri).toBe(`${vaultUrl(RBAC)}/`);
    expect(rbac.properties?.enableRbacAuthorization).toBe(true);
    const policy = await kvm.vaults.createOrUpdate(RG, POLICY, {
      location: 'westeurope',
      properties: {
        tenantId: k.tenantId,
        sku: { family: 'A', name: 'standard' },
        enableRbacAuthorization: false,
        accessPolicies: [{ tenantId: k.tenantId, objectId: adminOid(), permissions: { secrets: ['all'] } }],
      },
    });
    expect(policy.properties?.enableRbacAuthorization).toBe(false);
    expect(policy.properties?.accessPolicies?.[0]?.permissions.secrets).toEqual(['all']);

    const got = await kvm.vaults.get(RG, RBAC);
    expect(got.properties?.softDeleteRetentionInDays).toBe(90);
    const names = [];
    for await (const v of kvm.vaults.listByResourceGroup(RG)) names.push(v.name);
    expect(names.sort()).toEqual([POLICY, RBAC].sort());
    const inSub = [];
    for await (const v of kvm.vaults.listBySubscription()) inSub.push(v.name);
    expect(inSub).toEqual(expect.arrayContaining([POLICY, RBAC]));
  });

  it('2. the admin writes secrets with SecretClient (challenge flow, resource verification on)', async () => {
    await k.assignRole({ principalId: adminOid(), role: 'Key Vault Secrets Officer', scope: vaultId(RBAC) });
    for (const vault of [RBAC, POLICY]) {
      const client = new SecretClient(vaultUrl(vault), cred);
      const s = await client.setSecret('app-config', `value in ${vault}`, { contentType: 'text/plain' });
      expect(s.properties.vaultUrl).toBe(vaultUrl(vault));
      expect(s.properties.version).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  describe('user story (a): RBAC', () => {
    it('a VM identity with only "Key Vault Reader" gets 403 ForbiddenByRbac', async () => {
      await k.assignRole({ principalId: vmPrincipal, role: 'Key Vault Reader', scope: vaultId(RBAC) });
      const listed = await asVm(RBAC, 'list');
      expect(listed.ok, listed.message).toBe(true);
      expect(listed.names).toEqual(['app-config']);
      const r = await asVm(RBAC, 'get', 'app-config');
      expect(r.ok).toBe(false);
      expect(r.statusCode).toBe(403);
      expect(r.code).toBe('Forbidden');
      expect(r.message).toContain('Caller is not authorized to perform action on resource.');
      expect(r.message).toContain(`oid=${vmPrincipal}`);
    });

    it('with "Key Vault Secrets User" the same unmodified app reads the secret', async () => {
      await k.assignRole({ principalId: vmPrincipal, role: 'Key Vault Secrets User', scope: vaultId(RBAC) });
      const r = await asVm(RBAC, 'get', 'app-config');
      expect(r.ok, r.message).toBe(true);
      expect(r.value).toBe(`value in ${RBAC}`);
    });
  });

  describe('user story (b): access policies', () => {
    it('without a policy the VM is refused with ForbiddenByPolicy', async () => {
      const r = await asVm(POLICY, 'get', 'app-config');
      expect(r.ok).toBe(false);
      expect(r.statusCode).toBe(403);
      expect(r.message).toContain('does not have secrets get permission');
    });

    it('a policy granting the VM principal get lets it read', async () => {
      const res = await kvm.vaults.updateAccessPolicy(RG, POLICY, 'add', {
        properties: { accessPolicies: [{ tenantId: k.tenantId, objectId: vmPrincipal, permissions: { secrets: ['get'] } }] },
      });
      expect(res.properties.accessPolicies[0]?.objectId).toBe(vmPrincipal);
      const r = await asVm(POLICY, 'get', 'app-config');
      expect(r.ok, r.message).toBe(true);
      expect(r.value).toBe(`value in ${POLICY}`);
    });

    it('an RBAC data role is ignored in that mode', async () => {
      await k.assignRole({ principalId: vmPrincipal, role: 'Key Vault Secrets Officer', scope: vaultId(POLICY) });
      const r = await asVm(POLICY, 'set', 'app-config', 'from the vm');
      expect(r.ok).toBe(false);
      expect(r.statusCode).toBe(403);
      expect(r.message).toContain('does not have secrets set permission');
    });

    it('flipping enableRbacAuthorization with @azure/arm-keyvault flips the model', async () => {
      const toRbac = await kvm.vaults.update(RG, POLICY, { properties: { enableRbacAuthorization: true } });
      expect(toRbac.properties?.enableRbacAuthorization).toBe(true);
      const set = await asVm(POLICY, 'set', 'app-config', 'from the vm');
      expect(set.ok, set.message).toBe(true);

      await kvm.vaults.update(RG, POLICY, { properties: { enableRbacAuthorization: false } });
      const refused = await asVm(POLICY, 'set', 'app-config', 'again');
      expect(refused.ok).toBe(false);
      expect(refused.statusCode).toBe(403);
      const get = await asVm(POLICY, 'get', 'app-config');
      expect(get.ok, get.message).toBe(true);
      expect(get.value).toBe('from the vm');
    });
  });

  it('3. SecretClient covers the secret lifecycle: versions, properties, paging, delete/recover, backup/restore, purge', async () => {
    const client = new SecretClient(vaultUrl(RBAC), cred);
    await k.assignRole({ principalId: adminOid(), role: 'Key Vault Administrator', scope: vaultId(RBAC) });
    const first = await client.setSecret('lifecycle', 'one', { tags: { a: '1' } });
    const second = await client.setSecret('lifecycle', 'two');
    expect((await client.getSecret('lifecycle')).value).toBe('two');
    expect((await client.getSecret('lifecycle', { version: first.properties.version! })).value).toBe('one');

    const updated = await client.updateSecretProperties('lifecycle', second.properties.version!, { enabled: false, tags: { b: '2' } });
    expect(updated.enabled).toBe(false);
    await expect(client.getSecret('lifecycle')).rejects.toMatchObject({ statusCode: 403, message: 'Operation get is not allowed on a disabled secret.' });
    await client.updateSecretProperties('lifecycle', second.properties.version!, { enabled: true });

    const versions = [];
    for await (const v of client.listPropertiesOfSecretVersions('lifecycle')) versions.push(v.version);
    expect(versions.sort()).toEqual([first.properties.version, second.properties.version].sort());

    for (let i = 0; i < 4; i++) await client.setSecret(`paged-${i}`, `${i}`);
    const pages: number[] = [];
    const all: string[] = [];
    for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 2 })) {
      pages.push(page.length);
      all.push(...page.map((p) => p.name));
    }
    expect(pages.length).toBeGreaterThan(2);
    expect(all).toEqual(expect.arrayContaining(['lifecycle', 'paged-0', 'paged-3', 'app-config']));

    const backup = await client.backupSecret('lifecycle');
    expect(backup).toBeInstanceOf(Uint8Array);

    const deletion = await client.beginDeleteSecret('lifecycle', { intervalInMs: 10 });
    const deleted = await deletion.pollUntilDone();
    expect(deleted.name).toBe('lifecycle');
    expect(deleted.recoveryId).toBe(`${vaultUrl(RBAC)}/deletedsecrets/lifecycle`);
    expect(deleted.deletedOn).toBeInstanceOf(Date);
    const deletedNames = [];
    for await (const d of client.listDeletedSecrets()) deletedNames.push(d.name);
    expect(deletedNames).toContain('lifecycle');
    expect((await client.getDeletedSecret('lifecycle')).properties.version).toBe(second.properties.version);

    const recovery = await client.beginRecoverDeletedSecret('lifecycle', { intervalInMs: 10 });
    await recovery.pollUntilDone();
    expect((await client.getSecret('lifecycle')).value).toBe('two');

    await (await client.beginDeleteSecret('lifecycle', { intervalInMs: 10 })).pollUntilDone();
    await client.purgeDeletedSecret('lifecycle');
    await expect(client.getDeletedSecret('lifecycle')).rejects.toMatchObject({ statusCode: 404, code: 'SecretNotFound' });

    const restored = await client.restoreSecretBackup(backup!);
    expect(restored.name).toBe('lifecycle');
    expect((await client.getSecret('lifecycle', { version: first.properties.version! })).value).toBe('one');
  });

  it('4. @azure/arm-keyvault sees the soft-deleted vault, and purges it', async () => {
    await kvm.vaults.delete(RG, POLICY);
    const deleted = [];
    for await (const d of kvm.vaults.listDeleted()) deleted.push(d.name);
    expect(deleted).toContain(POLICY);
    const one = await kvm.vaults.getDeleted(POLICY, 'westeurope');
    expect(one.properties?.vaultId).toBe(vaultId(POLICY));
    await kvm.vaults.purgeDeleted(POLICY, 'westeurope');
    await expect(kvm.vaults.getDeleted(POLICY, 'westeurope')).rejects.toMatchObject({ statusCode: 404 });
  });
});
