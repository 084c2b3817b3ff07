import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveKeyless, type ServedKeyless } from '../support/cli.js';
import { adminAz, applyEnvironment, azMissing, createStorageAccount, IsolatedVm, isolationMissing, prerequisites, registerKeylessCloud, roleAssignmentArgs, type Az } from '../compat/az/support/az.js';

const STORAGE_KEY_OPERATOR = '81a9662b-bebf-436f-a333-f67b29880f12';

/**
 * Walkthrough (d), docs/walkthroughs/vault-and-storage-with-curl.md: no SDK, no az login on the VM — curl
 * asks IMDS for tokens. A Key Vault access policy `get` lets the VM read a secret over REST; an ARM token
 * lets it list the storage account keys, and a key lets it upload with Shared Key.
 */
describe.skipIf(prerequisites('scenario 08', azMissing(), isolationMissing()).skip)('scenario 08: Key Vault and Storage with curl and tokens from IMDS', { timeout: 150_000 }, () => {
  let k: ServedKeyless;
  let az: Az;
  let vm: IsolatedVm;
  let port: string;
  let principalId: string;
  let admin: { objectId: string };
  const VAULT = `kv${randomUUID().slice(0, 8)}`;
  const ACCOUNT = `sa${randomUUID().slice(0, 8)}`;
  const accountId = () => `/subscriptions/${k.ready.subscriptionId}/resourceGroups/kv-rg/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}`;
  const secretUrl = () => `https://${VAULT}.vault.keyless.localhost:${port}/secrets/db-password?api-version=7.3`;
  const listKeysUrl = () => `https://management.keyless.localhost:${port}${accountId()}/listKeys?api-version=2023-01-01`;
  /** Shell on the VM: a token from IMDS for $1, then curl with it; prints the body, then the status on its own line. */
  const withToken = (resource: string, ...curlArgs: string[]) =>
    vm.exec('sh', [
      '-c',
      'R="$1"; shift; T=$(curl -s -H Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$R" | jq -r .access_token) && curl -s -w "\\n%{http_code}" -H "Authorization: Bearer $T" "$@"',
      'sh',
      resource,
      ...curlArgs,
    ]);
  const split = (out: string) => {
    const lines = out.trim().split('\n');
    const status = lines.pop();
    return { status, body: lines.join('\n') };
  };

  beforeAll(async () => {
    k = await serveKeyless();
    port = new URL(k.ready.endpoints.resourceManager).port;
    admin = JSON.parse(fs.readFileSync(k.ready.adminFile, 'utf8'));
  }, 90_000);
  afterAll(async () => {
    await vm?.stop();
    az?.dispose();
    await k?.stop();
  });

  it('1a. the operator: Keyless cloud in az, admin sign-in, group kv-rg', async () => {
    az = await adminAz(k);
    expect((await az.run(['group', 'create', '-n', 'kv-rg', '-l', 'westeurope', '-o', 'none'])).code).toBe(0);
  });

  it('1b. an access-policy vault (`az keyvault create`, `set-policy` for the admin) holding db-password (az rest)', async () => {
    const kv = await az.run(['keyvault', 'create', '-g', 'kv-rg', '-n', VAULT, '-l', 'westeurope', '--no-self-perms', '-o', 'json']);
    expect(kv.code, kv.stderr).toBe(0);
    expect(kv.json.properties.enableRbacAuthorization).toBeFalsy();
    expect((await az.run(['keyvault', 'set-policy', '-n', VAULT, '--object-id', admin.objectId, '--secret-permissions', 'get', 'set', '-o', 'none'])).code).toBe(0);
    const put = await az.run(['rest', '--method', 'put', '--resource', 'https://vault.azure.net', '--url', secretUrl(), '--body', JSON.stringify({ value: 's3cret' }), '-o', 'none']);
    expect(put.code, put.stderr).toBe(0);
  });

  it('1c. a storage account with a container "uploads", and VM app-vm with a system identity', async () => {
    await createStorageAccount(az, k, 'kv-rg', ACCOUNT);
    expect((await az.run(['storage', 'container', 'create', '-n', 'uploads', '--account-name', ACCOUNT, '--auth-mode', 'key', '-o', 'none'])).code).toBe(0);
    await applyEnvironment(k, ['location: westeurope', 'resourceGroups:', '  kv-rg:', '    virtualMachines:', '      app-vm: {}', ''].join('\n'));
    const id = await az.run(['vm', 'identity', 'assign', '-g', 'kv-rg', '-n', 'app-vm', '-o', 'json']);
    expect(id.code, id.stderr).toBe(0);
    principalId = id.json.systemAssignedIdentity;
    vm = await IsolatedVm.start(k, 'app-vm');
  });

  it('2 (negative). on the VM: a vault token from IMDS, but no access policy yet — GET secret is 403', async () => {
    const r = split((await withToken('https://vault.azure.net', secretUrl())).stdout);
    expect(r.status).toBe('403');
    expect(r.body).toContain('does not have secrets get permission');
  });

  it('3. the operator adds an access policy: `az keyvault set-policy --object-id <VM> --secret-permissions get`', async () => {
    const r = await az.run(['keyvault', 'set-policy', '-n', VAULT, '--object-id', principalId, '--secret-permissions', 'get', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.properties.accessPolicies.find((p: { objectId: string }) => p.objectId === principalId).permissions.secrets).toEqual(['get']);
  });

  it('4. on the VM: the same curl now returns the secret', async () => {
    const r = split((await withToken('https://vault.azure.net', secretUrl())).stdout);
    expect(r.status).toBe('200');
    expect(JSON.parse(r.body).value).toBe('s3cret');
  });

  it('5 (negative). an ARM token from IMDS, but listKeys is AuthorizationFailed without a role', async () => {
    const r = split((await withToken('https://management.keyless.localhost/', '-X', 'POST', '-H', 'Content-Length: 0', listKeysUrl())).stdout);
    expect(r.status).toBe('403');
    expect(JSON.parse(r.body).error.code).toBe('AuthorizationFailed');
  });

  it('6. the operator grants "Storage Account Key Operator Service Role" on the account', async () => {
    const r = await az.run(roleAssignmentArgs(k, accountId(), STORAGE_KEY_OPERATOR, principalId));
    expect(r.code, r.stderr).toBe(0);
  });

  it('7. on the VM: curl lists the keys; `az storage blob upload --account-key` (Shared Key) stores a file', async () => {
    const r = split((await withToken('https://management.keyless.localhost/', '-X', 'POST', '-H', 'Content-Length: 0', listKeysUrl())).stdout);
    expect(r.status).toBe('200');
    const key = JSON.parse(r.body).keys[0].value as string;
    await registerKeylessCloud(k, vm.configDir);
    const file = path.join(vm.configDir, 'report.txt');
    fs.writeFileSync(file, 'written with a shared key');
    const up = await vm.az(['storage', 'blob', 'upload', '--account-name', ACCOUNT, '--account-key', key, '-c', 'uploads', '-n', 'report.txt', '-f', file, '--no-progress', '-o', 'none']);
    expect(up.code, up.stderr).toBe(0);
  });

  it('8. the operator reads it back', async () => {
    const out = path.join(az.configDir, 'report.txt');
    const r = await az.run(['storage', 'blob', 'download', '--account-name', ACCOUNT, '-c', 'uploads', '-n', 'report.txt', '-f', out, '--auth-mode', 'key', '--no-progress', '-o', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('written with a shared key');
  });
});
