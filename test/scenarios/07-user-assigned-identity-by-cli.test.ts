import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveKeyless, type ServedKeyless } from '../support/cli.js';
import { adminAz, applyEnvironment, azMissing, IsolatedVm, isolationMissing, prerequisites, registerKeylessCloud, roleAssignmentArgs, type Az } from '../compat/az/support/az.js';
import { claimsOf, ROLES } from '../compat/az/support/seed.js';

/**
 * Walkthrough (c), docs/walkthroughs/user-assigned-identity-by-cli.md: a user-assigned identity created with
 * `az identity create` and attached with `az vm identity assign --identities`; the VM picks it by client id
 * (and, as its only identity, by default); an identity it does not carry is refused.
 */
describe.skipIf(prerequisites('scenario 07', azMissing(), isolationMissing()).skip)('scenario 07: a user-assigned identity, created and attached with az', { timeout: 150_000 }, () => {
  let k: ServedKeyless;
  let az: Az;
  let vm: IsolatedVm;
  let appId: { id: string; clientId: string; principalId: string };
  let otherId: { clientId: string };
  const token = (extra = '') => `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net${extra}`;

  beforeAll(async () => {
    k = await serveKeyless();
  }, 90_000);
  afterAll(async () => {
    await vm?.stop();
    az?.dispose();
    await k?.stop();
  });

  it('1. the operator: Keyless cloud in az, admin sign-in, group id-rg, VM app-vm without identity (keyless apply)', async () => {
    az = await adminAz(k);
    expect((await az.run(['group', 'create', '-n', 'id-rg', '-l', 'westeurope', '-o', 'none'])).code).toBe(0);
    await applyEnvironment(k, ['location: westeurope', 'resourceGroups:', '  id-rg:', '    virtualMachines:', '      app-vm: {}', ''].join('\n'));
  });

  it('2. `az identity create` twice: app-id (for the VM) and other-id (not for it)', async () => {
    const a = await az.run(['identity', 'create', '-g', 'id-rg', '-n', 'app-id', '-o', 'json']);
    expect(a.code, a.stderr).toBe(0);
    appId = a.json;
    const b = await az.run(['identity', 'create', '-g', 'id-rg', '-n', 'other-id', '-o', 'json']);
    expect(b.code, b.stderr).toBe(0);
    otherId = b.json;
  });

  it('3. `az vm identity assign --identities app-id` attaches it (no system identity)', async () => {
    const r = await az.run(['vm', 'identity', 'assign', '-g', 'id-rg', '-n', 'app-vm', '--identities', 'app-id', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.systemAssignedIdentity).toBe('');
    expect(r.json.userAssignedIdentities[appId.id]).toEqual({ clientId: appId.clientId, principalId: appId.principalId });
  });

  it('4. on the VM: IMDS with client_id=<app-id> returns a token for app-id; its only identity is also the default', async () => {
    vm = await IsolatedVm.start(k, 'app-vm');
    const byId = await vm.exec('curl', ['-s', '-H', 'Metadata:true', token(`&client_id=${appId.clientId}`)]);
    expect(claimsOf(byId.json.access_token)).toMatchObject({ oid: appId.principalId, appid: appId.clientId });
    const byDefault = await vm.exec('curl', ['-s', '-H', 'Metadata:true', token()]);
    expect(claimsOf(byDefault.json.access_token).oid).toBe(appId.principalId);
  });

  it('5 (negative). client_id of an identity the VM does not carry: 400 "Identity not found"', async () => {
    const r = await vm.exec('curl', ['-s', '-w', '\n%{http_code}', '-H', 'Metadata:true', token(`&client_id=${otherId.clientId}`)]);
    const [body, status] = r.stdout.trim().split('\n');
    expect(status).toBe('400');
    expect(JSON.parse(body!)).toEqual({ error: 'invalid_request', error_description: 'Identity not found' });
  });

  it('6. Reader on id-rg for app-id, then `az login --identity -u <clientId>` and `az group show` on the VM', async () => {
    const ra = await az.run(roleAssignmentArgs(k, `/subscriptions/${k.ready.subscriptionId}/resourceGroups/id-rg`, ROLES.reader, appId.principalId));
    expect(ra.code, ra.stderr).toBe(0);
    await registerKeylessCloud(k, vm.configDir);
    const login = await vm.az(['login', '--identity', '-u', appId.clientId, '-o', 'json']);
    expect(login.code, login.stderr).toBe(0);
    expect(login.json[0].user.assignedIdentityInfo).toBe(`MSIClient-${appId.clientId}`);
    const show = await vm.az(['group', 'show', '-n', 'id-rg', '-o', 'json']);
    expect(show.code, show.stderr).toBe(0);
  });

  it('7 (negative). Reader cannot write: `az identity create` from the VM is AuthorizationFailed', async () => {
    const r = await vm.az(['identity', 'create', '-g', 'id-rg', '-n', 'made-by-reader', '-o', 'json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('AuthorizationFailed');
    expect(r.stderr).toContain(appId.principalId);
  });
});
