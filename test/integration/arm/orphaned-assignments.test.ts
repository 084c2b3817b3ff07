import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKeyless } from '../../support/keyless.js';
import { admin, armAs, group, sub } from '../audit/helpers.js';
import type { StartedKeyless } from '../../../src/index.js';

const RA = 'providers/Microsoft.Authorization/roleAssignments';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const API = 'api-version=2022-04-01';

/**
 * authorization.md §5 (lifecycle): deleting a managed identity leaves its role assignments in place (Azure shows
 * them as "Identity not found"); a re-created identity of the same name is a new principal and inherits none of
 * them; the orphan's name cannot be reused for another principal (RoleAssignmentUpdateNotPermitted); it can be
 * deleted. And `$filter=assignedTo('{id}')` on the list.
 */
describe('role assignments of deleted identities, and assignedTo()', () => {
  let k: StartedKeyless;
  let tok: string;
  const rg = () => group(k, 'orphan-rg');
  const uami = () => `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id`;
  const vm = () => `${rg()}/providers/Microsoft.Compute/virtualMachines/vm1`;
  const assign = (scope: string, name: string, principalId: string, role = READER) =>
    armAs(k, tok, 'PUT', `${scope}/${RA}/${name}?${API}`, { properties: { roleDefinitionId: `${sub(k)}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId } });
  const list = async (scope: string, filter: string): Promise<{ name: string; properties: { principalId: string; scope: string } }[]> => {
    const r = await armAs(k, tok, 'GET', `${scope}/${RA}?${API}&$filter=${encodeURIComponent(filter)}`);
    expect(r.status, r.text).toBe(200);
    return r.json.value;
  };

  beforeAll(async () => {
    k = await startTestKeyless();
    tok = await admin(k);
    expect((await armAs(k, tok, 'PUT', rg(), { location: 'westeurope' })).status).toBe(201);
  }, 60_000);
  afterAll(async () => k?.stop());

  it('a deleted user-assigned identity keeps its assignments; a new one of the same name inherits none', async () => {
    const first = (await armAs(k, tok, 'PUT', uami(), { location: 'westeurope' })).json.properties.principalId as string;
    const atGroup = '1c0d5f3a-0000-4000-8000-0000000000a1';
    const atSub = '1c0d5f3a-0000-4000-8000-0000000000a2';
    expect((await assign(rg(), atGroup, first)).status).toBe(201);
    expect((await assign(sub(k), atSub, first)).status).toBe(201);

    expect((await armAs(k, tok, 'DELETE', uami())).status).toBe(200);
    // Orphaned, still listed and readable (Azure: "Identity not found", principalType as written).
    const orphans = await list(sub(k), `principalId eq '${first}'`);
    expect(orphans.map((a) => a.name).sort()).toEqual([atGroup, atSub]);
    const got = await armAs(k, tok, 'GET', `${rg()}/${RA}/${atGroup}?${API}`);
    expect(got.json.properties).toMatchObject({ principalId: first, principalType: 'ServicePrincipal' });
    // Re-assigning the deleted principal without a principalType asks the directory: it is gone.
    const again = await armAs(k, tok, 'PUT', `${rg()}/${RA}/1c0d5f3a-0000-4000-8000-0000000000a3?${API}`, {
      properties: { roleDefinitionId: `${sub(k)}/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR}`, principalId: first },
    });
    expect(again.json.error.code).toBe('PrincipalNotFound');

    const second = (await armAs(k, tok, 'PUT', uami(), { location: 'westeurope' })).json.properties.principalId as string;
    expect(second).not.toBe(first);
    expect(await list(sub(k), `principalId eq '${second}'`)).toEqual([]);
    // A redeploy reusing the orphan's name for the new principal: Azure's RoleAssignmentUpdateNotPermitted.
    const reuse = await assign(rg(), atGroup, second);
    expect(reuse.status).toBe(409);
    expect(reuse.json).toEqual({ error: { code: 'RoleAssignmentUpdateNotPermitted', message: 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.' } });
    expect((await assign(rg(), '1c0d5f3a-0000-4000-8000-0000000000a4', second)).status).toBe(201);

    // The orphans can be deleted.
    expect((await armAs(k, tok, 'DELETE', `${rg()}/${RA}/${atGroup}?${API}`)).status).toBe(200);
    expect((await armAs(k, tok, 'DELETE', `${sub(k)}/${RA}/${atSub}?${API}`)).status).toBe(200);
    expect(await list(sub(k), `principalId eq '${first}'`)).toEqual([]);
  });

  it("a deleted VM's system-assigned identity keeps its assignments elsewhere; those on the VM go with it", async () => {
    const body = { location: 'westeurope', identity: { type: 'SystemAssigned' }, properties: { hardwareProfile: { vmSize: 'Standard_B1s' } } };
    const first = (await armAs(k, tok, 'PUT', vm(), body)).json.identity.principalId as string;
    const onGroup = '2c0d5f3a-0000-4000-8000-0000000000b1';
    const onVm = '2c0d5f3a-0000-4000-8000-0000000000b2';
    expect((await assign(rg(), onGroup, first)).status).toBe(201);
    expect((await assign(vm(), onVm, first)).status).toBe(201);

    expect((await armAs(k, tok, 'DELETE', vm())).status).toBe(200);
    // Extension resources of the VM (the assignment at its scope) are deleted with it; the group one stays.
    expect((await list(sub(k), `principalId eq '${first}'`)).map((a) => a.name)).toEqual([onGroup]);

    const second = (await armAs(k, tok, 'PUT', vm(), body)).json.identity.principalId as string;
    expect(second).not.toBe(first);
    expect(await list(sub(k), `assignedTo('${second}')`)).toEqual([]);
    expect((await assign(rg(), onGroup, second)).json.error.code).toBe('RoleAssignmentUpdateNotPermitted');
    expect((await armAs(k, tok, 'DELETE', `${rg()}/${RA}/${onGroup}?${API}`)).status).toBe(200);
  });

  it("assignedTo('{id}') lists the principal's assignments at, above and below the scope, and nobody else's", async () => {
    const id = (await armAs(k, tok, 'PUT', `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/assigned`, { location: 'westeurope' })).json.properties.principalId as string;
    const other = (await armAs(k, tok, 'PUT', `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/other`, { location: 'westeurope' })).json.properties.principalId as string;
    const bySub = '3c0d5f3a-0000-4000-8000-0000000000c1';
    const byGroup = '3c0d5f3a-0000-4000-8000-0000000000c2';
    expect((await assign(sub(k), bySub, id)).status).toBe(201);
    expect((await assign(rg(), byGroup, id, CONTRIBUTOR)).status).toBe(201);
    expect((await assign(rg(), '3c0d5f3a-0000-4000-8000-0000000000c3', other)).status).toBe(201);

    const names = async (scope: string, filter: string) => (await list(scope, filter)).map((a) => a.name).sort();
    expect(await names(sub(k), `assignedTo('${id}')`)).toEqual([bySub, byGroup]);
    // From the group: the subscription-level one is inherited (above), so it is listed too.
    expect(await names(rg(), `assignedTo('${id}')`)).toEqual([bySub, byGroup]);
    expect(await names(sub(k), `assignedTo('${id.toUpperCase()}')`)).toEqual([bySub, byGroup]);
    expect(await names(rg(), `atScope() and assignedTo('${id}')`)).toEqual([bySub, byGroup]);
    expect(await names(sub(k), `atScope() and assignedTo('${id}')`)).toEqual([bySub]);
    // Keyless's directory has no groups, so assignedTo() has no group memberships to add (docs/deviations/authz.md).
    expect(await names(sub(k), `assignedTo('${id}')`)).toEqual(await names(sub(k), `principalId eq '${id}'`));
    const bad = await armAs(k, tok, 'GET', `${sub(k)}/${RA}?${API}&$filter=${encodeURIComponent("assignedTo('nope')")}`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('InvalidFilterInQueryString');
  });
});
