import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { arm, http } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { startTestKeyless } from '../../support/keyless.js';
import { createTestDatabase } from '../../support/postgres.js';
import { adminVaultToken, createVault, golden, kv, kvUrl, normalize, sub, tokenFor } from './helpers.js';

// Both stores: secrets live in Key Vault's own tables, written through one set of queries.
const pgdb = await createTestDatabase();
const backends: [string, () => { databaseUrl?: string }][] = [['sqlite', () => ({})]];
if (pgdb) backends.push(['postgres', () => ({ databaseUrl: pgdb.url })]);

/**
 * The secrets data plane against a real server, over HTTPS on `{vault}.vault.keyless.localhost`: the
 * challenge, every operation, soft delete, backup/restore, and the error bodies for client mistakes.
 * The vault is in access-policy mode with the admin granted everything, so authorization stays out of the way.
 */
describe.each(backends)('Key Vault data plane: secrets (%s)', (_backend, storeOptions) => {
  let k: StartedKeyless;
  let token: string;
  let adminOid: string;
  const V = 'kv-secrets';

  beforeAll(async () => {
    k = await startTestKeyless(storeOptions());
    await arm(k, 'PUT', `${sub(k)}/resourceGroups/kv-rg`, { location: 'westeurope' });
    token = await adminVaultToken(k);
    adminOid = String(decodeJwt(token)['oid']);
    const all = ['get', 'list', 'set', 'delete', 'backup', 'restore', 'recover', 'purge'];
    await createVault(k, 'kv-rg', V, { accessPolicies: [{ tenantId: k.tenantId, objectId: adminOid, permissions: { secrets: all } }] });
    await createVault(k, 'kv-rg', 'kv-second', { accessPolicies: [{ tenantId: k.tenantId, objectId: adminOid, permissions: { secrets: all } }] });
  });
  afterAll(async () => {
    await k?.stop();
    if (storeOptions().databaseUrl) await pgdb?.drop();
  });

  describe('challenge authentication', () => {
    it('answers a request without Authorization with 401 and the Key Vault challenge (golden)', async () => {
      const r = await http('GET', kvUrl(k, V, '/secrets/anything/', null) + '?api%2Dversion=2025-07-01');
      expect(r.status).toBe(401);
      expect(normalize(k, { status: r.status, wwwAuthenticate: r.headers['www-authenticate'], body: r.json })).toEqual(golden('unauthorized-challenge'));
    });

    it('challenges a PUT whose body was stripped before looking at the body', async () => {
      const r = await http('PUT', kvUrl(k, V, '/secrets/new-one'), { headers: { 'content-length': '0' } });
      expect(r.status).toBe(401);
      expect(r.json.error.message).toBe('AKV10000: Request is missing a Bearer or PoP token.');
      const withBody = await http('PUT', kvUrl(k, V, '/secrets/new-one'), { body: 'not json at all' });
      expect(withBody.status).toBe(401);
    });

    it('accepts tokens for vault.azure.net and for the local vault resource, with and without port and slash', async () => {
      const port = new URL(k.endpoints.resourceManager).port;
      for (const resource of ['https://vault.azure.net', `https://vault.keyless.localhost`, `https://vault.keyless.localhost:${port}`, `https://vault.keyless.localhost:${port}/`]) {
        const t = await tokenFor(k, k.admin.clientId, k.admin.clientSecret!, `${resource.replace(/\/$/, '')}/.default`);
        const r = await kv(k, t, 'GET', V, '/secrets');
        expect(r.status, `${resource}: ${r.text}`).toBe(200);
      }
    });

    it('rejects a token for another audience with AKV10022 and the same challenge', async () => {
      const armToken = await tokenFor(k, k.admin.clientId, k.admin.clientSecret!, `${k.endpoints.armAudience}.default`);
      const r = await kv(k, armToken, 'GET', V, '/secrets');
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: { code: 'Unauthorized', message: `AKV10022: Invalid audience. Expected https://vault.azure.net, found: ${String(decodeJwt(armToken)['aud'])}.` } });
      expect(r.headers['www-authenticate']).toMatch(/^Bearer authorization="https:\/\/[^"]+", resource="https:\/\/vault\.keyless\.localhost:\d+"$/);
    });

    it('rejects garbage, expired and non-bearer credentials with 401', async () => {
      const garbage = await kv(k, 'not.a.jwt', 'GET', V, '/secrets');
      expect(garbage.status).toBe(401);
      expect(garbage.json.error.code).toBe('Unauthorized');
      const basic = await http('GET', kvUrl(k, V, '/secrets'), { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
      expect(basic.status).toBe(401);
      expect(basic.json.error.message).toBe('AKV10000: Request is missing a Bearer or PoP token.');
      k.clock.shift(2 * 86_400_000);
      try {
        const expired = await kv(k, token, 'GET', V, '/secrets');
        expect(expired.status).toBe(401);
        expect(expired.json.error.message).toBe("[TokenExpired] Error validating token: 'S2S12086'.");
      } finally {
        k.clock.shift(0);
      }
    });
  });

  describe('requests', () => {
    it('requires an api-version (after authentication) but accepts any, including the JS spelling api%2Dversion', async () => {
      const none = await kv(k, token, 'GET', V, '/secrets', undefined, null);
      expect(none.status).toBe(400);
      expect(none.json.error.code).toBe('BadParameter');
      const encoded = await http('GET', kvUrl(k, V, '/secrets', null) + '?api%2Dversion=2026-04-01', { headers: { authorization: `Bearer ${token}` } });
      expect(encoded.status).toBe(200);
      const odd = await kv(k, token, 'GET', V, '/secrets', undefined, '1999-01-01');
      expect(odd.status).toBe(200);
    });

    it('answers 404 for a vault that does not exist, before authentication', async () => {
      const r = await http('GET', kvUrl(k, 'no-such-vault', '/secrets'));
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe('VaultNotFound');
    });

    it('400 BadParameter for malformed JSON, a missing value and an invalid name', async () => {
      const bad = await kv(k, token, 'PUT', V, '/secrets/s-bad', '{"value": ');
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('BadParameter');
      const missing = await kv(k, token, 'PUT', V, '/secrets/s-bad', { contentType: 'x' });
      expect(missing.status).toBe(400);
      const badAttr = await kv(k, token, 'PUT', V, '/secrets/s-bad', { value: 'v', attributes: { exp: 'tomorrow' } });
      expect(badAttr.status).toBe(400);
      const name = await kv(k, token, 'PUT', V, '/secrets/bad_name', { value: 'v' });
      expect(name.status).toBe(400);
      expect(name.json).toEqual({ error: { code: 'BadParameter', message: 'The request URI contains an invalid name: bad_name' } });
      const tooBig = await kv(k, token, 'PUT', V, '/secrets/s-big', { value: 'x'.repeat(25 * 1024 + 1) });
      expect(tooBig.status).toBe(400);
    });

    it('501 for the keys and certificates APIs Keyless does not serve yet', async () => {
      const r = await kv(k, token, 'GET', V, '/keys');
      expect(r.status).toBe(501);
      expect(r.json.error.code).toBe('NotImplemented');
    });
  });

  describe('secret operations', () => {
    let v1: string;
    let v2: string;

    it('sets a secret and reads it back by name (with and without trailing slash) and by version', async () => {
      const set = await kv(k, token, 'PUT', V, '/secrets/db-password', { value: 'hunter2', contentType: 'text/plain', tags: { env: 'test' }, attributes: { exp: 32503680000 } });
      expect(set.status, set.text).toBe(200);
      expect(set.json.value).toBe('hunter2');
      expect(set.json.contentType).toBe('text/plain');
      expect(set.json.tags).toEqual({ env: 'test' });
      expect(set.json.id).toMatch(new RegExp(`^https://${V}\\.vault\\.keyless\\.localhost:\\d+/secrets/db-password/[0-9a-f]{32}$`));
      expect(set.json.attributes).toMatchObject({ enabled: true, exp: 32503680000, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 });
      expect(set.json.attributes.created).toBe(set.json.attributes.updated);
      v1 = set.json.id.split('/').pop();

      for (const path of ['/secrets/db-password', '/secrets/db-password/', '/secrets/DB-PASSWORD/', `/secrets/db-password/${v1}`]) {
        const g = await kv(k, token, 'GET', V, path);
        expect(g.status, path).toBe(200);
        expect(g.json.value).toBe('hunter2');
        expect(g.json.id.endsWith(`/secrets/db-password/${v1}`)).toBe(true);
      }
    });

    it('a new value makes a new version; old versions stay readable', async () => {
      const set = await kv(k, token, 'PUT', V, '/secrets/db-password', { value: 'correct horse' });
      v2 = set.json.id.split('/').pop();
      expect(v2).not.toBe(v1);
      expect((await kv(k, token, 'GET', V, '/secrets/db-password/')).json.value).toBe('correct horse');
      expect((await kv(k, token, 'GET', V, `/secrets/db-password/${v1}`)).json.value).toBe('hunter2');
      const versions = await kv(k, token, 'GET', V, '/secrets/db-password/versions');
      expect(versions.status).toBe(200);
      expect(versions.json.value.map((x: { id: string }) => x.id.split('/').pop())).toEqual([v1, v2]);
      expect(versions.json.value[0]).not.toHaveProperty('value');
      const unknown = await kv(k, token, 'GET', V, `/secrets/db-password/${'0'.repeat(32)}`);
      expect(unknown.status).toBe(404);
      expect(unknown.json.error.message).toContain(`A secret with (name/id) db-password/${'0'.repeat(32)} was not found in this key vault.`);
    });

    it('values are sealed at rest: the database never holds the plaintext', async () => {
      const rows = await sql<{ sealed_value: string }>`select sealed_value from kv_secret_versions`.execute(k.store.db);
      expect(rows.rows.length).toBeGreaterThan(0);
      for (const r of rows.rows) {
        expect(r.sealed_value).not.toContain('hunter2');
        expect(Buffer.from(r.sealed_value, 'base64').toString('latin1')).not.toContain('hunter2');
      }
    });

    it('updates attributes of a version; a disabled secret answers 403 SecretDisabled', async () => {
      const u = await kv(k, token, 'PATCH', V, `/secrets/db-password/${v2}`, { attributes: { enabled: false }, tags: { rotated: 'yes' } });
      expect(u.status, u.text).toBe(200);
      expect(u.json).not.toHaveProperty('value');
      expect(u.json.attributes.enabled).toBe(false);
      expect(u.json.tags).toEqual({ rotated: 'yes' });
      const g = await kv(k, token, 'GET', V, '/secrets/db-password/');
      expect(g.status).toBe(403);
      expect(g.json).toEqual({ error: { code: 'Forbidden', message: 'Operation get is not allowed on a disabled secret.', innererror: { code: 'SecretDisabled' } } });
      expect((await kv(k, token, 'GET', V, `/secrets/db-password/${v1}`)).status).toBe(200);
      await kv(k, token, 'PATCH', V, `/secrets/db-password/${v2}`, { attributes: { enabled: true } });
      expect((await kv(k, token, 'GET', V, '/secrets/db-password/')).status).toBe(200);
    });

    it('expired and not-yet-valid secrets are still returned, as Azure does (exp/nbf are informational)', async () => {
      const past = await kv(k, token, 'PUT', V, '/secrets/expired-one', { value: 'old', attributes: { exp: 1_000_000_000 } });
      expect(past.status).toBe(200);
      expect((await kv(k, token, 'GET', V, '/secrets/expired-one/')).json.value).toBe('old');
      const future = await kv(k, token, 'PUT', V, '/secrets/future-one', { value: 'new', attributes: { nbf: 32503680000 } });
      expect(future.status).toBe(200);
      expect((await kv(k, token, 'GET', V, '/secrets/future-one/')).json.value).toBe('new');
    });

    it('lists secrets in pages of maxresults, following nextLink with $skiptoken', async () => {
      for (let i = 0; i < 5; i++) await kv(k, token, 'PUT', V, `/secrets/page-${i}`, { value: `v${i}` });
      const names: string[] = [];
      let url: string | null = kvUrl(k, V, '/secrets?maxresults=2');
      let pages = 0;
      while (url) {
        const r = await http('GET', url, { headers: { authorization: `Bearer ${token}` } });
        expect(r.status, r.text).toBe(200);
        expect(r.json.value.length).toBeLessThanOrEqual(2);
        for (const item of r.json.value) {
          expect(item).not.toHaveProperty('value');
          expect(item.id).toMatch(/\/secrets\/[^/]+$/);
          names.push(item.id.split('/').pop());
        }
        url = r.json.nextLink;
        pages++;
      }
      expect(pages).toBeGreaterThanOrEqual(4);
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(expect.arrayContaining(['db-password', 'page-0', 'page-4']));
      expect(new Set(names).size).toBe(names.length);
      const bad = await kv(k, token, 'GET', V, '/secrets?maxresults=26');
      expect(bad.status).toBe(400);
      const badToken = await kv(k, token, 'GET', V, '/secrets?$skiptoken=nope');
      expect(badToken.status).toBe(400);
    });

    it('deletes softly: DeletedSecretBundle, then get/list deleted, name held, recover brings every version back', async () => {
      const d = await kv(k, token, 'DELETE', V, '/secrets/db-password');
      expect(d.status, d.text).toBe(200);
      expect(d.json.recoveryId).toMatch(/\/deletedsecrets\/db-password$/);
      expect(d.json.id).toMatch(new RegExp(`/secrets/db-password/${v2}$`));
      expect(d.json.scheduledPurgeDate - d.json.deletedDate).toBe(90 * 86400);
      expect(d.json).not.toHaveProperty('value');

      expect((await kv(k, token, 'GET', V, '/secrets/db-password/')).status).toBe(404);
      expect((await kv(k, token, 'DELETE', V, '/secrets/db-password')).status).toBe(404);
      const gd = await kv(k, token, 'GET', V, '/deletedsecrets/db-password');
      expect(gd.status).toBe(200);
      expect(gd.json.recoveryId).toBe(d.json.recoveryId);
      const ld = await kv(k, token, 'GET', V, '/deletedsecrets');
      expect(ld.json.value.map((x: { recoveryId: string }) => x.recoveryId)).toContain(d.json.recoveryId);
      expect(ld.json.value.find((x: { recoveryId: string }) => x.recoveryId === d.json.recoveryId).id).toMatch(/\/secrets\/db-password$/);
      expect((await kv(k, token, 'GET', V, '/secrets')).json.value.map((x: { id: string }) => x.id)).not.toContain(expect.stringMatching(/db-password$/));

      const reuse = await kv(k, token, 'PUT', V, '/secrets/db-password', { value: 'x' });
      expect(reuse.status).toBe(409);
      expect(reuse.json).toEqual({
        error: {
          code: 'Conflict',
          message: 'Secret db-password is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.',
          innererror: { code: 'ObjectIsDeletedButRecoverable' },
        },
      });

      const rec = await kv(k, token, 'POST', V, '/deletedsecrets/db-password/recover');
      expect(rec.status, rec.text).toBe(200);
      expect(rec.json.id).toMatch(new RegExp(`/secrets/db-password/${v2}$`));
      expect((await kv(k, token, 'GET', V, '/secrets/db-password/')).json.value).toBe('correct horse');
      expect((await kv(k, token, 'GET', V, `/secrets/db-password/${v1}`)).json.value).toBe('hunter2');
      const gone = await kv(k, token, 'GET', V, '/deletedsecrets/db-password');
      expect(gone.status).toBe(404);
      expect(gone.json).toEqual({ error: { code: 'SecretNotFound', message: 'Deleted Secret not found: db-password' } });
    });

    it('purges a deleted secret for good (204), freeing the name', async () => {
      await kv(k, token, 'PUT', V, '/secrets/to-purge', { value: 'bye' });
      expect((await kv(k, token, 'DELETE', V, '/deletedsecrets/to-purge')).status).toBe(404);
      await kv(k, token, 'DELETE', V, '/secrets/to-purge');
      const p = await kv(k, token, 'DELETE', V, '/deletedsecrets/to-purge');
      expect(p.status).toBe(204);
      expect(p.text).toBe('');
      expect((await kv(k, token, 'GET', V, '/deletedsecrets/to-purge')).status).toBe(404);
      expect((await kv(k, token, 'PUT', V, '/secrets/to-purge', { value: 'again' })).status).toBe(200);
    });

    it('a deleted secret past its retention is gone', async () => {
      await kv(k, token, 'PUT', V, '/secrets/short-lived', { value: 'x' });
      await kv(k, token, 'DELETE', V, '/secrets/short-lived');
      k.clock.shift(91 * 86_400_000);
      try {
        const t = await tokenFor(k, k.admin.clientId, k.admin.clientSecret!);
        expect((await kv(k, t, 'GET', V, '/deletedsecrets/short-lived')).status).toBe(404);
        expect((await kv(k, t, 'POST', V, '/deletedsecrets/short-lived/recover')).status).toBe(404);
        const reuse = await kv(k, t, 'PUT', V, '/secrets/short-lived', { value: 'fresh' });
        expect(reuse.status, reuse.text).toBe(200);
        const versions = await kv(k, t, 'GET', V, '/secrets/short-lived/versions');
        expect(versions.json.value).toHaveLength(1);
      } finally {
        k.clock.shift(0);
      }
    });

    it('backs up a secret with all versions and restores it into another vault of the subscription', async () => {
      const b = await kv(k, token, 'POST', V, '/secrets/db-password/backup');
      expect(b.status, b.text).toBe(200);
      expect(b.json.value).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(b.json.value, 'base64url').toString('utf8')).not.toContain('hunter2');

      const conflict = await kv(k, token, 'POST', V, '/secrets/restore', { value: b.json.value });
      expect(conflict.status).toBe(409);

      const r = await kv(k, token, 'POST', 'kv-second', '/secrets/restore', { value: b.json.value });
      expect(r.status, r.text).toBe(200);
      expect(r.json.id).toMatch(new RegExp(`^https://kv-second\\.vault\\.keyless\\.localhost:\\d+/secrets/db-password/${v2}$`));
      expect((await kv(k, token, 'GET', 'kv-second', '/secrets/db-password/')).json.value).toBe('correct horse');
      expect((await kv(k, token, 'GET', 'kv-second', `/secrets/db-password/${v1}`)).json.value).toBe('hunter2');

      const corrupt = await kv(k, token, 'POST', 'kv-second', '/secrets/restore', { value: Buffer.from('garbage').toString('base64url') });
      expect(corrupt.status).toBe(400);
      expect(corrupt.json).toEqual({ error: { code: 'BadParameter', message: 'Backup blob contains invalid or corrupt version.' } });
    });
  });
});
