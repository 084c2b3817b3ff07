import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arm } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { startTestKeyless } from '../../support/keyless.js';
import { adminVaultToken, appWithToken, createVault, kv, sub, vaultId } from './helpers.js';

/**
 * The in-memory answer to a repeated get-secret (src/keyvault/fast-get.ts) must be indistinguishable from the full
 * pipeline's, and must give way to it the moment anything it relies on changes: the role assignment, the secret,
 * its enabled flag, the vault's permission model, the caller's existence.
 */
describe('Key Vault data plane: the cached get-secret path', () => {
  let k: StartedKeyless;
  let admin: string;
  let reader: Awaited<ReturnType<typeof appWithToken>>;
  let assignmentId: string;
  const VAULT = 'kv-fast';
  const RG = 'fast-rg';
  const get = (path = '/secrets/app/') => kv(k, reader.token, 'GET', VAULT, path);
  const comparable = (r: Awaited<ReturnType<typeof get>>) => {
    const { date: _d, 'x-ms-request-id': id, ...headers } = r.headers;
    expect(String(id)).toMatch(/^[0-9a-f-]{36}$/);
    return { status: r.status, headers, body: r.text };
  };

  beforeAll(async () => {
    k = await startTestKeyless();
    await arm(k, 'PUT', `${sub(k)}/resourceGroups/${RG}`, { location: 'westeurope' });
    admin = await adminVaultToken(k);
    const adminOid = JSON.parse(Buffer.from(admin.split('.')[1]!, 'base64url').toString()).oid as string;
    await createVault(k, RG, VAULT, { enableRbacAuthorization: true });
    await k.assignRole({ principalId: adminOid, role: 'Key Vault Secrets Officer', scope: vaultId(k, RG, VAULT) });
    expect((await kv(k, admin, 'PUT', VAULT, '/secrets/app', { value: 'v1', contentType: 'text/plain', tags: { env: 'test' } })).status).toBe(200);
    reader = await appWithToken(k, 'kv-fast-reader');
    assignmentId = (await k.assignRole({ principalId: reader.objectId, role: 'Key Vault Secrets User', scope: vaultId(k, RG, VAULT) })).id;
  });
  afterAll(async () => k?.stop());

  it('a repeated read gets the same status, headers and bytes as the first', async () => {
    const first = await get();
    expect(first.status, first.text).toBe(200);
    const again = await get();
    const third = await kv(k, reader.token, 'GET', VAULT, '/secrets/app');
    expect(comparable(again)).toEqual(comparable(first));
    expect(comparable(third)).toEqual(comparable(first));
    expect(again.json).toMatchObject({ value: 'v1', contentType: 'text/plain', tags: { env: 'test' } });
    expect(again.headers['x-ms-request-id']).not.toBe(first.headers['x-ms-request-id']);
  });

  it('echoes x-ms-client-request-id as the full pipeline does', async () => {
    const { http } = await import('../../support/keyless.js');
    const { kvUrl } = await import('./helpers.js');
    const r = await http('GET', kvUrl(k, VAULT, '/secrets/app/'), { headers: { authorization: `Bearer ${reader.token}`, 'x-ms-client-request-id': 'corr-123' } });
    expect(r.status).toBe(200);
    expect(r.headers['x-ms-client-request-id']).toBe('corr-123');
  });

  it('records every read in the audit trail', async () => {
    await k.audit.flush();
    const before = (await k.audit.query({ principal: reader.objectId, categories: ['data'], limit: 1000 })).events.reduce((n, e) => n + e.count, 0);
    for (let i = 0; i < 5; i++) expect((await get()).status).toBe(200);
    await k.audit.flush();
    const after = (await k.audit.query({ principal: reader.objectId, categories: ['data'], limit: 1000 })).events;
    expect(after.reduce((n, e) => n + e.count, 0)).toBe(before + 5);
    expect(after.every((e) => e.result === 'succeeded' && e.operation === 'Microsoft.KeyVault/vaults/secrets/getSecret/action')).toBe(true);
  });

  it('serves a new value as soon as it is written, and refuses a disabled secret', async () => {
    expect((await get()).json.value).toBe('v1');
    expect((await kv(k, admin, 'PUT', VAULT, '/secrets/app', { value: 'v2' })).status).toBe(200);
    expect((await get()).json.value).toBe('v2');
    expect((await kv(k, admin, 'PATCH', VAULT, '/secrets/app/', { attributes: { enabled: false } })).status).toBe(200);
    const disabled = await get();
    expect(disabled.status).toBe(403);
    expect(disabled.json.error.code).toBe('Forbidden');
    expect((await kv(k, admin, 'PATCH', VAULT, '/secrets/app/', { attributes: { enabled: true } })).status).toBe(200);
    expect((await get()).status).toBe(200);
  });

  it('leaves requests it does not serve to the full pipeline: versions, missing api-version, other parameters', async () => {
    const latest = await get();
    const version = String(latest.json.id).split('/').pop()!;
    expect((await get(`/secrets/app/${version}`)).json.value).toBe('v2');
    expect((await kv(k, reader.token, 'GET', VAULT, '/secrets/app/', undefined, null)).status).toBe(400);
    expect((await get('/secrets/app/?maxresults=1')).status).toBe(200);
    expect((await get('/secrets/missing/')).status).toBe(404);
  });

  it('reads a leading `//` as part of the path on both paths (Az PowerShell sends `//secrets`), never as a host', async () => {
    const twice = [await get('//secrets/app/'), await get('//secrets/app/')];
    for (const r of twice) expect(r.json.value, r.text).toBe('v2');
    expect(comparable(twice[1]!)).toEqual(comparable(twice[0]!));
    // `new URL('//%00', base)` throws: once a 500, now the full pipeline's 404 / 400.
    for (const path of ['//%00', '/secrets/%2e%2e//%00', '//secrets/%00']) {
      const r = await get(path);
      expect(r.status, `${path}: ${r.text}`).toBeGreaterThanOrEqual(400);
      expect(r.status, path).toBeLessThan(500);
      expect(typeof r.json.error.code, path).toBe('string');
    }
  });

  it('stops granting the moment the role assignment is deleted', async () => {
    expect((await get()).status).toBe(200);
    expect((await arm(k, 'DELETE', `${assignmentId}?api-version=2022-04-01`)).status).toBe(200);
    const r = await get();
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('Forbidden');
    expect(r.json.error.innererror?.code).toBe('ForbiddenByRbac');
    assignmentId = (await k.assignRole({ principalId: reader.objectId, role: 'Key Vault Secrets User', scope: vaultId(k, RG, VAULT) })).id;
    expect((await get()).status).toBe(200);
  });

  it('follows the vault to the access-policy model (RBAC roles then no longer count)', async () => {
    expect((await get()).status).toBe(200);
    const r = await arm(k, 'PATCH', `${vaultId(k, RG, VAULT)}?api-version=2024-11-01`, { properties: { enableRbacAuthorization: false } });
    expect(r.status, r.text).toBe(200);
    const denied = await get();
    expect(denied.status).toBe(403);
    expect(denied.json.error.innererror?.code).toBe('ForbiddenByPolicy');
  });
});
