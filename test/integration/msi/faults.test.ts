import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import * as nodeHttp from 'node:http';
import { adminToken, arm, http, type HttpResult } from '../../support/keyless.js';
import { startTestKeyless } from '../../support/keyless.js';
import { lastJson, runChild } from '../../support/child.js';
import type { StartedKeyless } from '../../../src/index.js';

const GET_TOKEN = path.resolve(import.meta.dirname, '../../compat/node/apps/get-token.mjs');
const TOKEN_PATH = '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net';

/**
 * Fault injection against a real server: faults set through the ops API change what each surface answers, in
 * that surface's own error format, and the official client's retry policy copes as it would on Azure.
 */
describe('fault injection', () => {
  let k: StartedKeyless;
  let admin: string;
  let vm: { id: string; principalId: string };
  let site: { id: string };
  let imds: string;
  const rg = () => `/subscriptions/${k.subscriptionId}/resourceGroups/faults-rg`;
  const faultsUrl = (p = '') => `${k.endpoints.resourceManager}/keyless/v1/faults${p}`;
  const ops = (method: string, p = '', body?: unknown, token = admin): Promise<HttpResult> =>
    http(method, faultsUrl(p), { headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const setFault = async (body: unknown): Promise<any> => {
    const r = await ops('POST', '', body);
    expect(r.status, r.text).toBe(201);
    return r.json;
  };
  const imdsGet = (url = `${imds}${TOKEN_PATH}`) => http('GET', url, { headers: { Metadata: 'true' } });
  const miToken = async (env: Record<string, string>) => {
    const started = Date.now();
    const r = await runChild(process.execPath, [GET_TOKEN, 'mi', 'https://vault.azure.net/.default'], env, 90_000);
    return { ...(lastJson(r.stdout) as { ok: boolean; token: string; message?: string }), ms: Date.now() - started };
  };

  beforeAll(async () => {
    k = await startTestKeyless();
    admin = await adminToken(k);
    await arm(k, 'PUT', rg(), { location: 'westeurope' }, admin);
    const v = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.Compute/virtualMachines/faults-vm`, { location: 'westeurope', identity: { type: 'SystemAssigned' } }, admin)).json;
    vm = { id: v.id, principalId: v.identity.principalId };
    site = (await arm(k, 'PUT', `${rg()}/providers/Microsoft.Web/sites/faults-site`, { location: 'westeurope', identity: { type: 'SystemAssigned' } }, admin)).json;
    imds = k.imdsEndpoint(vm.id)!;
  });
  afterEach(async () => {
    await ops('DELETE');
  });
  afterAll(async () => k?.stop());

  it('IMDS 410 for two requests: ManagedIdentityCredential retries (>= 3 s apart, as for IMDS updating) and then gets its token', async () => {
    const f = await setFault({ surface: 'imds', status: 410, count: 2, target: 'faults-vm' });
    expect(f).toMatchObject({ surface: 'imds', status: 410, remainingCount: 2, applied: 0 });
    const r = await miToken((await k.vmEnvironment(vm.id))!);
    expect(r.ok, r.message).toBe(true);
    expect(decodeJwt(r.token)['oid']).toBe(vm.principalId);
    // @azure/identity backs off from 3 s for a 410 (800 ms otherwise), doubling it, and core-util's jitter picks
    // each delay between half and all of that: at least 1.5 s + 3 s. (Asserting 6 s failed once in CI: 5,951 ms.)
    expect(r.ms).toBeGreaterThanOrEqual(4_500);
    expect((await ops('GET')).json.value).toEqual([]);
  }, 60_000);

  it('IMDS 429: answered in IMDS error format with Retry-After; the client retries only when Retry-After is present', async () => {
    await setFault({ surface: 'imds', status: 429, retryAfter: 1, count: 2 });
    const first = await imdsGet();
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('1');
    expect(first.json).toEqual({ error: 'too_many_requests', error_description: expect.stringMatching(/Too many requests.*injected by Keyless fault f\d+/) });
    const r = await miToken((await k.vmEnvironment(vm.id))!);
    expect(r.ok, r.message).toBe(true);
    expect(r.ms).toBeGreaterThan(900);

    await setFault({ surface: 'imds', status: 429, count: 1 });
    const refused = await miToken((await k.vmEnvironment(vm.id))!);
    expect(refused.ok).toBe(false);
    expect(refused.message).toMatch(/429|too_many_requests|Too many requests/i);
  }, 60_000);

  it('latency delays the normal answer; a target that does not match is left alone', async () => {
    await setFault({ surface: 'imds', latency: '400ms', target: 'another-vm' });
    let t = Date.now();
    expect((await imdsGet()).status).toBe(200);
    expect(Date.now() - t).toBeLessThan(400);
    await setFault({ surface: 'imds', latency: '400ms', target: vm.id, count: 1 });
    t = Date.now();
    const r = await imdsGet();
    expect(r.status).toBe(200);
    expect(r.json.access_token).toBeTruthy();
    expect(Date.now() - t).toBeGreaterThanOrEqual(390);
  });

  it('a connection reset reaches the client as ECONNRESET; a dropped request is never answered', async () => {
    await setFault({ surface: 'imds', connection: 'reset', count: 1 });
    await expect(imdsGet()).rejects.toMatchObject({ code: 'ECONNRESET' });
    await setFault({ surface: 'imds', connection: 'drop', count: 1 });
    const outcome = await new Promise<string>((resolve) => {
      const req = nodeHttp.get(`${imds}${TOKEN_PATH}`, { headers: { Metadata: 'true' }, timeout: 300 }, () => resolve('answered'));
      req.on('timeout', () => {
        req.destroy();
        resolve('timed out');
      });
      req.on('error', () => resolve('timed out'));
    });
    expect(outcome).toBe('timed out');
    expect((await imdsGet()).status).toBe(200);
  });

  it('the App Service endpoint of a web app fails in App Service format', async () => {
    await setFault({ surface: 'appservice', status: 503, target: 'faults-site', count: 1 });
    const env = (await k.appEnvironment(site.id))!;
    const url = `${env['IDENTITY_ENDPOINT']}?api-version=2019-08-01&resource=https://vault.azure.net`;
    const r = await http('GET', url, { headers: { 'X-IDENTITY-HEADER': env['IDENTITY_HEADER']! } });
    expect(r.status).toBe(503);
    expect(r.json).toEqual({ statusCode: 503, message: expect.stringMatching(/temporarily unavailable/), correlationId: r.headers['x-correlation-id'] });
    expect((await http('GET', url, { headers: { 'X-IDENTITY-HEADER': env['IDENTITY_HEADER']! } })).status).toBe(200);
  });

  it('login, ARM and Blob faults answer in their own formats', async () => {
    await setFault({ surface: 'login', status: 503, retryAfter: 2, path: '/oauth2/v2.0/token', count: 1 });
    const login = await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect(login.status).toBe(503);
    expect(login.headers['retry-after']).toBe('2');
    expect(login.json).toMatchObject({ error: 'temporarily_unavailable', error_codes: [], correlation_id: expect.any(String) });

    await setFault({ surface: 'arm', status: 500, path: '/resourcegroups/faults-rg', count: 1 });
    const a = await arm(k, 'GET', rg(), undefined, admin);
    expect(a.status).toBe(500);
    expect(a.json).toEqual({ error: { code: 'InternalServerError', message: expect.stringMatching(/injected by Keyless fault/) } });
    expect((await arm(k, 'GET', rg(), undefined, admin)).status).toBe(200);

    await setFault({ surface: 'blob', status: 503, target: 'faultacct', count: 1 });
    const b = await http('GET', `${k.endpoints.resourceManager}/faultacct/container?restype=container`, { headers: { 'x-ms-version': '2025-01-05' } });
    expect(b.status).toBe(503);
    expect(b.headers['x-ms-error-code']).toBe('ServerBusy');
    expect(b.text).toMatch(/<Error><Code>ServerBusy<\/Code><Message>.*injected by Keyless fault/s);
  });

  it('a clock shift moves iat/nbf/exp of newly issued tokens, and clearing it moves them back', async () => {
    const issue = async () => decodeJwt(await adminToken(k));
    const miIat = async (resource: string) => Number(decodeJwt((await imdsGet(`${imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${resource}`)).json.access_token).iat);
    const before = await issue();
    const miBefore = await miIat('https://management.azure.com/');
    const f = await setFault({ surface: 'clock', shift: '+10m', for: '1m' });
    expect(f).toMatchObject({ surface: 'clock', shiftSeconds: 600 });
    const shifted = await issue();
    expect(shifted.iat! - before.iat!).toBeGreaterThanOrEqual(595);
    expect(shifted.iat! - before.iat!).toBeLessThan(660);
    expect(shifted.exp! - shifted.iat!).toBe(before.exp! - before.iat!);
    // IMDS issues with the same clock (a resource not asked for yet, so not from the cache).
    expect((await miIat('https://storage.azure.com')) - miBefore).toBeGreaterThanOrEqual(595);
    expect((await ops('DELETE', `/${f.id}`)).json).toEqual({ removed: 1 });
    const back = await issue();
    expect(Math.abs(back.iat! - before.iat!)).toBeLessThan(10);
  });

  it('lists faults with what is left of them, and clears one by id', async () => {
    const a = await setFault({ surface: 'imds', status: 500, for: '30s', count: 3 });
    await setFault({ surface: 'login', latency: 0.2, path: '/never-called' });
    const list = (await ops('GET')).json.value;
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({ id: a.id, remainingCount: 3, applied: 0 });
    expect(list[0].remainingSeconds).toBeGreaterThan(25);
    expect(list[0].remainingSeconds).toBeLessThanOrEqual(30);
    expect((await ops('GET', `/${a.id}`)).json.id).toBe(a.id);
    expect((await ops('DELETE', `/${a.id}`)).status).toBe(200);
    expect((await ops('DELETE', `/${a.id}`)).json.error.code).toBe('FaultNotFound');
    expect((await ops('GET')).json.value).toHaveLength(1);
  });

  it('refuses malformed faults with a clear 400', async () => {
    for (const [body, message] of [
      [{ surface: 'imds' }, /needs an effect/],
      [{ surface: 'imds', status: 500, retry_after: 5 }, /Unknown field/],
      [{ surface: 'imds', status: 500, for: 'forever' }, /not a valid lifetime/],
      [{ surface: 'login', status: 500, target: 'x' }, /no target/],
    ] as const) {
      const r = await ops('POST', '', body);
      expect(r.status).toBe(400);
      expect(r.json.error.message).toMatch(message);
    }
    const notJson = await http('POST', faultsUrl(), { headers: { authorization: `Bearer ${admin}` }, body: '{' });
    expect(notJson.status).toBe(400);
  });

  it('only a caller who may assign roles at the subscription sets faults; a Contributor may only list them', async () => {
    const app = await k.createApplication('faults-contributor');
    await k.assignRole({ principalId: app.objectId, role: 'Contributor', scope: `/subscriptions/${k.subscriptionId}` });
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: `${k.endpoints.armAudience}.default` });
    const tok = (await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })).json.access_token;
    const refused = await ops('POST', '', { surface: 'imds', status: 500 }, tok);
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: 'AuthorizationFailed', message: expect.stringMatching(/Microsoft\.Authorization\/roleAssignments\/write/) });
    expect((await ops('DELETE', '', undefined, tok)).status).toBe(403);
    expect((await ops('GET', '', undefined, tok)).status).toBe(200);
    expect((await http('GET', faultsUrl())).status).toBe(401);
    expect((await imdsGet()).status).toBe(200);
  });

  it('the in-process API sets and clears faults too', async () => {
    const f = k.faults.add({ surface: 'imds', status: 500, count: 1 });
    expect((await imdsGet()).status).toBe(500);
    expect(k.faults.list().find((x) => x.id === f.id)).toBeUndefined();
    k.faults.add({ surface: 'imds', status: 500 });
    expect(k.faults.clear()).toBe(1);
    expect((await imdsGet()).status).toBe(200);
  });
});

describe('IMDS throttling (imdsThrottle)', () => {
  let k: StartedKeyless;
  let imds: string;

  beforeAll(async () => {
    k = await startTestKeyless({ imdsThrottle: true });
    const rg = `/subscriptions/${k.subscriptionId}/resourceGroups/throttle-rg`;
    await arm(k, 'PUT', rg, { location: 'westeurope' });
    const v = (await arm(k, 'PUT', `${rg}/providers/Microsoft.Compute/virtualMachines/throttle-vm`, { location: 'westeurope', identity: { type: 'SystemAssigned' } })).json;
    imds = k.imdsEndpoint(v.id)!;
  });
  afterAll(async () => k?.stop());

  it('answers 429 with Retry-After and IMDS’s error body beyond 20 token requests a second per VM', async () => {
    const get = () => http('GET', `${imds}${TOKEN_PATH}`, { headers: { Metadata: 'true' } });
    expect((await get()).status).toBe(200);
    // Start at the top of a second so the burst falls in one rate window.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const burst = await Promise.all(Array.from({ length: 30 }, get));
    const ok = burst.filter((r) => r.status === 200);
    const throttled = burst.filter((r) => r.status === 429);
    expect(ok.length + throttled.length).toBe(30);
    expect(ok.length).toBeLessThanOrEqual(20);
    expect(throttled.length).toBeGreaterThanOrEqual(10);
    expect(throttled[0]!.headers['retry-after']).toBe('1');
    expect(throttled[0]!.json).toEqual({ error: 'too_many_requests', error_description: expect.stringMatching(/per VM/) });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await get()).status).toBe(200);
  });
});
