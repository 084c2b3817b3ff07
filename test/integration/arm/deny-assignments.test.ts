import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, type HttpResult } from '../../support/keyless.js';
import { startTestKeyless } from '../../support/keyless.js';
import { admin, armAs, clientToken, group, sub } from '../audit/helpers.js';
import type { StartedKeyless } from '../../../src/index.js';

const DA = 'providers/Microsoft.Authorization/denyAssignments';
const EVERYONE = '00000000-0000-0000-0000-000000000000';
const IDENTITY_WRITE = 'Microsoft.ManagedIdentity/userAssignedIdentities/write';

/**
 * Deny assignments end to end: an administrator writes one through the ops API (ARM keeps them read-only, as
 * Azure does), a Contributor's ARM call that its role allows is refused with Azure's deny error, ARM lists the
 * deny assignment, and removing it restores the call.
 */
describe('deny assignments: admin path and enforcement on ARM', () => {
  let k: StartedKeyless;
  let adminTok: string;
  let dev: { clientId: string; objectId: string; clientSecret: string };
  let devTok: string;
  const rg = () => group(k, 'deny-rg');
  const identity = (n: string) => `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`;
  const ops = (token: string, method: string, path: string, body?: unknown): Promise<HttpResult> =>
    http(method, `${k.endpoints.resourceManager}/keyless/v1/deny-assignments${path}`, {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    k = await startTestKeyless();
    adminTok = await admin(k);
    expect((await armAs(k, adminTok, 'PUT', rg(), { location: 'westeurope' })).status).toBe(201);
    dev = await k.createApplication('deny-dev');
    await k.assignRole({ principalId: dev.objectId, role: 'Contributor', scope: rg() });
    devTok = await clientToken(k, dev.clientId, dev.clientSecret, `${k.endpoints.armAudience}.default`);
  }, 60_000);
  afterAll(async () => k?.stop());

  it('blocks what Contributor grants with DenyAssignmentAuthorizationFailed until it is deleted', async () => {
    expect((await armAs(k, devTok, 'PUT', identity('before'), { location: 'westeurope' })).status).toBe(201);

    const created = await ops(adminTok, 'POST', '', {
      scope: rg(),
      denyAssignmentName: 'No identity writes',
      description: 'identities are managed by the platform team',
      actions: [IDENTITY_WRITE],
      principals: ['everyone'],
      excludePrincipals: [k.admin.objectId],
    });
    expect(created.status, created.text).toBe(201);
    const name = created.json.name as string;
    expect(created.json).toMatchObject({
      id: `${rg()}/${DA}/${name}`,
      type: 'Microsoft.Authorization/denyAssignments',
      properties: {
        denyAssignmentName: 'No identity writes',
        scope: rg(),
        doNotApplyToChildScopes: false,
        principals: [{ id: EVERYONE, type: 'SystemDefined' }],
        excludePrincipals: [{ id: k.admin.objectId, type: 'ServicePrincipal' }],
        permissions: [{ actions: [IDENTITY_WRITE], notActions: [], dataActions: [], notDataActions: [] }],
      },
    });

    const refused = await armAs(k, devTok, 'PUT', identity('blocked'), { location: 'westeurope' });
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({
      error: {
        code: 'DenyAssignmentAuthorizationFailed',
        message: `The client '${dev.clientId}' with object id '${dev.objectId}' has permission to perform action '${IDENTITY_WRITE}' on scope '${identity('blocked')}'; however, the access is denied because of the deny assignment with name 'No identity writes' and Id '${name.replace(/-/g, '')}' at scope '${rg()}'.`,
      },
    });
    expect(String(refused.headers['x-keyless-authz'])).toContain("deny assignment 'No identity writes'");
    // Reads are not covered; the excluded administrator still writes.
    expect((await armAs(k, devTok, 'GET', identity('before'))).status).toBe(200);
    expect((await armAs(k, adminTok, 'PUT', identity('by-admin'), { location: 'westeurope' })).status).toBe(201);

    // ARM lists it (read-only) at the subscription, the group and below; a Contributor may read it.
    const listed = await armAs(k, devTok, 'GET', `${sub(k)}/${DA}`);
    expect(listed.status).toBe(200);
    expect(listed.json.value.map((d: { name: string }) => d.name)).toContain(name);
    const one = await armAs(k, adminTok, 'GET', `${rg()}/${DA}/${name}`);
    expect(one.json).toEqual(created.json);
    // Users cannot write deny assignments through ARM, as in Azure.
    const armPut = await armAs(k, adminTok, 'PUT', `${rg()}/${DA}/${name}`, { properties: {} });
    expect(armPut.status).toBe(405);

    const deleted = await ops(adminTok, 'DELETE', `/${name}`);
    expect(deleted.status).toBe(200);
    expect((await armAs(k, devTok, 'PUT', identity('blocked'), { location: 'westeurope' })).status).toBe(201);
    expect((await armAs(k, adminTok, 'GET', `${sub(k)}/${DA}`)).json.value).toEqual([]);
    expect((await ops(adminTok, 'DELETE', `/${name}`)).json.error.code).toBe('DenyAssignmentNotFound');
  });

  it('a deny without a grant underneath stays AuthorizationFailed; doNotApplyToChildScopes stops at its scope', async () => {
    const d = await k.denyAssignment({ scope: rg(), actions: ['Microsoft.Resources/subscriptions/resourceGroups/write'], principals: [dev.objectId], doNotApplyToChildScopes: true });
    try {
      // Contributor at the group cannot write the subscription's groups anyway: no "has permission" to claim.
      const other = await armAs(k, devTok, 'PUT', group(k, 'elsewhere'), { location: 'westeurope' });
      expect(other.json.error.code).toBe('AuthorizationFailed');
      const here = await armAs(k, devTok, 'PATCH', rg(), { tags: { a: 'b' } });
      expect(here.json.error.code).toBe('DenyAssignmentAuthorizationFailed');
    } finally {
      expect(await k.deleteDenyAssignment(d.name)).toBe(true);
    }
    expect((await armAs(k, devTok, 'PATCH', rg(), { tags: { a: 'b' } })).status).toBe(200);
  });

  it('only a role that grants denyAssignments/write may create one; reading takes denyAssignments/read', async () => {
    const body = { scope: rg(), actions: ['*'], principals: [dev.objectId] };
    const byDev = await ops(devTok, 'POST', '', body);
    expect(byDev.status).toBe(403);
    expect(byDev.json.error.code).toBe('AuthorizationFailed');
    expect(byDev.json.error.message).toContain("'Microsoft.Authorization/denyAssignments/write'");
    expect((await ops(devTok, 'GET', `?scope=${encodeURIComponent(rg())}`)).status).toBe(200);
    expect((await ops('not-a-token', 'GET', '')).status).toBe(401);
  });

  it('refuses malformed input with InvalidDenyAssignment and a message that names the problem', async () => {
    const cases: [unknown, RegExp][] = [
      [{ scope: rg(), actions: [IDENTITY_WRITE], principals: [] }, /at least one principal/],
      [{ scope: rg(), actions: [IDENTITY_WRITE], principals: ['nobody'] }, /'nobody' in 'principals' is not a valid principal id/],
      [{ scope: rg(), actions: [IDENTITY_WRITE], principals: ['everyone'], excludePrincipals: ['everyone'] }, /only in 'principals'/],
      [{ scope: rg(), actions: [IDENTITY_WRITE], principals: [{ id: dev.objectId, type: 'SystemDefined' }] }, /Only the all-principals id/],
      [{ scope: rg(), notActions: [IDENTITY_WRITE], principals: ['everyone'] }, /must deny at least one action/],
      [{ scope: rg(), actions: 'everything', principals: ['everyone'] }, /'actions' must be an array of strings/],
      [{ scope: rg(), actions: [IDENTITY_WRITE], principals: ['everyone'], doNotApplyToChildScopes: 'yes' }, /'doNotApplyToChildScopes' must be true or false/],
      [{ scope: rg(), actions: [IDENTITY_WRITE], principals: ['everyone'], colour: 'red' }, /Unknown property 'colour'/],
      [{ actions: [IDENTITY_WRITE], principals: ['everyone'] }, /'scope' is required/],
    ];
    for (const [body, message] of cases) {
      const r = await ops(adminTok, 'POST', '', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe('InvalidDenyAssignment');
      expect(r.json.error.message).toMatch(message);
    }
    const wildcards = await ops(adminTok, 'POST', '', { scope: rg(), actions: ['Microsoft.Compute/*/write/*'], principals: ['everyone'] });
    expect(wildcards.json.error.code).toBe('InvalidActionOrNotAction');
    const badScope = await ops(adminTok, 'POST', '', { scope: 'subscriptions/x', actions: ['*'], principals: ['everyone'] });
    expect(badScope.json.error.code).toBe('InvalidScope');
    expect((await armAs(k, adminTok, 'GET', `${sub(k)}/${DA}`)).json.value).toEqual([]);
  });

  it('PUT by name is idempotent; POST with a taken name is 409 DenyAssignmentExists', async () => {
    const name = '5f0c4a52-7d3e-4c0b-9f61-2a9d3c1b7e01';
    const body = { scope: rg(), actions: [IDENTITY_WRITE], principals: [dev.objectId] };
    expect((await ops(adminTok, 'PUT', `/${name}`, body)).status).toBe(201);
    expect((await ops(adminTok, 'PUT', `/${name}`, body)).status).toBe(200);
    const again = await ops(adminTok, 'POST', '', { ...body, name });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('DenyAssignmentExists');
    expect((await ops(adminTok, 'DELETE', `/${name}`)).status).toBe(200);
  });
});
