import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveKeyless, type ServedKeyless } from '../../support/cli.js';
import { Az, azMissing, IsolatedVm, isolationMissing, prerequisites, registerKeylessCloud } from './support/az.js';
import { claimsOf, ROLES, Seed } from './support/seed.js';


/**
 * `az login --identity` with no environment at all, on an isolated VM (keyless run --isolated): az's
 * hard-coded GET http://169.254.169.254/metadata/identity/oauth2/token reaches that VM's IMDS, and ARM,
 * Key Vault and Blob names resolve to Keyless — nothing else is reachable.
 */
describe.skipIf(prerequisites('az compat (isolated VM)', azMissing(), isolationMissing()).skip)('az 2.45 on an isolated VM: az login --identity', { timeout: 150_000 }, () => {
  let k: ServedKeyless;
  let seed: Seed;
  let vm: IsolatedVm;
  let vmPrincipal: string;
  let uai: { id: string; clientId: string; principalId: string };
  let blobUrl: string;
  let vaultUrl: string;
  const ACCOUNT = 'azvmacct';
  const VAULT = 'azvmkv';

  beforeAll(async () => {
    k = await serveKeyless();
    seed = new Seed(k);
    await seed.group('vm-rg');
    await seed.group('other-rg');
    const id = await seed.identity('vm-rg', 'vm-uai');
    uai = { id: id.id, clientId: id.properties.clientId, principalId: id.properties.principalId };
    const v = await seed.vm('vm-rg', 'app-vm', { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uai.id]: {} } });
    vmPrincipal = v.identity.principalId;
    await seed.assign(ROLES.contributor, vmPrincipal, seed.rg('vm-rg'));
    // az login needs a visible subscription: any role in it will do.
    await seed.assign(ROLES.reader, uai.principalId, seed.rg('vm-rg'));
    const sa = await seed.storageWithBlob('vm-rg', ACCOUNT, 'docs', 'text.txt', 'hello');
    blobUrl = sa.url;
    await seed.assign(ROLES.storageBlobDataReader, vmPrincipal, sa.id);
    const kv = await seed.vaultWithSecret('vm-rg', VAULT, 's1', 'in-the-vault');
    vaultUrl = kv.url;
    await seed.assign(ROLES.keyVaultSecretsUser, vmPrincipal, kv.id);
    vm = await IsolatedVm.start(k, 'app-vm');
    // The VM's own az profile, with the Keyless cloud registered before login (as on a real VM image).
    await registerKeylessCloud(k, vm.configDir);
  }, 180_000);
  afterAll(async () => {
    await vm?.stop();
    await k?.stop();
  });

  it('1. plain curl reaches the VM’s IMDS at 169.254.169.254; without Metadata: true it gets 400', async () => {
    const url = 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.keyless.localhost/';
    const ok = await vm.exec('curl', ['-s', '-H', 'Metadata:true', url]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(claimsOf(ok.json.access_token).oid).toBe(vmPrincipal);
    const probe = await vm.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', url]);
    expect(probe.stdout).toBe('400');
  });

  it('2. `az login --identity` with no environment logs in as the system-assigned identity', async () => {
    const r = await vm.az(['login', '--identity', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toHaveLength(1);
    expect(r.json[0]).toMatchObject({ id: seed.sub, tenantId: k.ready.tenantId, user: { type: 'servicePrincipal', name: 'systemAssignedIdentity', assignedIdentityInfo: 'MSI' } });
  });

  it('3. Contributor on vm-rg: `az group show` and `az identity create` there work', async () => {
    const show = await vm.az(['group', 'show', '-n', 'vm-rg', '-o', 'json']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.json.id).toBe(seed.rg('vm-rg'));
    const made = await vm.az(['identity', 'create', '-g', 'vm-rg', '-n', 'made-by-vm', '-o', 'json']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.json.name).toBe('made-by-vm');
  });

  it('4 (negative). in other-rg the same identity gets AuthorizationFailed naming its object id', async () => {
    const r = await vm.az(['identity', 'create', '-g', 'other-rg', '-n', 'nope', '-o', 'json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('AuthorizationFailed');
    expect(r.stderr).toContain(vmPrincipal);
  });

  it('5. `az account get-access-token --resource https://vault.azure.net` comes from IMDS for the VM identity', async () => {
    const r = await vm.az(['account', 'get-access-token', '--resource', 'https://vault.azure.net', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const c = claimsOf(r.json.accessToken);
    expect(c.aud).toBe('https://vault.azure.net');
    expect(c.oid).toBe(vmPrincipal);
    expect(String(c.xms_mirid).toLowerCase()).toMatch(/\/virtualmachines\/app-vm$/);
  });

  it('6. `az rest --resource https://vault.azure.net` reads a secret by the vault’s host name (Key Vault Secrets User)', async () => {
    const r = await vm.az(['rest', '--resource', 'https://vault.azure.net', '--url', `${vaultUrl}/secrets/s1?api-version=7.3`, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.value).toBe('in-the-vault');
  });

  it('7. `az storage blob download --auth-mode login` reads text.txt by the account’s host name (Storage Blob Data Reader)', async () => {
    const out = path.join(vm.configDir, 'text.txt');
    const r = await vm.az(['storage', 'blob', 'download', '--account-name', ACCOUNT, '-c', 'docs', '-n', 'text.txt', '-f', out, '--auth-mode', 'login', '-o', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('hello');
    expect(blobUrl).toContain(`${ACCOUNT}.blob.keyless.localhost`);
  });

  it('8 (negative). the Reader data role does not let the VM upload (AuthorizationPermissionMismatch)', async () => {
    const file = path.join(vm.configDir, 'up.txt');
    fs.writeFileSync(file, 'nope');
    const r = await vm.az(['storage', 'blob', 'upload', '--account-name', ACCOUNT, '-c', 'docs', '-n', 'up.txt', '-f', file, '--auth-mode', 'login', '-o', 'none']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('AuthorizationPermissionMismatch');
  });

  it('9. `az login --identity -u <clientId>` picks the user-assigned identity', async () => {
    const r = await vm.az(['login', '--identity', '-u', uai.clientId, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json[0].user.assignedIdentityInfo).toBe(`MSIClient-${uai.clientId}`);
    const t = await vm.az(['account', 'get-access-token', '-o', 'json']);
    expect(t.code, t.stderr).toBe(0);
    expect(claimsOf(t.json.accessToken).oid).toBe(uai.principalId);
  });

  it('10. `az login --identity -u <objectId>`: az sends client_id first, gets 400, retries with object_id', async () => {
    const r = await vm.az(['login', '--identity', '-u', uai.principalId, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json[0].user.assignedIdentityInfo).toBe(`MSIObject-${uai.principalId}`);
  });

  it('11 (negative). nothing but Keyless is reachable: other host ports, other IMDS ports, the internet and DNS all fail fast', async () => {
    const r = await vm.exec('sh', [
      '-c',
      // Fixed probes only; prints one status per line.
      'for u in http://169.254.169.254:81/ http://1.1.1.1/ https://login.microsoftonline.com/; do curl -s -m 5 -o /dev/null "$u"; echo $?; done; getent hosts example.com >/dev/null; echo $?',
    ]);
    const codes = r.stdout.trim().split('\n').map(Number);
    expect(codes).toHaveLength(4);
    expect(codes.every((c) => c !== 0)).toBe(true);
  });

  it('12. Cloud Shell route: `MSI_ENDPOINT=… az login --identity` on the host, where the IMDS listener serves /msi/token', async () => {
    const env = JSON.parse((await k.cli(['env', '--vm', 'app-vm', '--format', 'json'])).stdout) as Record<string, string>;
    // The VM's az profile already has the cloud; on the host MSI_ENDPOINT alone decides where tokens come from.
    const az = new Az(vm.configDir);
    const r = await az.run(['login', '--identity', '-o', 'json'], { MSI_ENDPOINT: `${env['AZURE_POD_IDENTITY_AUTHORITY_HOST']}/msi/token` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json[0].user.assignedIdentityInfo).toBe('MSI');
  });

  it('13. leaving the VM removes its namespace, link, rules and private hosts file', async () => {
    const inside = await vm.exec('ip', ['netns', 'identify']);
    const netns = inside.stdout.trim();
    expect(netns).toMatch(/^keyless-[0-9a-f]{6}-[0-9a-f]{4}$/);
    const code = await vm.stop();
    expect(code).toBe(0);
    expect(fs.existsSync(`/run/netns/${netns}`)).toBe(false);
    expect(fs.existsSync(`/etc/netns/${netns}`)).toBe(false);
    expect(fs.readdirSync('/sys/class/net').filter((n) => n.startsWith(`kl${netns.slice(8, 14)}${netns.slice(15)}`))).toEqual([]);
  });
});
