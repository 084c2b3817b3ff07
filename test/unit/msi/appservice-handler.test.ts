import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeylessError } from '../../../src/core/errors.js';
import { createAppServiceListener } from '../../../src/msi/appservice.js';
import { createCloudShellHandler } from '../../../src/msi/cloudshell.js';
import type { IssuedAccessToken } from '../../../src/signin/index.js';

/** What the handlers asked the sign-in service for, and a token or error to give back. */
function fakeSignin() {
  const calls: any[] = [];
  let fail: KeylessError | undefined;
  return {
    calls,
    failWith(e: KeylessError | undefined) {
      fail = e;
    },
    async managedIdentityToken(input: any): Promise<IssuedAccessToken> {
      calls.push(input);
      if (fail) throw fail;
      return { accessToken: 'tok', expiresOn: 1_900_000_000, notBefore: 1_800_000_000, expiresIn: 86_400, resource: input.resource, principal: { appId: 'app-1' } as never };
    },
  };
}

async function serve(handler: (q: http.IncomingMessage, s: http.ServerResponse) => void | Promise<void>) {
  const server = http.createServer((q, s) => void handler(q, s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const r = await fetch(url, init);
  return { status: r.status, headers: r.headers, json: (await r.json()) as any };
}

describe('App Service protocol handler', () => {
  const signin = fakeSignin();
  let srv: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    srv = await serve(createAppServiceListener({ signin, bind: async (_q, p) => (p.secret === 'GOOD' ? { hostKey: `site-${p.version}`, rules: { implicitUserAssigned: false } } : undefined) }));
  });
  afterAll(async () => srv?.close());
  const get = (q: string, headers: Record<string, string> = { 'X-IDENTITY-HEADER': 'GOOD' }) => call(`${srv.base}/msi/token?${q}`, { headers });

  it('passes the bound host, the rules and the selector to the sign-in service; principal_id is object_id', async () => {
    const r = await get('api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net&principal_id=OID');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ access_token: 'tok', expires_on: '1900000000', expires_in: '86400', not_before: '1800000000', resource: 'https://vault.azure.net', token_type: 'Bearer', client_id: 'app-1' });
    expect(signin.calls.at(-1)).toMatchObject({ hostKey: 'site-2019-08-01', endpoint: 'appservice-2019-08-01', rules: { implicitUserAssigned: false }, selector: { objectId: 'OID' } });
    await get('api-version=2019-08-01&resource=r&mi_res_id=%2Fsubscriptions%2Fx');
    expect(signin.calls.at(-1).selector).toEqual({ clientId: undefined, objectId: undefined, resourceId: '/subscriptions/x' });
    await call(`${srv.base}/MSI/token/?resource=https://management.x/&api-version=2017-09-01&clientid=CID`, { headers: { secret: 'GOOD' } });
    expect(signin.calls.at(-1)).toMatchObject({ hostKey: 'site-2017-09-01', resource: 'https://management.x/', selector: { clientId: 'CID' } });
  });

  it('words identity-selection failures as App Service does, and keeps token failures as they are', async () => {
    signin.failWith(new KeylessError(400, 'invalid_request', 'Identity not found', { detail: 'private' }));
    const r = await get('api-version=2019-08-01&resource=r&client_id=nope');
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ statusCode: 400, message: 'Unable to load the proper Managed Identity.', correlationId: r.headers.get('x-correlation-id') });
    expect(JSON.stringify(r.json)).not.toContain('private');
    signin.failWith(new KeylessError(400, 'invalid_resource', 'AADSTS500011: no such resource'));
    const bad = await get('api-version=2019-08-01&resource=r');
    expect(bad.json.message).toBe('AADSTS500011: no such resource');
    signin.failWith(undefined);
  });

  it('checks the secret after the version and before anything else, in the header the version names', async () => {
    const calls = signin.calls.length;
    expect((await get('api-version=2019-08-01', { 'X-IDENTITY-HEADER': 'BAD' })).status).toBe(401);
    expect((await get('api-version=2019-08-01&resource=r', { secret: 'GOOD' })).status).toBe(401);
    expect((await get('api-version=2017-09-01&resource=r')).status).toBe(401);
    expect((await get('resource=r')).status).toBe(400);
    expect(signin.calls.length).toBe(calls);
  });

  it.each([
    ['api-version=2019-08-01&resource=r&client_id=a&mi_res_id=b', /Only one of/],
    ['api-version=2019-08-01&resource=r&msi_res_id=b', /does not accept 'msi_res_id'/],
    ['api-version=2017-09-01&resource=r&object_id=b', /does not accept 'object_id'/],
    ['api-version=2019-08-01&client_id=a', /'resource'/],
    ['api-version=2019-08-01&api-version=2019-08-01&resource=r', /more than once/],
  ])('refuses %s', async (q, message) => {
    const r = await get(q, { 'X-IDENTITY-HEADER': 'GOOD', secret: 'GOOD' });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(message);
  });

  it('answers other paths and methods in App Service JSON', async () => {
    const p = await call(`${srv.base}/metadata/identity/oauth2/token`);
    expect(p.status).toBe(404);
    expect(p.json.statusCode).toBe(404);
    const m = await call(`${srv.base}/msi/token?api-version=2019-08-01&resource=r`, { method: 'POST', headers: { 'X-IDENTITY-HEADER': 'GOOD' } });
    expect(m.status).toBe(405);
  });
});

const FORM = { Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' };

describe('Cloud Shell protocol handler', () => {
  const signin = fakeSignin();
  let srv: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    const h = createCloudShellHandler({ signin });
    srv = await serve((q, s) => h(q, s, 'vm-key'));
  });
  afterAll(async () => srv?.close());
  const post = (body: string, headers: Record<string, string> = { Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' }) => call(`${srv.base}/msi/token`, { method: 'POST', headers, body });

  it('reads the form body, accepts an object id as client_id, and answers IMDS strings', async () => {
    const r = await post('resource=https%3A%2F%2Fmanagement.x%2F&client_id=OID');
    expect(r.status).toBe(200);
    expect(r.json.expires_on).toBe('1900000000');
    expect(r.json.resource).toBe('https://management.x/');
    expect(signin.calls.at(-1)).toMatchObject({ hostKey: 'vm-key', endpoint: 'cloudshell', rules: { clientIdMayBeObjectId: true }, selector: { clientId: 'OID' } });
    await post('resource=r&msi_res_id=%2Fsubscriptions%2Fx');
    expect(signin.calls.at(-1).selector).toEqual({ clientId: undefined, objectId: undefined, resourceId: '/subscriptions/x' });
  });

  it.each([
    ['no Metadata header', 'resource=r', { 'Content-Type': 'application/x-www-form-urlencoded' }, 400],
    ['a proxied request', 'resource=r', { ...FORM, 'X-Forwarded-For': '10.0.0.1' }, 400],
    ['a JSON body', '{"resource":"r"}', { Metadata: 'true', 'Content-Type': 'application/json' }, 415],
    ['no resource', 'client_id=x', FORM, 400],
    ['a duplicated field', 'resource=r&resource=s', FORM, 400],
    ['a body over 8 KiB', `resource=${'r'.repeat(9000)}`, FORM, 413],
  ])('refuses %s with an IMDS error body', async (_n, body, headers, status) => {
    const r = await post(body, headers);
    expect(r.status).toBe(status);
    expect(Object.keys(r.json).sort()).toEqual(['error', 'error_description']);
  });

  it('refuses GET (the Cloud Shell protocol is a POST)', async () => {
    const r = await call(`${srv.base}/msi/token?resource=r`, { headers: { Metadata: 'true' } });
    expect(r.status).toBe(405);
  });
});
