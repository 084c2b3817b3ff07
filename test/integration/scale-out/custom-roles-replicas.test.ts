import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { arm, adminToken, http } from '../../support/keyless.js';
import { createTestDatabase } from '../../support/postgres.js';
import { eventually, useReplicas } from '../../support/replicas.js';
import type { StartedKeyless } from '../../../src/index.js';

/** Issue 4 over PostgreSQL: a custom role written through one replica is used and enforced by another. */
const db = await createTestDatabase();
describe.runIf(db)('scale-out: custom roles across replicas', () => {
  const replicas = useReplicas(db!, 2);
  let token: string;
  const sub = () => `/subscriptions/${replicas[0]!.subscriptionId}`;
  const RD = 'Microsoft.Authorization/roleDefinitions';
  beforeAll(async () => {
    token = await adminToken(replicas[0]!);
  });

  it('create on replica 0, assign on replica 1, enforce on replica 1; an update and the delete propagate too', async () => {
    const [a, b] = [replicas[0]!, replicas[1]!];
    const rg = `${sub()}/resourceGroups/cr-mix`;
    await arm(a, 'PUT', `${rg}?api-version=2021-04-01`, { location: 'westeurope' }, token);
    const guid = randomUUID();
    const body = (actions: string[]) => ({ properties: { roleName: 'Replica RG Reader', assignableScopes: [sub()], permissions: [{ actions }] } });
    expect((await arm(a, 'PUT', `${sub()}/providers/${RD}/${guid}?api-version=2022-04-01`, body(['Microsoft.Resources/subscriptions/resourceGroups/read']), token)).status).toBe(201);
    expect(await eventually(async () => (await arm(b, 'GET', `${sub()}/providers/${RD}/${guid}?api-version=2022-04-01`, undefined, token)).status === 200)).toBe(true);
    const dev = await a.createApplication('cr-replica-dev');
    const t = await http('POST', `${b.endpoints.authority}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: dev.clientId, client_secret: dev.clientSecret, scope: `${b.endpoints.armAudience}.default` }).toString(),
    });
    const devToken = t.json.access_token as string;
    const assignment = await arm(b, 'PUT', `${rg}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`, {
      properties: { roleDefinitionId: `${sub()}/providers/${RD}/${guid}`, principalId: dev.objectId, principalType: 'ServicePrincipal' },
    }, token);
    expect(assignment.status, assignment.text).toBe(201);
    const readRg = async (r: StartedKeyless) => (await arm(r, 'GET', `${rg}?api-version=2021-04-01`, undefined, devToken)).status;
    expect(await readRg(b)).toBe(200);
    expect(await eventually(async () => (await readRg(a)) === 200)).toBe(true);
    // The role loses its action on replica 0: replica 1 stops granting.
    expect((await arm(a, 'PUT', `${sub()}/providers/${RD}/${guid}?api-version=2022-04-01`, body(['Microsoft.Compute/virtualMachines/read']), token)).status).toBe(201);
    expect(await eventually(async () => (await readRg(b)) === 403)).toBe(true);
    // Delete is refused on either replica while assigned, then succeeds and is gone everywhere.
    expect((await arm(b, 'DELETE', `${sub()}/providers/${RD}/${guid}?api-version=2022-04-01`, undefined, token)).status).toBe(409);
    expect((await arm(a, 'DELETE', `${assignment.json.id}?api-version=2022-04-01`, undefined, token)).status).toBe(200);
    expect(await eventually(async () => (await arm(b, 'DELETE', `${sub()}/providers/${RD}/${guid}?api-version=2022-04-01`, undefined, token)).status === 200)).toBe(true);
    expect(await eventually(async () => (await arm(a, 'GET', `${sub()}/providers/${RD}/${guid}?api-version=2022-04-01`, undefined, token)).status === 404)).toBe(true);
  }, 60_000);
});
