import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arm } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { startTestKeyless } from '../../support/keyless.js';
import { createTestDatabase } from '../../support/postgres.js';
import { adminVaultToken, createVault, kv, sub, vaultId } from './helpers.js';

const pgdb = await createTestDatabase();
const backends: [string, () => { databaseUrl?: string }][] = [['sqlite', () => ({})]];
if (pgdb) backends.push(['postgres', () => ({ databaseUrl: pgdb.url })]);

/** Microsoft.KeyVault/vaults on ARM: the resource, its rules, access policy operations and soft delete. */
describe.each(backends)('ARM: Microsoft.KeyVault/vaults (%s)', (_backend, storeOptions) => {
  let k: StartedKeyless;
  const body = (extra: Record<string, unknown> = {}) => ({
    location: 'westeurope',
    properties: { tenantId: k.tenantId, sku: { family: 'A', name: 'standard' }, accessPolicies: [], ...extra },
  });

  beforeAll(async () => {
    k = await startTestKeyless(storeOptions());
    await arm(k, 'PUT', `${sub(k)}/resourceGroups/vault-rg`, { location: 'westeurope' });
    await arm(k, 'PUT', `${sub(k)}/resourceGroups/other-rg`, { location: 'westeurope' });
  });
  afterAll(async () => {
    await k?.stop();
    if (storeOptions().databaseUrl) await pgdb?.drop();
  });

  it('creates a vault with Azure defaults and a vault URI on this server', async () => {
    const r = await arm(k, 'PUT', `${vaultId(k, 'vault-rg', 'kv-arm-one')}?api-version=2024-11-01`, body({ tags: undefined }));
    expect(r.status, r.text).toBe(201);
    const port = new URL(k.endpoints.resourceManager).port;
    expect(r.json).toMatchObject({
      id: vaultId(k, 'vault-rg', 'kv-arm-one'),
      name: 'kv-arm-one',
      type: 'Microsoft.KeyVault/vaults',
      location: 'westeurope',
      properties: {
        tenantId: k.tenantId,
        sku: { family: 'A', name: 'standard' },
        accessPolicies: [],
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        enableRbacAuthorization: false,
        provisioningState: 'Succeeded',
        vaultUri: `https://kv-arm-one.vault.keyless.localhost:${port}/`,
      },
    });
    const again = await arm(k, 'GET', `${vaultId(k, 'vault-rg', 'kv-arm-one')}?api-version=2024-11-01`);
    expect(again.status).toBe(200);
    expect(again.json.properties.vaultUri).toBe(r.json.properties.vaultUri);
  });

  it('defaults enableRbacAuthorization by api-version: false before 2026-02-01, true from it', async () => {
    const old = await arm(k, 'PUT', `${vaultId(k, 'vault-rg', 'kv-old-api')}?api-version=2023-07-01`, body());
    expect(old.json.properties.enableRbacAuthorization).toBe(false);
    const current = await arm(k, 'PUT', `${vaultId(k, 'vault-rg', 'kv-new-api')}?api-version=2026-02-01`, body());
    expect(current.json.properties.enableRbacAuthorization).toBe(true);
    // An update without the property keeps the model, whatever the api-version.
    const update = await arm(k, 'PUT', `${vaultId(k, 'vault-rg', 'kv-old-api')}?api-version=2026-02-01`, body());
    expect(update.json.properties.enableRbacAuthorization).toBe(false);
  });

  it('PATCH merges tags and properties', async () => {
    const r = await arm(k, 'PATCH', `${vaultId(k, 'vault-rg', 'kv-arm-one')}?api-version=2024-11-01`, { tags: { env: 'dev' }, properties: { enabledForDeployment: true } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.tags).toEqual({ env: 'dev' });
    expect(r.json.properties.enabledForDeployment).toBe(true);
    expect(r.json.properties.sku.name).toBe('standard');
    const missing = await arm(k, 'PATCH', `${vaultId(k, 'vault-rg', 'kv-missing')}?api-version=2024-11-01`, { tags: {} });
    expect(missing.status).toBe(404);
  });

  it('lists vaults by resource group and by subscription', async () => {
    const rg = await arm(k, 'GET', `${sub(k)}/resourceGroups/vault-rg/providers/Microsoft.KeyVault/vaults?api-version=2024-11-01`);
    expect(rg.status).toBe(200);
    expect(rg.json.value.map((v: { name: string }) => v.name)).toEqual(expect.arrayContaining(['kv-arm-one', 'kv-old-api', 'kv-new-api']));
    expect(rg.json.value[0].properties.vaultUri).toMatch(/^https:\/\/.+\.vault\.keyless\.localhost:\d+\/$/);
    const all = await arm(k, 'GET', `${sub(k)}/providers/Microsoft.KeyVault/vaults?api-version=2024-11-01`);
    expect(all.json.value.length).toBeGreaterThanOrEqual(3);
  });

  it.each([
    ['too short', 'kv'],
    ['too long', 'k'.repeat(25)],
    ['a leading digit', '1vault'],
    ['consecutive hyphens', 'my--vault'],
    ['a trailing hyphen', 'vault-'],
    ['an underscore', 'my_vault'],
  ])('refuses a name with %s: 400 VaultNameNotValid', async (_why, name) => {
    const r = await arm(k, 'PUT', `${vaultId(k, 'vault-rg', name)}?api-version=2024-11-01`, body());
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('VaultNameNotValid');
  });

  it.each([
    ['no sku', { sku: undefined }],
    ['a bad sku', { sku: { family: 'A', name: 'gold' } }],
    ['no tenant', { tenantId: undefined }],
    ['a foreign tenant', { tenantId: '00000000-0000-4000-8000-000000000000' }],
    ['retention below 7 days', { softDeleteRetentionInDays: 6 }],
    ['soft delete off', { enableSoftDelete: false }],
    ['a malformed access policy', { accessPolicies: [{ objectId: 'x' }] }],
    ['an unknown permission', { accessPolicies: [{ tenantId: '00000000-0000-4000-8000-000000000000', objectId: 'x', permissions: { secrets: ['peek'] } }] }],
  ])('refuses %s with 400', async (_why, extra) => {
    const r = await arm(k, 'PUT', `${vaultId(k, 'vault-rg', 'kv-invalid')}?api-version=2024-11-01`, body(extra));
    expect(r.status, r.text).toBe(400);
    expect((await arm(k, 'GET', `${vaultId(k, 'vault-rg', 'kv-invalid')}?api-version=2024-11-01`)).status).toBe(404);
  });

  it('vault names are global: the same name in another resource group is VaultAlreadyExists', async () => {
    const r = await arm(k, 'PUT', `${vaultId(k, 'other-rg', 'KV-ARM-ONE')}?api-version=2024-11-01`, body());
    expect(r.status).toBe(409);
    expect(r.json).toEqual({
      error: { code: 'VaultAlreadyExists', message: "The vault name 'KV-ARM-ONE' is already in use. Vault names are globally unique so it is possible that the name is already taken." },
    });
  });

  it('purge protection cannot be turned off, retention cannot change', async () => {
    await createVault(k, 'vault-rg', 'kv-protected', { enablePurgeProtection: true, softDeleteRetentionInDays: 7 });
    const off = await arm(k, 'PATCH', `${vaultId(k, 'vault-rg', 'kv-protected')}?api-version=2024-11-01`, { properties: { enablePurgeProtection: false } });
    expect(off.status).toBe(400);
    const retention = await arm(k, 'PATCH', `${vaultId(k, 'vault-rg', 'kv-protected')}?api-version=2024-11-01`, { properties: { softDeleteRetentionInDays: 30 } });
    expect(retention.status).toBe(400);
  });

  it('accessPolicies/{add|replace|remove} edit the list in place', async () => {
    const id = vaultId(k, 'vault-rg', 'kv-arm-one');
    const oid = '0b7c7b5e-0000-4000-8000-000000000001';
    const policy = (secrets: string[]) => ({ properties: { accessPolicies: [{ tenantId: k.tenantId, objectId: oid, permissions: { secrets } }] } });
    const add = await arm(k, 'PUT', `${id}/accessPolicies/add?api-version=2024-11-01`, policy(['get']));
    expect(add.status, add.text).toBe(200);
    expect(add.json).toMatchObject({ type: 'Microsoft.KeyVault/vaults/accessPolicies', properties: { accessPolicies: [{ objectId: oid }] } });
    await arm(k, 'PUT', `${id}/accessPolicies/add?api-version=2024-11-01`, policy(['list']));
    let v = await arm(k, 'GET', `${id}?api-version=2024-11-01`);
    expect(v.json.properties.accessPolicies).toEqual([{ tenantId: k.tenantId, objectId: oid, permissions: { secrets: ['get', 'list'] } }]);
    await arm(k, 'PUT', `${id}/accessPolicies/replace?api-version=2024-11-01`, policy(['set']));
    v = await arm(k, 'GET', `${id}?api-version=2024-11-01`);
    expect(v.json.properties.accessPolicies[0].permissions.secrets).toEqual(['set']);
    await arm(k, 'PUT', `${id}/accessPolicies/remove?api-version=2024-11-01`, policy(['set']));
    v = await arm(k, 'GET', `${id}?api-version=2024-11-01`);
    expect(v.json.properties.accessPolicies).toEqual([]);
    const bad = await arm(k, 'PUT', `${id}/accessPolicies/merge?api-version=2024-11-01`, policy(['get']));
    expect(bad.status).toBe(400);
  });

  describe('soft delete', () => {
    const deletedList = () => arm(k, 'GET', `${sub(k)}/providers/Microsoft.KeyVault/deletedVaults?api-version=2024-11-01`);

    it('DELETE keeps the vault in the recycle bin with its secrets; the name stays taken', async () => {
      await createVault(k, 'vault-rg', 'kv-soft', { enableRbacAuthorization: false, accessPolicies: [] });
      const token = await adminVaultToken(k);
      const { decodeJwt } = await import('jose');
      await arm(k, 'PUT', `${vaultId(k, 'vault-rg', 'kv-soft')}/accessPolicies/add?api-version=2024-11-01`, {
        properties: { accessPolicies: [{ tenantId: k.tenantId, objectId: String(decodeJwt(token)['oid']), permissions: { secrets: ['get', 'set'] } }] },
      });
      expect((await kv(k, token, 'PUT', 'kv-soft', '/secrets/keep-me', { value: 'still here' })).status).toBe(200);

      const d = await arm(k, 'DELETE', `${vaultId(k, 'vault-rg', 'kv-soft')}?api-version=2024-11-01`);
      expect(d.status).toBe(200);
      expect((await arm(k, 'GET', `${vaultId(k, 'vault-rg', 'kv-soft')}?api-version=2024-11-01`)).status).toBe(404);
      expect((await kv(k, token, 'GET', 'kv-soft', '/secrets/keep-me/')).status).toBe(404);

      const list = await deletedList();
      expect(list.status, list.text).toBe(200);
      const entry = list.json.value.find((x: { name: string }) => x.name === 'kv-soft');
      expect(entry).toMatchObject({
        id: `${sub(k)}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-soft`,
        type: 'Microsoft.KeyVault/deletedVaults',
        properties: { vaultId: vaultId(k, 'vault-rg', 'kv-soft'), location: 'westeurope', purgeProtectionEnabled: false },
      });
      expect(Date.parse(entry.properties.scheduledPurgeDate) - Date.parse(entry.properties.deletionDate)).toBe(90 * 86_400_000);
      const one = await arm(k, 'GET', `${sub(k)}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-soft?api-version=2024-11-01`);
      expect(one.status).toBe(200);
      expect(one.json.name).toBe('kv-soft');
      expect((await arm(k, 'GET', `${sub(k)}/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/kv-soft?api-version=2024-11-01`)).status).toBe(404);

      const reuse = await arm(k, 'PUT', `${vaultId(k, 'other-rg', 'kv-soft')}?api-version=2024-11-01`, body());
      expect(reuse.status).toBe(409);
      expect(reuse.json).toEqual({ error: { code: 'ConflictError', message: 'Exist soft deleted vault with the same name. ' } });
    });

    it('createMode recover brings the vault back with its access policies and secrets', async () => {
      const r = await arm(k, 'PUT', `${vaultId(k, 'vault-rg', 'kv-soft')}?api-version=2024-11-01`, body({ createMode: 'recover' }));
      expect(r.status, r.text).toBe(201);
      expect(r.json.properties.accessPolicies).toHaveLength(1);
      expect(r.json.properties).not.toHaveProperty('createMode');
      const token = await adminVaultToken(k);
      const s = await kv(k, token, 'GET', 'kv-soft', '/secrets/keep-me/');
      expect(s.status, s.text).toBe(200);
      expect(s.json.value).toBe('still here');
      expect((await deletedList()).json.value.map((x: { name: string }) => x.name)).not.toContain('kv-soft');
      const nothing = await arm(k, 'PUT', `${vaultId(k, 'vault-rg', 'kv-never')}?api-version=2024-11-01`, body({ createMode: 'recover' }));
      expect(nothing.status).toBe(404);
    });

    it('purge removes the vault and its secrets for good and frees the name', async () => {
      await arm(k, 'DELETE', `${vaultId(k, 'vault-rg', 'kv-soft')}?api-version=2024-11-01`);
      const p = await arm(k, 'POST', `${sub(k)}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-soft/purge?api-version=2024-11-01`);
      expect(p.status, p.text).toBe(200);
      expect((await deletedList()).json.value.map((x: { name: string }) => x.name)).not.toContain('kv-soft');
      await createVault(k, 'other-rg', 'kv-soft', { enableRbacAuthorization: true });
      const token = await adminVaultToken(k);
      await k.assignRole({ principalId: String((await import('jose')).decodeJwt(token)['oid']), role: 'Key Vault Secrets User', scope: vaultId(k, 'other-rg', 'kv-soft') });
      expect((await kv(k, token, 'GET', 'kv-soft', '/secrets/keep-me/')).status).toBe(404);
    });

    it('deleting the resource group soft-deletes its vaults; purge protection refuses purge', async () => {
      await arm(k, 'PUT', `${sub(k)}/resourceGroups/doomed-rg`, { location: 'westeurope' });
      await createVault(k, 'doomed-rg', 'kv-doomed', { enablePurgeProtection: true });
      const del = await arm(k, 'DELETE', `${sub(k)}/resourceGroups/doomed-rg?api-version=2021-04-01`);
      expect(del.status).toBeLessThan(300);
      const entry = (await deletedList()).json.value.find((x: { name: string }) => x.name === 'kv-doomed');
      expect(entry?.properties.purgeProtectionEnabled).toBe(true);
      const p = await arm(k, 'POST', `${sub(k)}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-doomed/purge?api-version=2024-11-01`);
      expect(p.status).toBe(409);
    });

    it('a deleted vault past its retention is gone, its name free and its secrets with it', async () => {
      const { decodeJwt } = await import('jose');
      const token = await adminVaultToken(k);
      const oid = String(decodeJwt(token)['oid']);
      const policies = [{ tenantId: k.tenantId, objectId: oid, permissions: { secrets: ['get', 'set', 'list'] } }];
      await createVault(k, 'vault-rg', 'kv-expiring', { softDeleteRetentionInDays: 7, accessPolicies: policies });
      expect((await kv(k, token, 'PUT', 'kv-expiring', '/secrets/old-secret', { value: 'old' })).status).toBe(200);
      await arm(k, 'DELETE', `${vaultId(k, 'vault-rg', 'kv-expiring')}?api-version=2024-11-01`);
      k.clock.shift(8 * 86_400_000);
      try {
        expect((await deletedList()).json.value.map((x: { name: string }) => x.name)).not.toContain('kv-expiring');
        const again = await arm(k, 'PUT', `${vaultId(k, 'vault-rg', 'kv-expiring')}?api-version=2024-11-01`, body({ accessPolicies: policies }));
        expect(again.status, again.text).toBe(201);
        const fresh = await adminVaultToken(k);
        expect((await kv(k, fresh, 'GET', 'kv-expiring', '/secrets/old-secret/')).status).toBe(404);
        expect((await kv(k, fresh, 'GET', 'kv-expiring', '/secrets')).json.value).toEqual([]);
      } finally {
        k.clock.shift(0);
      }
    });
  });

  it('exports every vault URL for processes run as a VM', async () => {
    const vm = await arm(k, 'PUT', `${sub(k)}/resourceGroups/vault-rg/providers/Microsoft.Compute/virtualMachines/env-vm?api-version=2024-07-01`, {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
    });
    expect(vm.status, vm.text).toBeLessThan(300);
    const env = await k.vmEnvironment(vm.json.id);
    const port = new URL(k.endpoints.resourceManager).port;
    expect(env?.['KEYLESS_VAULT_KV_ARM_ONE_URL']).toBe(`https://kv-arm-one.vault.keyless.localhost:${port}/`);
  });
});
