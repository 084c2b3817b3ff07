import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { arm, http, startTestKeyless, type HttpResult } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { adminVaultToken, createVault, kvUrl, vaultId } from '../keyvault/helpers.js';
import { NASTY, fuzzRuns } from '../../unit/fuzz/runs.js';
import { edit, mutate, textDamage } from './fuzz-support.js';

/**
 * The Key Vault data plane under fuzzed secret names, versions, api-versions, methods and JSON bodies, sent with a
 * token that may do everything: whatever arrives, the answer is a Key Vault JSON error (or success), never a 5xx.
 */
describe('fuzz: Key Vault data plane', () => {
  let k: StartedKeyless;
  let token: string;
  const VAULT = 'fuzzkv';

  beforeAll(async () => {
    k = await startTestKeyless();
    await arm(k, 'PUT', `/subscriptions/${k.subscriptionId}/resourceGroups/kvfuzz-rg`, { location: 'westeurope' });
    await createVault(k, 'kvfuzz-rg', VAULT, { enableRbacAuthorization: true });
    token = await adminVaultToken(k);
    await k.assignRole({ principalId: String(decodeJwt(token)['oid']), role: 'Key Vault Administrator', scope: vaultId(k, 'kvfuzz-rg', VAULT) });
    const seed = await send('PUT', '/secrets/seed', '7.4', JSON.stringify({ value: 'v', contentType: 'text/plain', tags: { a: 'b' }, attributes: { enabled: true } }));
    expect(seed.status, seed.text).toBe(200);
  });
  afterAll(async () => k?.stop());

  const send = (method: string, path: string, apiVersion: string | null, body?: string): Promise<HttpResult> =>
    // Content-Length always: Node's client frames neither DELETE nor OPTIONS bodies by itself.
    http(method, kvUrl(k, VAULT, path, apiVersion), {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
      ...(body === undefined ? {} : { body }),
    });

  const expectKvAnswer = (r: HttpResult, what: string): void => {
    // 501 NotImplemented is the documented answer for the collections Keyless does not serve (keys, certificates).
    if (r.status === 501) expect(what.startsWith('HEAD ') || r.json?.error?.code === 'NotImplemented', what).toBe(true);
    else expect(r.status, `${what} → ${r.status} ${r.text.slice(0, 300)}`).toBeLessThan(500);
    // HEAD answers carry no body by definition.
    if (r.status >= 400 && what.startsWith('HEAD ')) return;
    if (r.status >= 400) {
      expect(typeof r.json?.error?.code, `${what}: ${r.text.slice(0, 300)}`).toBe('string');
      expect(typeof r.json.error.message, what).toBe('string');
    }
  };

  const segment = fc.oneof(
    fc.constantFrom('seed', 'secrets', 'versions', 'backup', 'recover', 'restore', 'deletedsecrets', '', 'x'.repeat(200)),
    fc.constantFrom(...NASTY).map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, 'x'))),
    fc.constantFrom('%', '%zz', '%c0%af', '%2e%2e', '..', '%00'),
    fc.stringMatching(/^[A-Za-z0-9-]{0,130}$/),
    fc.stringMatching(/^[0-9a-f]{32}$/),
  );
  const method = fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'POST', 'HEAD', 'OPTIONS');
  const apiVersion = fc.oneof(fc.constantFrom('7.4', '7.5', '2025-07-01', '7.0', '1.0', '', 'abc', '9999-99-99'), fc.constant(null));
  const bodies = [
    { value: 'v', contentType: 'text/plain', tags: { a: 'b' }, attributes: { enabled: true, nbf: 1_700_000_000, exp: 4_000_000_000 } },
    { contentType: 'x', attributes: { enabled: false }, tags: {} },
    { value: 'YmFja3Vw' },
  ];

  it('paths, methods and api-versions: never a 5xx, always Key Vault JSON', async () => {
    await fc.assert(
      fc.asyncProperty(method, fc.constantFrom('secrets', 'deletedsecrets', 'SECRETS', 'keys'), fc.array(segment, { maxLength: 3 }), apiVersion, fc.constantFrom(...bodies), async (m, col, segs, v, body) => {
        const path = `/${[col, ...segs].join('/')}`;
        expectKvAnswer(await send(m, path, v, m === 'GET' || m === 'HEAD' ? undefined : JSON.stringify(body)), `${m} ${path} v=${v}`);
      }),
      {
        numRuns: fuzzRuns(200),
        // Found by this property in CI: `new URL('//%00', base)` read `%00` as a host name and threw (a 500).
        examples: [
          ['GET', 'secrets', ['%2e%2e', '', '%00'], null, bodies[0]!],
          ['GET', 'secrets', ['', 'seed'], '7.4', bodies[0]!],
        ],
      },
    );
  });

  it('mutated and damaged JSON bodies for set, update and restore: never a 5xx, always Key Vault JSON', async () => {
    const ops: Array<[string, string, unknown]> = [
      ['PUT', '/secrets/fuzzed', bodies[0]],
      ['PATCH', '/secrets/seed', bodies[1]],
      ['POST', '/secrets/restore', bodies[2]],
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat(ops.length - 1), fc.oneof(fc.array(edit, { minLength: 1, maxLength: 3 }).map((e) => (b: unknown) => JSON.stringify(mutate(b, e)) ?? ''), textDamage.map((d) => (b: unknown) => d(JSON.stringify(b)))), async (i, make) => {
        const [m, path, body] = ops[i]!;
        const text = make(body);
        expectKvAnswer(await send(m, path, '7.4', text), `${m} ${path} ${text.slice(0, 200)}`);
      }),
      { numRuns: fuzzRuns(200) },
    );
  });

  it('still stores and serves secrets afterwards', async () => {
    expect((await send('PUT', '/secrets/after', '7.4', JSON.stringify({ value: 'still here' }))).status).toBe(200);
    const r = await send('GET', '/secrets/after/', '7.4');
    expect(r.status).toBe(200);
    expect(r.json.value).toBe('still here');
  });
});
