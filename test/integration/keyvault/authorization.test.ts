import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { arm } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { startTestKeyless } from '../../support/keyless.js';
import { adminVaultToken, appWithToken, createVault, golden, kv, normalize, sub, vaultId } from './helpers.js';

/**
 * Who may do what on the data plane: RBAC data actions when the vault has enableRbacAuthorization (secrets
 * are scopes of their own), the vault's access policies otherwise, and the switch between the two.
 */
describe('Key Vault data plane: authorization', () => {
  let k: StartedKeyless;
  let admin: string;
  let reader: Awaited<ReturnType<typeof appWithToken>>;
  const RBAC = 'kv-rbac';
  const POLICY = 'kv-policy';

  beforeAll(async () => {
    k = await startTestKeyless();
    await arm(k, 'PUT', `${sub(k)}/resourceGroups/authz-rg`, { location: 'westeurope' });
    admin = await adminVaultToken(k);
    const adminOid = String(decodeJwt(admin)['oid']);
    await createVault(k, 'authz-rg', RBAC, { enableRbacAuthorization: true });
    await createVault(k, 'authz-rg', POLICY, { accessPolicies: [{ tenantId: k.tenantId, objectId: adminOid, permissions: { secrets: ['all'] } }] });
    reader = await appWithToken(k, 'kv-reader-app');
    // The admin is Owner: control plane only. Seed the RBAC vault through a data role.
    await k.assignRole({ principalId: adminOid, role: 'Key Vault Secrets Officer', scope: vaultId(k, 'authz-rg', RBAC) });
    for (const [vault, name] of [
      [RBAC, 'app-secret'],
      [RBAC, 'other-secret'],
      [POLICY, 'app-secret'],
    ] as const) {
      const r = await kv(k, admin, 'PUT', vault, `/secrets/${name}`, { value: `${vault}/${name}` });
      expect(r.status, r.text).toBe(200);
    }
  });
  afterAll(async () => k?.stop());

  const placeholders = () => ({ [reader.objectId]: '{objectId}', [reader.clientId]: '{appId}' });

  describe('RBAC model', () => {
    it('denies a principal without a data role: 403 ForbiddenByRbac (golden), with the engine reason beside the body', async () => {
      const r = await kv(k, reader.token, 'GET', RBAC, '/secrets/app-secret/');
      expect(r.status).toBe(403);
      expect(normalize(k, { status: r.status, body: r.json }, placeholders())).toEqual(golden('forbidden-by-rbac'));
      expect(String(r.headers['x-keyless-authz'])).toMatch(/^denied: .*Microsoft\.KeyVault\/vaults\/secrets\/getSecret\/action/);
    });

    it('a list is checked against the vault with readMetadata', async () => {
      const r = await kv(k, reader.token, 'GET', RBAC, '/secrets');
      expect(r.status).toBe(403);
      expect(r.json.error.message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'");
      expect(r.json.error.message).toContain(`Resource: '${vaultId(k, 'authz-rg', RBAC).toLowerCase()}'`);
    });

    it('"Key Vault Reader" (metadata only) still cannot read a value', async () => {
      await k.assignRole({ principalId: reader.objectId, role: 'Key Vault Reader', scope: vaultId(k, 'authz-rg', RBAC) });
      expect((await kv(k, reader.token, 'GET', RBAC, '/secrets')).status).toBe(200);
      const r = await kv(k, reader.token, 'GET', RBAC, '/secrets/app-secret/');
      expect(r.status).toBe(403);
      expect(r.json.error.innererror.code).toBe('ForbiddenByRbac');
    });

    it('"Key Vault Secrets User" on one secret reads that secret only (individual secrets are scopes)', async () => {
      await k.assignRole({ principalId: reader.objectId, role: 'Key Vault Secrets User', scope: `${vaultId(k, 'authz-rg', RBAC)}/secrets/app-secret` });
      const ok = await kv(k, reader.token, 'GET', RBAC, '/secrets/app-secret/');
      expect(ok.status, ok.text).toBe(200);
      expect(ok.json.value).toBe(`${RBAC}/app-secret`);
      const other = await kv(k, reader.token, 'GET', RBAC, '/secrets/other-secret/');
      expect(other.status).toBe(403);
      const write = await kv(k, reader.token, 'PUT', RBAC, '/secrets/app-secret', { value: 'nope' });
      expect(write.status).toBe(403);
      expect(write.json.error.message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'");
    });

    it('access policies are ignored in RBAC mode, and cannot be updated there', async () => {
      const id = vaultId(k, 'authz-rg', 'kv-rbac-pol');
      await createVault(k, 'authz-rg', 'kv-rbac-pol', {
        enableRbacAuthorization: true,
        accessPolicies: [{ tenantId: k.tenantId, objectId: reader.objectId, permissions: { secrets: ['all'] } }],
      });
      const r = await kv(k, reader.token, 'GET', 'kv-rbac-pol', '/secrets');
      expect(r.status).toBe(403);
      expect(r.json.error.innererror.code).toBe('ForbiddenByRbac');
      const update = await arm(k, 'PUT', `${id}/accessPolicies/add?api-version=2024-11-01`, {
        properties: { accessPolicies: [{ tenantId: k.tenantId, objectId: reader.objectId, permissions: { secrets: ['get'] } }] },
      });
      expect(update.status).toBe(400);
      expect(update.json.error.message).toContain('RBAC permission model');
    });
  });

  describe('access-policy model', () => {
    it('denies a principal without a policy: 403 ForbiddenByPolicy (golden)', async () => {
      const r = await kv(k, reader.token, 'GET', POLICY, '/secrets/app-secret/');
      expect(r.status).toBe(403);
      expect(normalize(k, { status: r.status, body: r.json }, placeholders())).toEqual(golden('forbidden-by-policy'));
      expect(String(r.headers['x-keyless-authz'])).toContain("grants secrets 'get'");
    });

    it('ignores RBAC data roles: even Key Vault Administrator on the vault does not help', async () => {
      await k.assignRole({ principalId: reader.objectId, role: 'Key Vault Administrator', scope: vaultId(k, 'authz-rg', POLICY) });
      expect((await kv(k, reader.token, 'GET', POLICY, '/secrets/app-secret/')).status).toBe(403);
    });

    it('a policy granting get lets the principal read, and nothing more', async () => {
      const r = await arm(k, 'PUT', `${vaultId(k, 'authz-rg', POLICY)}/accessPolicies/add?api-version=2024-11-01`, {
        properties: { accessPolicies: [{ tenantId: k.tenantId, objectId: reader.objectId, permissions: { secrets: ['get'] } }] },
      });
      expect(r.status, r.text).toBe(200);
      expect(r.json.properties.accessPolicies[0].objectId).toBe(reader.objectId);
      const ok = await kv(k, reader.token, 'GET', POLICY, '/secrets/app-secret/');
      expect(ok.status, ok.text).toBe(200);
      const list = await kv(k, reader.token, 'GET', POLICY, '/secrets');
      expect(list.status).toBe(403);
      expect(list.json.error.message).toContain('does not have secrets list permission');
    });

    it('a compound identity (objectId + another applicationId) does not apply to the principal alone', async () => {
      const other = await appWithToken(k, 'kv-other-app');
      await arm(k, 'PUT', `${vaultId(k, 'authz-rg', POLICY)}/accessPolicies/add?api-version=2024-11-01`, {
        properties: { accessPolicies: [{ tenantId: k.tenantId, objectId: other.objectId, applicationId: reader.clientId, permissions: { secrets: ['get'] } }] },
      });
      expect((await kv(k, other.token, 'GET', POLICY, '/secrets/app-secret/')).status).toBe(403);
    });

    it('removing the policy takes effect on the next request', async () => {
      const r = await arm(k, 'PUT', `${vaultId(k, 'authz-rg', POLICY)}/accessPolicies/remove?api-version=2024-11-01`, {
        properties: { accessPolicies: [{ tenantId: k.tenantId, objectId: reader.objectId, permissions: {} }] },
      });
      expect(r.status, r.text).toBe(200);
      expect((await kv(k, reader.token, 'GET', POLICY, '/secrets/app-secret/')).status).toBe(403);
    });
  });

  describe('switching the permission model', () => {
    it('flipping enableRbacAuthorization flips the model immediately, both ways', async () => {
      await arm(k, 'PUT', `${vaultId(k, 'authz-rg', POLICY)}/accessPolicies/add?api-version=2024-11-01`, {
        properties: { accessPolicies: [{ tenantId: k.tenantId, objectId: reader.objectId, permissions: { secrets: ['get'] } }] },
      });
      expect((await kv(k, reader.token, 'GET', POLICY, '/secrets/app-secret/')).status).toBe(200);

      const toRbac = await arm(k, 'PATCH', `${vaultId(k, 'authz-rg', POLICY)}?api-version=2024-11-01`, { properties: { enableRbacAuthorization: true } });
      expect(toRbac.status, toRbac.text).toBe(200);
      expect(toRbac.json.properties.enableRbacAuthorization).toBe(true);
      // Now the Key Vault Administrator assignment made above counts, and the access policy does not.
      const viaRole = await kv(k, reader.token, 'PUT', POLICY, '/secrets/app-secret', { value: 'set via RBAC' });
      expect(viaRole.status, viaRole.text).toBe(200);

      const back = await arm(k, 'PATCH', `${vaultId(k, 'authz-rg', POLICY)}?api-version=2024-11-01`, { properties: { enableRbacAuthorization: false } });
      expect(back.status).toBe(200);
      // Access policies were kept while RBAC was on; get is allowed again, set (RBAC only) is not.
      expect((await kv(k, reader.token, 'GET', POLICY, '/secrets/app-secret/')).json.value).toBe('set via RBAC');
      expect((await kv(k, reader.token, 'PUT', POLICY, '/secrets/app-secret', { value: 'x' })).status).toBe(403);
    });

    it('changing the model needs Microsoft.Authorization/roleAssignments/write: a Key Vault Contributor gets AuthorizationFailed', async () => {
      const contributor = await appWithToken(k, 'kv-contributor', `${k.endpoints.armAudience}.default`);
      await k.assignRole({ principalId: contributor.objectId, role: 'Key Vault Contributor', scope: vaultId(k, 'authz-rg', POLICY) });
      const tags = await arm(k, 'PATCH', `${vaultId(k, 'authz-rg', POLICY)}?api-version=2024-11-01`, { tags: { owner: 'team' } }, contributor.token);
      expect(tags.status, tags.text).toBe(200);
      const flip = await arm(k, 'PATCH', `${vaultId(k, 'authz-rg', POLICY)}?api-version=2024-11-01`, { properties: { enableRbacAuthorization: true } }, contributor.token);
      expect(flip.status).toBe(403);
      expect(flip.json.error.code).toBe('AuthorizationFailed');
      expect(flip.json.error.message).toContain("action 'Microsoft.Authorization/roleAssignments/write'");
    });
  });
});
