import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { http, startTestKeyless, type HttpResult } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { NASTY, fuzzRuns } from '../../unit/fuzz/runs.js';

/**
 * The token endpoints (v1, v2, ADFS) under fuzzed form bodies: any combination of known and unknown fields with
 * junk values, duplicated fields, broken encodings and wrong content types. Every refusal is Entra's AADSTS JSON.
 */
describe('fuzz: token endpoint form bodies', () => {
  let k: StartedKeyless;
  let app: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    k = await startTestKeyless();
    app = await k.createApplication('fuzz-app');
  });
  afterAll(async () => k?.stop());

  const expectEntraAnswer = (r: HttpResult, what: string): void => {
    expect(r.status, `${what} → ${r.status} ${r.text.slice(0, 300)}`).toBeLessThan(500);
    if (r.status >= 400) {
      expect(typeof r.json?.error, `${what}: ${r.text.slice(0, 300)}`).toBe('string');
      expect(String(r.json.error_description), what).toMatch(/^AADSTS\d+: /);
      expect(Array.isArray(r.json.error_codes), what).toBe(true);
    } else {
      expect(typeof r.json.access_token, what).toBe('string');
    }
  };

  const value = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom(...NASTY),
    fc.constantFrom('client_credentials', 'authorization_code', 'password', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'https://vault.azure.net/.default', 'https://management.azure.com/', '.default', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.', 'x'.repeat(5000)),
  );
  const field = fc.constantFrom('grant_type', 'client_id', 'client_secret', 'scope', 'resource', 'client_assertion', 'client_assertion_type', 'claims', 'client_info', 'x-client-SKU', '__proto__', 'constructor', '');

  it('control: the real client secret gets a token', async () => {
    const r = await post('/oauth2/v2.0/token', new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: 'https://vault.azure.net/.default' }).toString());
    expectEntraAnswer(r, 'control');
    expect(r.status).toBe(200);
  });

  function post(path: string, body: string, contentType = 'application/x-www-form-urlencoded'): Promise<HttpResult> {
    return http('POST', `${k.endpoints.authority}${path}`, { headers: { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) }, body });
  }

  it('random fields and values on v1, v2 and ADFS: never a 5xx, always AADSTS JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/oauth2/v2.0/token', '/oauth2/token', '/../adfs/oauth2/token'),
        fc.array(fc.tuple(field, value), { maxLength: 8 }),
        fc.boolean(),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'application/json', 'text/plain', ''),
        async (path, pairs, withRealClient, contentType) => {
          const all: Array<[string, string]> = withRealClient ? [['grant_type', 'client_credentials'], ['client_id', app.clientId], ...pairs] : pairs;
          const body = all.map(([k2, v]) => `${encodeURIComponent(k2)}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, 'x'))}`).join('&');
          const url = path.startsWith('/..') ? `${k.endpoints.authorityHost}/adfs/oauth2/token` : `${k.endpoints.authority}${path}`;
          const r = await http('POST', url, { headers: { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) }, body });
          expectEntraAnswer(r, `${path} ${contentType} ${body.slice(0, 200)}`);
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });

  it('broken percent-encoding, raw bytes and oversized bodies: never a 5xx, always AADSTS JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.constantFrom('%', '%zz', 'grant_type=%E0%A4%A', '&&&===', 'grant_type=client_credentials&grant_type=client_credentials', `grant_type=client_credentials&client_id=${'%'.repeat(100)}`, `a=${'x'.repeat(70_000)}`),
        ),
        async (body) => {
          expectEntraAnswer(await post('/oauth2/v2.0/token', body), JSON.stringify(body.slice(0, 200)));
        },
      ),
      { numRuns: fuzzRuns(150) },
    );
  });

  it('a path that cannot be percent-decoded is answered in AADSTS JSON too', async () => {
    const r = await http('POST', `${k.endpoints.authorityHost}/%/oauth2/v2.0/token`, { headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' }, body: '' });
    expectEntraAnswer(r, 'bad path');
    expect(r.status).toBe(400);
  });
});
