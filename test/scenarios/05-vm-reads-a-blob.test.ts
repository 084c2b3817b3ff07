import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveKeyless, type ServedKeyless } from '../support/cli.js';
import { adminAz, applyEnvironment, azMissing, createStorageAccount, IsolatedVm, isolationMissing, prerequisites, registerKeylessCloud, roleAssignmentArgs, type Az } from '../compat/az/support/az.js';
import { ROLES } from '../compat/az/support/seed.js';

const ACCOUNT = 'webassets';

/**
 * Walkthrough (a), docs/walkthroughs/vm-reads-a-blob.md: a Linux VM reads text.txt ("hello") from a storage
 * container. Without an identity it cannot; with a system identity but no role it is refused; with "Storage
 * Blob Data Reader" on the account it reads — and still cannot write.
 */
describe.skipIf(prerequisites('scenario 05', azMissing(), isolationMissing()).skip)('scenario 05: a VM reads a blob with its managed identity', { timeout: 150_000 }, () => {
  let k: ServedKeyless;
  let az: Az;
  let vm: IsolatedVm;
  let port: string;
  let principalId: string;
  const blobUrl = () => `https://${ACCOUNT}.blob.keyless.localhost:${port}/docs/text.txt`;
  const imdsToken = (resource: string) => `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${resource}`;

  beforeAll(async () => {
    k = await serveKeyless();
    port = new URL(k.ready.endpoints.resourceManager).port;
  }, 90_000);
  afterAll(async () => {
    await vm?.stop();
    az?.dispose();
    await k?.stop();
  });

  it('1. the operator registers the Keyless cloud in az and signs in as the admin service principal', async () => {
    az = await adminAz(k);
    const r = await az.run(['account', 'show', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.environmentName).toBe('Keyless');
  });

  it('2. a resource group, a storage account, a container "docs" and text.txt = "hello" (account key)', async () => {
    expect((await az.run(['group', 'create', '-n', 'web-rg', '-l', 'westeurope', '-o', 'none'])).code).toBe(0);
    await createStorageAccount(az, k, 'web-rg', ACCOUNT);
    const c = await az.run(['storage', 'container', 'create', '-n', 'docs', '--account-name', ACCOUNT, '--auth-mode', 'key', '-o', 'json']);
    expect(c.code, c.stderr).toBe(0);
    const file = path.join(az.configDir, 'text.txt');
    fs.writeFileSync(file, 'hello');
    const up = await az.run(['storage', 'blob', 'upload', '--account-name', ACCOUNT, '-c', 'docs', '-n', 'text.txt', '-f', file, '--auth-mode', 'key', '--no-progress', '-o', 'none']);
    expect(up.code, up.stderr).toBe(0);
  });

  it('3. a Linux VM without an identity (`keyless apply`), and a shell on it (`keyless run --isolated`)', async () => {
    await applyEnvironment(k, ['location: westeurope', 'resourceGroups:', '  web-rg:', '    virtualMachines:', '      web-vm: {}', ''].join('\n'));
    vm = await IsolatedVm.start(k, 'web-vm');
    await registerKeylessCloud(k, vm.configDir);
  });

  it('4 (negative). without an identity, IMDS answers 400 "Identity not found" and `az login --identity` fails', async () => {
    const t = await vm.exec('curl', ['-s', '-H', 'Metadata:true', imdsToken('https://storage.azure.com')]);
    expect(t.json).toEqual({ error: 'invalid_request', error_description: 'Identity not found' });
    const login = await vm.az(['login', '--identity', '-o', 'none']);
    expect(login.code).not.toBe(0);
  });

  it('5. `az vm identity assign` gives the VM a system-assigned identity', async () => {
    const r = await az.run(['vm', 'identity', 'assign', '-g', 'web-rg', '-n', 'web-vm', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    principalId = r.json.systemAssignedIdentity;
    expect(principalId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('6 (negative). the VM now gets a storage token, but without a data role the blob read is 403 AuthorizationPermissionMismatch', async () => {
    const r = await vm.exec('sh', [
      '-c',
      'T=$(curl -s -H Metadata:true "$1" | jq -r .access_token) && curl -s -w "\\n%{http_code}" -H "Authorization: Bearer $T" -H "x-ms-version: 2021-08-06" "$2"',
      'sh',
      imdsToken('https://storage.azure.com'),
      blobUrl(),
    ]);
    const lines = r.stdout.trim().split('\n');
    const status = lines.pop();
    const body = lines.join('\n');
    expect(status).toBe('403');
    expect(body).toContain('AuthorizationPermissionMismatch');
  });

  it('7. the operator grants "Storage Blob Data Reader" on the account (az rest: Debian’s `az role assignment create` crashes)', async () => {
    const scope = `/subscriptions/${k.ready.subscriptionId}/resourceGroups/web-rg/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}`;
    const r = await az.run(roleAssignmentArgs(k, scope, ROLES.storageBlobDataReader, principalId));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.properties.scope).toBe(scope);
  });

  it('8. on the VM: `az login --identity`, then `az storage blob download --auth-mode login` prints hello', async () => {
    const login = await vm.az(['login', '--identity', '-o', 'json']);
    expect(login.code, login.stderr).toBe(0);
    expect(login.json[0].user).toMatchObject({ type: 'servicePrincipal', assignedIdentityInfo: 'MSI' });
    const out = path.join(vm.configDir, 'text.txt');
    const r = await vm.az(['storage', 'blob', 'download', '--account-name', ACCOUNT, '-c', 'docs', '-n', 'text.txt', '-f', out, '--auth-mode', 'login', '--no-progress', '-o', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('hello');
  });

  it('9 (negative). a reader cannot write: upload is 403 AuthorizationPermissionMismatch', async () => {
    const file = path.join(vm.configDir, 'mine.txt');
    fs.writeFileSync(file, 'mine');
    const r = await vm.az(['storage', 'blob', 'upload', '--account-name', ACCOUNT, '-c', 'docs', '-n', 'mine.txt', '-f', file, '--auth-mode', 'login', '--no-progress', '-o', 'none']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('AuthorizationPermissionMismatch');
  });
});
