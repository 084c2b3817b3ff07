import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveKeyless, type ServedKeyless } from '../support/cli.js';
import { adminAz, applyEnvironment, azMissing, IsolatedVm, isolationMissing, prerequisites, roleAssignmentArgs, type Az } from '../compat/az/support/az.js';
import { ROLES } from '../compat/az/support/seed.js';

const APP = path.resolve(import.meta.dirname, '../compat/az/apps/read_secret.py');
const PYTHON = '/usr/bin/python3';

/**
 * Walkthrough (e), docs/walkthroughs/python-default-credential.md: the Python program from the Azure docs
 * (DefaultAzureCredential + SecretClient), unmodified, run as the VM with no AZURE_* variables. A popular
 * tutorial grants "Key Vault Reader", which cannot read secret values; "Key Vault Secrets User" can.
 */
describe.skipIf(prerequisites('scenario 09', azMissing(), isolationMissing()).skip)('scenario 09: Python DefaultAzureCredential + SecretClient on the VM', { timeout: 150_000 }, () => {
  let k: ServedKeyless;
  let az: Az;
  let vm: IsolatedVm;
  let principalId: string;
  let vaultUrl: string;
  const VAULT = `py${randomUUID().slice(0, 8)}`;
  const vaultId = () => `/subscriptions/${k.ready.subscriptionId}/resourceGroups/py-rg/providers/Microsoft.KeyVault/vaults/${VAULT}`;
  const runApp = async () => (await vm.exec(PYTHON, [APP, vaultUrl, 'db-password'])).stdout.trim().split('\n').pop()!;

  beforeAll(async () => {
    k = await serveKeyless();
    vaultUrl = `https://${VAULT}.vault.keyless.localhost:${new URL(k.ready.endpoints.resourceManager).port}`;
  }, 90_000);
  afterAll(async () => {
    await vm?.stop();
    az?.dispose();
    await k?.stop();
  });

  it('1. the operator: an RBAC vault with db-password (as Key Vault Secrets Officer), a VM with a system identity', async () => {
    az = await adminAz(k);
    expect((await az.run(['group', 'create', '-n', 'py-rg', '-l', 'westeurope', '-o', 'none'])).code).toBe(0);
    const kv = await az.run(['keyvault', 'create', '-g', 'py-rg', '-n', VAULT, '-l', 'westeurope', '--no-self-perms', '-o', 'none']);
    expect(kv.code, kv.stderr).toBe(0);
    // The hybrid profile's Key Vault API (2016-10-01) has no enableRbacAuthorization: az drops the flag, so PATCH it.
    const rbac = await az.run(['rest', '--method', 'patch', '--url', `${k.ready.endpoints.resourceManager}${vaultId()}?api-version=2023-07-01`, '--body', JSON.stringify({ properties: { enableRbacAuthorization: true } }), '-o', 'json']);
    expect(rbac.code, rbac.stderr).toBe(0);
    expect(rbac.json.properties.enableRbacAuthorization).toBe(true);
    // The admin service principal's object id: in the credential file Keyless wrote at first start.
    const adminOid = JSON.parse(fs.readFileSync(k.ready.adminFile, 'utf8')).objectId as string;
    expect((await az.run(roleAssignmentArgs(k, vaultId(), ROLES.keyVaultSecretsOfficer, adminOid))).code).toBe(0);
    const put = await az.run(['rest', '--method', 'put', '--resource', 'https://vault.azure.net', '--url', `${vaultUrl}/secrets/db-password?api-version=7.3`, '--body', JSON.stringify({ value: 'from-python' }), '-o', 'none']);
    expect(put.code, put.stderr).toBe(0);
    await applyEnvironment(k, ['location: westeurope', 'resourceGroups:', '  py-rg:', '    virtualMachines:', '      app-vm: {}', ''].join('\n'));
    const id = await az.run(['vm', 'identity', 'assign', '-g', 'py-rg', '-n', 'app-vm', '-o', 'json']);
    expect(id.code, id.stderr).toBe(0);
    principalId = id.json.systemAssignedIdentity;
    vm = await IsolatedVm.start(k, 'app-vm');
  });

  it('2 (negative). with only "Key Vault Reader" (the tutorial’s role) the program gets 403 Forbidden', async () => {
    expect((await az.run(roleAssignmentArgs(k, vaultId(), ROLES.keyVaultReader, principalId))).code).toBe(0);
    const out = JSON.parse(await runApp());
    expect(out.ok).toBe(false);
    expect(out.status).toBe(403);
    expect(out.code).toBe('Forbidden');
    expect(out.message).toContain(`oid=${principalId}`);
  });

  it('3. with "Key Vault Secrets User" the same program, unchanged, prints the secret', async () => {
    expect((await az.run(roleAssignmentArgs(k, vaultId(), ROLES.keyVaultSecretsUser, principalId))).code).toBe(0);
    const out = JSON.parse(await runApp());
    expect(out).toEqual({ ok: true, value: 'from-python' });
  });

  it('4. the program ran with no identity variables: DefaultAzureCredential reached IMDS at 169.254.169.254', async () => {
    const env = await vm.exec('env', []);
    expect(env.stdout).not.toMatch(/^(AZURE_CLIENT_ID|AZURE_TENANT_ID|AZURE_CLIENT_SECRET|IDENTITY_ENDPOINT|MSI_ENDPOINT|AZURE_POD_IDENTITY_AUTHORITY_HOST)=/m);
    expect(env.stdout).toMatch(/^REQUESTS_CA_BUNDLE=/m);
  });
});
