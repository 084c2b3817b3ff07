import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveKeyless, type ServedKeyless } from '../support/cli.js';
import { adminAz, applyEnvironment, azMissing, IsolatedVm, isolationMissing, prerequisites, registerKeylessCloud, roleAssignmentArgs, type Az } from '../compat/az/support/az.js';
import { ROLES, Seed } from '../compat/az/support/seed.js';

/**
 * Walkthrough (b), docs/walkthroughs/az-login-identity-on-a-vm.md: on a VM whose identity is Contributor on
 * one resource group, `az login --identity` (no environment) manages resources there and nowhere else, and
 * the activity log names the VM's identity, not a user.
 */
describe.skipIf(prerequisites('scenario 06', azMissing(), isolationMissing()).skip)('scenario 06: az login --identity on a VM, Contributor on one resource group', { timeout: 150_000 }, () => {
  let k: ServedKeyless;
  let az: Az;
  let vm: IsolatedVm;
  let principalId: string;

  beforeAll(async () => {
    k = await serveKeyless();
  }, 90_000);
  afterAll(async () => {
    await vm?.stop();
    az?.dispose();
    await k?.stop();
  });

  it('1. the operator: Keyless cloud in az, admin sign-in, groups app-rg and other-rg, VM app-vm (keyless apply)', async () => {
    az = await adminAz(k);
    for (const g of ['app-rg', 'other-rg']) expect((await az.run(['group', 'create', '-n', g, '-l', 'westeurope', '-o', 'none'])).code).toBe(0);
    await applyEnvironment(k, ['location: westeurope', 'resourceGroups:', '  app-rg:', '    virtualMachines:', '      app-vm: {}', ''].join('\n'));
  });

  it('2. `az vm identity assign`, then Contributor on app-rg for that identity (az rest)', async () => {
    const r = await az.run(['vm', 'identity', 'assign', '-g', 'app-rg', '-n', 'app-vm', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    principalId = r.json.systemAssignedIdentity;
    const ra = await az.run(roleAssignmentArgs(k, `/subscriptions/${k.ready.subscriptionId}/resourceGroups/app-rg`, ROLES.contributor, principalId));
    expect(ra.code, ra.stderr).toBe(0);
  });

  it('3. on the VM (keyless vm shell / run --isolated): `az login --identity` with no environment', async () => {
    vm = await IsolatedVm.start(k, 'app-vm');
    await registerKeylessCloud(k, vm.configDir);
    const r = await vm.az(['login', '--identity', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json[0]).toMatchObject({ id: k.ready.subscriptionId, user: { name: 'systemAssignedIdentity', type: 'servicePrincipal', assignedIdentityInfo: 'MSI' } });
  });

  it('4. in app-rg: `az group show` and `az identity create` work', async () => {
    const show = await vm.az(['group', 'show', '-n', 'app-rg', '-o', 'json']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.json.name).toBe('app-rg');
    const made = await vm.az(['identity', 'create', '-g', 'app-rg', '-n', 'made-by-vm', '-o', 'json']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.json.id).toBe(`/subscriptions/${k.ready.subscriptionId}/resourceGroups/app-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/made-by-vm`);
  });

  it('5 (negative). in other-rg: `az identity create` fails with AuthorizationFailed for the VM’s object id', async () => {
    const r = await vm.az(['identity', 'create', '-g', 'other-rg', '-n', 'not-allowed', '-o', 'json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('AuthorizationFailed');
    expect(r.stderr).toContain(principalId);
    expect(r.stderr).toContain('/resourceGroups/other-rg');
  });

  it('6. the activity log records the write and the denial under the VM’s identity, not a user', async (ctx) => {
    const events = await new Seed(k).auditEvents({ principal: principalId, category: 'activity' });
    if (!events) {
      console.warn('[PENDING] scenario 06 step 6: GET /keyless/v1/audit/events is not served by this build');
      ctx.skip();
    }
    const write = events!.find((e) => /userAssignedIdentities\/write$/i.test(e.operation) && JSON.stringify(e).includes('made-by-vm'));
    expect(write, JSON.stringify(events!.map((e) => [e.operation, e.result]))).toBeDefined();
    expect(write.principalId).toBe(principalId);
    expect(write.result).toBe('succeeded');
    const denied = events!.find((e) => e.result === 'denied' && JSON.stringify(e).includes('other-rg'));
    expect(denied).toBeDefined();
    expect(denied.principalId).toBe(principalId);
  });
});
