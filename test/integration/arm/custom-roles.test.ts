import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedKeyless } from '../../../src/index.js';
import { banner } from '../../../src/cli/banner.js';
import { adminToken, arm, http, startTestKeyless } from '../../support/keyless.js';

const API = 'api-version=2022-04-01';
const VM_READ = 'Microsoft.Compute/virtualMachines/read';
const RD = 'Microsoft.Authorization/roleDefinitions';

async function appToken(k: StartedKeyless, app: { clientId: string; clientSecret: string }): Promise<string> {
  const r = await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: `${k.endpoints.armAudience}.default` }).toString(),
  });
  expect(r.status, r.text).toBe(200);
  return r.json.access_token as string;
}

const roleBody = (roleName: string, assignableScopes: string[], actions = [VM_READ], extra: Record<string, unknown> = {}) => ({
  properties: { roleName, description: 'custom', type: 'CustomRole', assignableScopes, permissions: [{ actions, notActions: [], dataActions: [], notDataActions: [] }], ...extra },
});

/** Issue 4: custom role definitions written through ARM, as Azure does it, and used by assignments. */
describe('custom role definitions through ARM', () => {
  let k: StartedKeyless;
  let token: string;
  let dev: { clientId: string; objectId: string; clientSecret: string };
  let devToken: string;
  const sub = () => `/subscriptions/${k.subscriptionId}`;
  const rg = (name = 'cr-rg') => `${sub()}/resourceGroups/${name}`;
  const vm = () => `${rg()}/providers/Microsoft.Compute/virtualMachines/vm1`;
  const roleUrl = (scope: string, guid: string) => `${scope}/providers/${RD}/${guid}?${API}`;
  const assign = (scope: string, roleGuid: string, principalId: string, t = token) =>
    arm(k, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${API}`, {
      properties: { roleDefinitionId: `${sub()}/providers/${RD}/${roleGuid}`, principalId, principalType: 'ServicePrincipal' },
    }, t);
  const vmReader = randomUUID();

  beforeAll(async () => {
    k = await startTestKeyless();
    token = await adminToken(k);
    for (const g of ['cr-rg', 'cr-other']) expect((await arm(k, 'PUT', `${rg(g)}?api-version=2021-04-01`, { location: 'westeurope' }, token)).status).toBe(201);
    expect((await arm(k, 'PUT', `${vm()}?api-version=2024-07-01`, { location: 'westeurope' }, token)).status).toBeLessThan(300);
    dev = await k.createApplication('custom-role-dev');
    devToken = await appToken(k, dev);
  }, 60_000);
  afterAll(async () => k?.stop());

  it('creates a custom role (201), reads it back, lists it by type and by name', async () => {
    const put = await arm(k, 'PUT', roleUrl(sub(), vmReader), roleBody('VM Reader', [sub()]), token);
    expect(put.status, put.text).toBe(201);
    expect(put.json).toMatchObject({
      id: `${sub()}/providers/${RD}/${vmReader}`,
      name: vmReader,
      type: RD,
      properties: { roleName: 'VM Reader', type: 'CustomRole', assignableScopes: [sub()], permissions: [{ actions: [VM_READ] }], createdBy: k.admin.objectId },
    });
    const get = await arm(k, 'GET', roleUrl(rg(), vmReader), undefined, token);
    expect(get.status).toBe(200);
    expect(get.json.properties.roleName).toBe('VM Reader');
    const custom = await arm(k, 'GET', `${sub()}/providers/${RD}?${API}&$filter=${encodeURIComponent("type eq 'CustomRole'")}`, undefined, token);
    expect(custom.json.value.map((r: any) => r.name)).toEqual([vmReader]);
    const byName = await arm(k, 'GET', `${rg()}/providers/${RD}?${API}&$filter=${encodeURIComponent("roleName eq 'VM Reader'")}`, undefined, token);
    expect(byName.json.value.map((r: any) => r.name)).toEqual([vmReader]);
  });

  it('assigned to a second principal, it grants exactly virtualMachines/read', async () => {
    expect((await arm(k, 'GET', `${vm()}?api-version=2024-07-01`, undefined, devToken)).status).toBe(403);
    const a = await assign(rg(), vmReader, dev.objectId);
    expect(a.status, a.text).toBe(201);
    const read = await arm(k, 'GET', `${vm()}?api-version=2024-07-01`, undefined, devToken);
    expect(read.status, read.text).toBe(200);
    expect(read.json.name).toBe('vm1');
    // Nothing else: not the group, not writing the VM, not other resource types.
    const denied = [
      await arm(k, 'GET', `${rg()}?api-version=2021-04-01`, undefined, devToken),
      await arm(k, 'PUT', `${vm()}?api-version=2024-07-01`, { location: 'westeurope' }, devToken),
      await arm(k, 'PUT', `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope?api-version=2023-01-31`, { location: 'westeurope' }, devToken),
    ];
    for (const d of denied) expect(d.json.error.code).toBe('AuthorizationFailed');
  });

  it('refuses deleting a role while assignments reference it', async () => {
    const del = await arm(k, 'DELETE', roleUrl(sub(), vmReader), undefined, token);
    expect(del.status).toBe(409);
    expect(del.json).toEqual({ error: { code: 'RoleDefinitionHasAssignments', message: 'There are existing role assignments referencing role' } });
  });

  it('updates in place; names are unique in the directory; Azure’s validation applies', async () => {
    const upd = await arm(k, 'PUT', roleUrl(sub(), vmReader), roleBody('VM Reader', [sub()], [VM_READ], { description: 'updated' }), token);
    expect(upd.status).toBe(201);
    expect(upd.json.properties.description).toBe('updated');
    const same = await arm(k, 'PUT', roleUrl(sub(), randomUUID()), roleBody('vm reader', [sub()]), token);
    expect(same.status).toBe(409);
    expect(same.json.error.code).toBe('RoleDefinitionWithSameNameExists');
    const builtinName = await arm(k, 'PUT', roleUrl(sub(), randomUUID()), roleBody('Reader', [sub()]), token);
    expect(builtinName.json.error.code).toBe('RoleDefinitionWithSameNameExists');
    const wildcards = await arm(k, 'PUT', roleUrl(sub(), randomUUID()), roleBody('Two stars', [sub()], ['Microsoft.CostManagement/*/query/*']), token);
    expect(wildcards.status).toBe(400);
    expect(wildcards.json.error).toEqual({ code: 'InvalidActionOrNotAction', message: "'Microsoft.CostManagement/*/query/*' contains multiple wildcards. Only one is allowed." });
    const noScopes = await arm(k, 'PUT', roleUrl(sub(), randomUUID()), roleBody('No scopes', []), token);
    expect(noScopes.status).toBe(400);
    expect(noScopes.json.error.code).toBe('InvalidRoleDefinition');
    const outside = await arm(k, 'PUT', roleUrl(sub(), randomUUID()), roleBody('Elsewhere', [rg('cr-other')]), token);
    expect(outside.status).toBe(400);
    expect(outside.json.error.code).toBe('InvalidRoleDefinitionScope');
    const builtin = await arm(k, 'PUT', roleUrl(sub(), 'acdd72a7-3385-48ef-bd42-f606fba81ae7'), roleBody('My Reader', [sub()]), token);
    expect(builtin.json.error.code).toBe('CannotModifyBuiltInRoleDefinition');
    const builtinDelete = await arm(k, 'DELETE', roleUrl(sub(), 'acdd72a7-3385-48ef-bd42-f606fba81ae7'), undefined, token);
    expect(builtinDelete.json.error.code).toBe('CannotModifyBuiltInRoleDefinition');
    const badName = await arm(k, 'PUT', roleUrl(sub(), 'vm-reader'), roleBody('Bad name', [sub()]), token);
    expect(badName.json.error.code).toBe('InvalidRoleDefinitionId');
    const notJson = await arm(k, 'PUT', roleUrl(sub(), randomUUID()), '{"properties":', token);
    expect(notJson.status).toBe(400);
  });

  it('a role is assignable only within its assignable scopes', async () => {
    const guid = randomUUID();
    expect((await arm(k, 'PUT', roleUrl(rg(), guid), roleBody('RG-only reader', [rg()]), token)).status).toBe(201);
    const out = await assign(rg('cr-other'), guid, dev.objectId);
    expect(out.status).toBe(404);
    expect(out.json.error).toEqual({ code: 'RoleDefinitionDoesNotExist', message: `The specified role definition with ID '${guid}' does not exist.` });
    // Not visible there either, as in Azure's list.
    expect((await arm(k, 'GET', roleUrl(rg('cr-other'), guid), undefined, token)).status).toBe(404);
    expect((await arm(k, 'DELETE', roleUrl(rg(), guid), undefined, token)).status).toBe(200);
  });

  it('writing needs roleDefinitions/write at the request scope and on every assignable scope', async () => {
    const guid = randomUUID();
    const noRight = await arm(k, 'PUT', roleUrl(rg(), guid), roleBody('Dev role', [rg()]), devToken);
    expect(noRight.status).toBe(403);
    expect(noRight.json.error.code).toBe('AuthorizationFailed');
    expect(noRight.json.error.message).toContain(`does not have authorization to perform action '${RD}/write' over scope '${rg()}'`);
    // User Access Administrator on one group only: the second assignable scope is a linked scope it lacks.
    const uaa = await k.assignRole({ principalId: dev.objectId, role: 'User Access Administrator', scope: rg() });
    const linked = await arm(k, 'PUT', roleUrl(rg(), guid), roleBody('Dev role', [rg(), rg('cr-other')]), devToken);
    expect(linked.status).toBe(403);
    expect(linked.json.error).toEqual({
      code: 'LinkedAuthorizationFailed',
      message: `The client '${dev.clientId}' with object id '${dev.objectId}' has permission to perform action '${RD}/write' on scope '${rg()}'; however, it does not have permission to perform action '${RD}/write' on the linked scope(s)'${rg('cr-other')}' or the linked scope(s)are invalid`,
    });
    const ok = await arm(k, 'PUT', roleUrl(rg(), guid), roleBody('Dev role', [rg()]), devToken);
    expect(ok.status, ok.text).toBe(201);
    // The admin widens it to a scope the developer does not control; the developer can then no longer delete it.
    expect((await arm(k, 'PUT', roleUrl(rg(), guid), roleBody('Dev role', [rg(), rg('cr-other')]), token)).status).toBe(201);
    const del = await arm(k, 'DELETE', roleUrl(rg(), guid), undefined, devToken);
    expect(del.json.error.code).toBe('LinkedAuthorizationFailed');
    expect(del.json.error.message).toContain(`'${RD}/delete' on the linked scope(s)'${rg('cr-other')}'`);
    expect((await arm(k, 'DELETE', roleUrl(rg(), guid), undefined, token)).status).toBe(200);
    await k.authorization.deleteAssignment(uaa.name);
  });

  it('delete returns the role (200), then 204; the grant is gone; the activity log has the writes', async () => {
    const list = await arm(k, 'GET', `${rg()}/providers/Microsoft.Authorization/roleAssignments?${API}&$filter=${encodeURIComponent(`principalId eq '${dev.objectId}'`)}`, undefined, token);
    for (const a of list.json.value.filter((x: any) => x.properties.roleDefinitionId.endsWith(vmReader))) {
      expect((await arm(k, 'DELETE', `${a.id}?${API}`, undefined, token)).status).toBe(200);
    }
    const del = await arm(k, 'DELETE', roleUrl(sub(), vmReader), undefined, token);
    expect(del.status).toBe(200);
    expect(del.json.name).toBe(vmReader);
    expect((await arm(k, 'DELETE', roleUrl(sub(), vmReader), undefined, token)).status).toBe(204);
    expect((await arm(k, 'GET', roleUrl(sub(), vmReader), undefined, token)).status).toBe(404);
    expect((await arm(k, 'GET', `${vm()}?api-version=2024-07-01`, undefined, devToken)).status).toBe(403);

    await k.audit.flush();
    const since = new Date(Date.now() - 10 * 60_000).toISOString();
    const log = await arm(k, 'GET', `${sub()}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(`eventTimestamp ge '${since}'`)}`, undefined, token);
    expect(log.status, log.text).toBe(200);
    const ops = log.json.value.filter((e: any) => String(e.resourceId).toLowerCase().endsWith(vmReader)).map((e: any) => `${e.operationName.value} ${e.httpRequest.method} ${e.properties.statusCode}`);
    expect(ops).toEqual(expect.arrayContaining([`${RD}/write PUT Created`, `${RD}/delete DELETE OK`, `${RD}/delete DELETE Conflict`]));
  });
});

describe('custom roles survive a restart', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-custom-role-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('the role and its assignment still grant after the restart', async () => {
    const guid = randomUUID();
    const k1 = await startTestKeyless({ dataDir });
    let dev: { clientId: string; objectId: string; clientSecret: string };
    let vmId: string;
    // The admin secret is shown on first start only; its token stays valid across the restart.
    let token: string;
    try {
      token = await adminToken(k1);
      const rgId = `/subscriptions/${k1.subscriptionId}/resourceGroups/keep-rg`;
      await arm(k1, 'PUT', `${rgId}?api-version=2021-04-01`, { location: 'westeurope' }, token);
      vmId = (await arm(k1, 'PUT', `${rgId}/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2024-07-01`, { location: 'westeurope' }, token)).json.id;
      expect((await arm(k1, 'PUT', `${rgId}/providers/${RD}/${guid}?${API}`, roleBody('Kept VM Reader', [rgId]), token)).status).toBe(201);
      dev = await k1.createApplication('kept-dev');
      await k1.assignRole({ principalId: dev.objectId, role: guid, scope: rgId });
    } finally {
      await k1.stop();
    }
    const k2 = await startTestKeyless({ dataDir });
    try {
      const got = await arm(k2, 'GET', `/subscriptions/${k2.subscriptionId}/providers/${RD}/${guid}?${API}`, undefined, token);
      expect(got.status).toBe(200);
      expect(got.json.properties.roleName).toBe('Kept VM Reader');
      const devToken = await appToken(k2, dev);
      expect((await arm(k2, 'GET', `${vmId}?api-version=2024-07-01`, undefined, devToken)).status).toBe(200);
      expect((await arm(k2, 'GET', `${vmId.split('/providers/')[0]}?api-version=2021-04-01`, undefined, devToken)).status).toBe(403);
    } finally {
      await k2.stop();
    }
  }, 60_000);
});

describe('propagation delay (fidelity option)', () => {
  let k: StartedKeyless;
  afterAll(async () => k?.stop());

  it('assignments and custom role changes reach decisions only after the delay; reads show them at once', async () => {
    k = await startTestKeyless({ authzPropagationDelaySec: 120 });
    const health = await http('GET', `${k.endpoints.resourceManager}/health`);
    expect(health.json).toMatchObject({ authorization: 'enforce', authorizationPropagationDelaySec: 120 });
    expect(banner(k)).toContain('enforced (Azure RBAC); changes take effect after 120 s (emulated propagation delay)');
    const token = await adminToken(k);
    const sub = `/subscriptions/${k.subscriptionId}`;
    const rgId = `${sub}/resourceGroups/slow-rg`;
    await arm(k, 'PUT', `${rgId}?api-version=2021-04-01`, { location: 'westeurope' }, token);
    const guid = randomUUID();
    expect((await arm(k, 'PUT', `${sub}/providers/${RD}/${guid}?${API}`, roleBody('Slow reader', [sub], ['Microsoft.Resources/subscriptions/resourceGroups/read']), token)).status).toBe(201);
    const dev = await k.createApplication('slow-dev');
    const name = randomUUID();
    const put = await arm(k, 'PUT', `${rgId}/providers/Microsoft.Authorization/roleAssignments/${name}?${API}`, {
      properties: { roleDefinitionId: `${sub}/providers/${RD}/${guid}`, principalId: dev.objectId, principalType: 'ServicePrincipal' },
    }, token);
    expect(put.status, put.text).toBe(201);
    expect((await arm(k, 'GET', `${rgId}/providers/Microsoft.Authorization/roleAssignments/${name}?${API}`, undefined, token)).status).toBe(200);
    const devToken = await appToken(k, dev);
    const readRg = async () => (await arm(k, 'GET', `${rgId}?api-version=2021-04-01`, undefined, devToken)).status;
    expect(await readRg()).toBe(403);
    k.clock.shift(121_000);
    expect(await readRg()).toBe(200);
    // The role loses its action: still granted until the delay has passed again.
    expect((await arm(k, 'PUT', `${sub}/providers/${RD}/${guid}?${API}`, roleBody('Slow reader', [sub], [VM_READ]), token)).status).toBe(201);
    expect(await readRg()).toBe(200);
    k.clock.shift(242_000);
    expect(await readRg()).toBe(403);
  }, 60_000);
});
