import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveKeyless, type ServedKeyless } from '../../support/cli.js';
import { Az, azMissing, prerequisites } from './support/az.js';

const ROLE = {
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  blobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
};

/**
 * Debian's az 2.45 (/usr/bin/az) against `keyless serve`, as a person drives it from the host: a custom cloud
 * from `keyless az-cloud`, a service-principal login through the ADFS-style authority, then the management
 * and data-plane commands that work with Debian's packaged SDKs (clients.md §1.6: the rest go through az rest).
 */
describe.skipIf(prerequisites('az compat (host)', azMissing()).skip)('az 2.45 against Keyless: cloud, login, ARM, Key Vault and Blob', { timeout: 150_000 }, () => {
  let k: ServedKeyless;
  let az: Az;
  let admin: { clientId: string; clientSecret: string; objectId: string };
  let rm: string;
  let port: string;
  let sub: string;
  const RG = 'az-compat-rg';
  const VAULT = `azkv${randomUUID().slice(0, 8)}`;
  const ACCOUNT = `azsa${randomUUID().slice(0, 8)}`;
  const rgId = () => `/subscriptions/${sub}/resourceGroups/${RG}`;

  beforeAll(async () => {
    k = await serveKeyless();
    az = new Az();
    admin = JSON.parse(fs.readFileSync(k.ready.adminFile, 'utf8'));
    rm = k.ready.endpoints.resourceManager;
    port = new URL(rm).port;
    sub = k.ready.subscriptionId;
  }, 90_000);
  afterAll(async () => {
    az?.dispose();
    await k?.stop();
  });

  let cloudFile: string;
  it('1. `keyless az-cloud` writes the cloud config: ARM, ADFS-style authority, ARM audience, suffixes with the port, hybrid profile', async () => {
    const r = await k.cli(['az-cloud']);
    expect(r.code, r.stderr).toBe(0);
    cloudFile = r.stdout.trim();
    expect(path.isAbsolute(cloudFile)).toBe(true);
    const cfg = JSON.parse(fs.readFileSync(cloudFile, 'utf8'));
    expect(cfg.endpoints.resourceManager).toBe(`${rm}/`);
    expect(cfg.endpoints.activeDirectory).toBe(`${rm}/adfs`);
    expect(cfg.endpoints.activeDirectoryResourceId).toBe('https://management.keyless.localhost/');
    expect(cfg.endpoints.microsoftGraphResourceId).toBe(`${rm}/`);
    expect(cfg.suffixes).toEqual({ keyvaultDns: '.vault.keyless.localhost', storageEndpoint: `keyless.localhost:${port}` });
    expect(cfg.profile).toBe('2020-09-01-hybrid');
  });

  it('2. `az cloud register --cloud-config @file` and `az cloud set` make it the active cloud, profile included', async () => {
    const reg = await az.run(['cloud', 'register', '-n', 'Keyless', '--cloud-config', `@${cloudFile}`]);
    expect(reg.code, reg.stderr).toBe(0);
    const set = await az.run(['cloud', 'set', '-n', 'Keyless']);
    expect(set.code, set.stderr).toBe(0);
    // What az stored (read from its files: every az start costs seconds).
    const clouds = fs.readFileSync(path.join(az.configDir, 'clouds.config'), 'utf8');
    expect(clouds).toContain('[Keyless]');
    expect(clouds).toMatch(/^profile = 2020-09-01-hybrid$/m);
    expect(clouds).toContain(`endpoint_active_directory = ${rm}/adfs`);
    expect(fs.readFileSync(path.join(az.configDir, 'config'), 'utf8')).toMatch(/^\[cloud\]\s*\nname = Keyless$/m);
  });

  it('3 (negative). `az login --service-principal` with a wrong secret fails at the token endpoint', async () => {
    const r = await az.run(['login', '--service-principal', '-u', admin.clientId, '--password=not-the-secret', '--tenant', k.ready.tenantId, '-o', 'json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/AADSTS7000215|invalid_client/);
  });

  it('4. `az login --service-principal` through the ADFS-style authority lists the subscription', async () => {
    const r = await az.run(['login', '--service-principal', '-u', admin.clientId, `--password=${admin.clientSecret}`, '--tenant', k.ready.tenantId, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toHaveLength(1);
    expect(r.json[0]).toMatchObject({ id: sub, tenantId: k.ready.tenantId, cloudName: 'Keyless', user: { name: admin.clientId, type: 'servicePrincipal' } });
  });

  it('5. `az group create/show/list`; `az group show` of a missing group exits 3 with ResourceGroupNotFound', async () => {
    const c = await az.run(['group', 'create', '-n', RG, '-l', 'westeurope', '-o', 'json']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.json).toMatchObject({ id: rgId(), name: RG, location: 'westeurope', properties: { provisioningState: 'Succeeded' } });
    const s = await az.run(['group', 'show', '-n', RG, '-o', 'json']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.json.id).toBe(rgId());
    const l = await az.run(['group', 'list', '-o', 'json']);
    expect(l.code, l.stderr).toBe(0);
    expect(l.json.map((g: { name: string }) => g.name)).toContain(RG);
    const missing = await az.run(['group', 'show', '-n', 'no-such-group', '-o', 'json']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('ResourceGroupNotFound');
  });

  let identity: { id: string; clientId: string; principalId: string };
  it('6. `az identity create` returns client id, principal id and tenant', async () => {
    const r = await az.run(['identity', 'create', '-g', RG, '-n', 'az-id', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ name: 'az-id', tenantId: k.ready.tenantId, clientId: expect.stringMatching(/^[0-9a-f-]{36}$/), principalId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    identity = r.json;
  });

  let vmPrincipal: string;
  it('7. `az vm identity assign` (hybrid profile) gives a VM a system identity, then adds a user-assigned one with --identities', async () => {
    const put = await az.run(['rest', '--method', 'put', '--url', `${rm}${rgId()}/providers/Microsoft.Compute/virtualMachines/az-vm?api-version=2024-07-01`, '--body', JSON.stringify({ location: 'westeurope' }), '-o', 'json']);
    expect(put.code, put.stderr).toBe(0);
    const sys = await az.run(['vm', 'identity', 'assign', '-g', RG, '-n', 'az-vm', '-o', 'json']);
    expect(sys.code, sys.stderr).toBe(0);
    expect(sys.json).toEqual({ systemAssignedIdentity: expect.stringMatching(/^[0-9a-f-]{36}$/), userAssignedIdentities: {} });
    vmPrincipal = sys.json.systemAssignedIdentity;
    const user = await az.run(['vm', 'identity', 'assign', '-g', RG, '-n', 'az-vm', '--identities', 'az-id', '-o', 'json']);
    expect(user.code, user.stderr).toBe(0);
    expect(user.json.systemAssignedIdentity).toBe(vmPrincipal);
    expect(user.json.userAssignedIdentities[identity.id]).toEqual({ clientId: identity.clientId, principalId: identity.principalId });
  });

  it('8. role assignments through `az rest`: PUT, GET, list by principal, DELETE, then 404', async () => {
    const name = randomUUID();
    const url = `${rm}${rgId()}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`;
    const body = { properties: { roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${ROLE.reader}`, principalId: vmPrincipal, principalType: 'ServicePrincipal' } };
    const put = await az.run(['rest', '--method', 'put', '--url', url, '--body', JSON.stringify(body), '-o', 'json']);
    expect(put.code, put.stderr).toBe(0);
    expect(put.json).toMatchObject({ name, properties: { principalId: vmPrincipal, scope: rgId() } });
    const get = await az.run(['rest', '--url', url, '-o', 'json']);
    expect(get.code, get.stderr).toBe(0);
    expect(get.json.properties.roleDefinitionId.toLowerCase()).toContain(ROLE.reader);
    const list = await az.run(['rest', '--url', `${rm}/subscriptions/${sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId eq '${vmPrincipal}'`, '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.value.map((a: { name: string }) => a.name)).toContain(name);
    const del = await az.run(['rest', '--method', 'delete', '--url', url, '-o', 'json']);
    expect(del.code, del.stderr).toBe(0);
    const gone = await az.run(['rest', '--url', url, '-o', 'json']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/RoleAssignmentNotFound|Not Found/);
  });

  it('9. Key Vault: `az keyvault create --no-self-perms` + `set-policy`, then a secret written and read with `az rest --resource https://vault.azure.net`', async () => {
    const c = await az.run(['keyvault', 'create', '-g', RG, '-n', VAULT, '-l', 'westeurope', '--no-self-perms', '-o', 'json']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.json.properties.vaultUri).toBe(`https://${VAULT}.vault.keyless.localhost:${port}/`);
    const p = await az.run(['keyvault', 'set-policy', '-g', RG, '-n', VAULT, '--object-id', admin.objectId, '--secret-permissions', 'get', 'set', '-o', 'none']);
    expect(p.code, p.stderr).toBe(0);
    const url = `https://${VAULT}.vault.keyless.localhost:${port}/secrets/s1?api-version=7.3`;
    const put = await az.run(['rest', '--method', 'put', '--resource', 'https://vault.azure.net', '--url', url, '--body', JSON.stringify({ value: 'from-az' }), '-o', 'json']);
    expect(put.code, put.stderr).toBe(0);
    const get = await az.run(['rest', '--resource', 'https://vault.azure.net', '--url', url, '-o', 'json']);
    expect(get.code, get.stderr).toBe(0);
    expect(get.json.value).toBe('from-az');
    expect(get.json.id).toMatch(new RegExp(`^https://${VAULT}\\.vault\\.keyless\\.localhost:${port}/secrets/s1/[0-9a-f]{32}$`));
  });

  it('10. `az account get-access-token --resource https://vault.azure.net` returns a token for that audience', async () => {
    const r = await az.run(['account', 'get-access-token', '--resource', 'https://vault.azure.net', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const claims = JSON.parse(Buffer.from(r.json.accessToken.split('.')[1], 'base64url').toString());
    expect(claims.aud).toBe('https://vault.azure.net');
    expect(claims.oid).toBe(admin.objectId);
  });

  it('11. `az storage account create` (hybrid profile, api-version 2019-06-01)', async () => {
    const r = await az.run(['storage', 'account', 'create', '-g', RG, '-n', ACCOUNT, '-l', 'westeurope', '--sku', 'Standard_LRS', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.name).toBe(ACCOUNT);
  });

  let key: string;
  it('12. `az storage account keys list` returns two full-permission keys', async () => {
    // Created through ARM directly if step 11 could not.
    const existing = await az.run(['rest', '--url', `${rm}${rgId()}/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}?api-version=2023-01-01`, '-o', 'json']);
    if (existing.code !== 0) {
      const put = await az.run(['rest', '--method', 'put', '--url', `${rm}${rgId()}/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}?api-version=2023-01-01`, '--body', JSON.stringify({ location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' } }), '-o', 'json']);
      expect(put.code, put.stderr).toBe(0);
    }
    const r = await az.run(['storage', 'account', 'keys', 'list', '-g', RG, '-n', ACCOUNT, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.map((x: { keyName: string; permissions: string }) => [x.keyName, x.permissions.toUpperCase()])).toEqual([
      ['key1', 'FULL'],
      ['key2', 'FULL'],
    ]);
    key = r.json[0].value;
  });

  it('13 (negative). `az storage blob upload --auth-mode login` without a data role is refused (AuthorizationPermissionMismatch)', async () => {
    const c = await az.run(['storage', 'container', 'create', '-n', 'docs', '--account-name', ACCOUNT, '--account-key', key, '-o', 'json']);
    expect(c.code, c.stderr).toBe(0);
    const file = path.join(az.configDir, 'text.txt');
    fs.writeFileSync(file, 'hello');
    const r = await az.run(['storage', 'blob', 'upload', '--account-name', ACCOUNT, '-c', 'docs', '-n', 'text.txt', '-f', file, '--auth-mode', 'login', '-o', 'none']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('AuthorizationPermissionMismatch');
  });

  it('14. with "Storage Blob Data Contributor", `az storage blob upload/download --auth-mode login` round-trips text.txt', async () => {
    const url = `${rm}${rgId()}/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`;
    const body = { properties: { roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${ROLE.blobDataContributor}`, principalId: admin.objectId, principalType: 'ServicePrincipal' } };
    const ra = await az.run(['rest', '--method', 'put', '--url', url, '--body', JSON.stringify(body), '-o', 'none']);
    expect(ra.code, ra.stderr).toBe(0);
    const file = path.join(az.configDir, 'text.txt');
    const up = await az.run(['storage', 'blob', 'upload', '--account-name', ACCOUNT, '-c', 'docs', '-n', 'text.txt', '-f', file, '--auth-mode', 'login', '-o', 'none']);
    expect(up.code, up.stderr).toBe(0);
    const out = path.join(az.configDir, 'login.txt');
    const down = await az.run(['storage', 'blob', 'download', '--account-name', ACCOUNT, '-c', 'docs', '-n', 'text.txt', '-f', out, '--auth-mode', 'login', '-o', 'none']);
    expect(down.code, down.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('hello');
  });

  it('15. `az storage blob download --account-key` signs with Shared Key; a wrong key is refused (AuthenticationFailed)', async () => {
    const out = path.join(az.configDir, 'key.txt');
    const ok = await az.run(['storage', 'blob', 'download', '--account-name', ACCOUNT, '-c', 'docs', '-n', 'text.txt', '-f', out, '--account-key', key, '-o', 'none']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('hello');
    const wrong = Buffer.alloc(64, 7).toString('base64');
    const bad = await az.run(['storage', 'blob', 'download', '--account-name', ACCOUNT, '-c', 'docs', '-n', 'text.txt', '-f', out, '--account-key', wrong, '-o', 'none']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('AuthenticationFailed');
  });
});
