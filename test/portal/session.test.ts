import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arm, http } from '../support/keyless.js';
import { startTestKeyless } from '../support/keyless.js';
import type { StartedKeyless } from '../../src/index.js';
import { cookieName, PortalClient, portalUrl, seedEnvironment, setCookie } from './support.js';

/** The portal's server side without a browser: sign-in, the session cookie, CSRF, and the proxies. */
describe('portal session and API', () => {
  let k: StartedKeyless;
  let admin: PortalClient;
  let env: Awaited<ReturnType<typeof seedEnvironment>>;

  beforeAll(async () => {
    k = await startTestKeyless();
    env = await seedEnvironment(k);
    admin = new PortalClient(k);
    const r = await admin.signIn(k.admin.clientId, k.admin.clientSecret!);
    expect(r.status).toBe(303);
  });
  afterAll(async () => {
    await k?.stop();
  });

  it('sends a browser without a session to the sign-in page, and an API caller gets 401', async () => {
    const page = await http('GET', portalUrl(k, '/portal/'), { headers: { accept: 'text/html' } });
    expect(page.status).toBe(303);
    expect(page.headers['location']).toBe('/portal/sign-in');
    const root = await http('GET', portalUrl(k, '/'));
    expect(root.status).toBe(303);
    expect(root.headers['location']).toBe('/portal/');
    const api = await http('GET', portalUrl(k, '/portal/api/session'));
    expect(api.status).toBe(401);
    expect(api.json.error.code).toBe('SessionRequired');
    const proxied = await http('GET', portalUrl(k, `/portal/api/arm/subscriptions?api-version=2022-12-01`));
    expect(proxied.status).toBe(401);
    const form = await http('GET', portalUrl(k, '/portal/sign-in'));
    expect(form.status).toBe(200);
    expect(form.text).toContain('<form method="post" action="/portal/sign-in"');
  });

  it('refuses a wrong secret or an unknown client with 401 and sets no cookie', async () => {
    for (const [id, secret] of [
      [k.admin.clientId, 'not-the-secret'],
      ['00000000-0000-0000-0000-000000000000', 'whatever'],
      [k.admin.clientId, ''],
    ] as const) {
      const c = new PortalClient(k);
      const r = await c.signIn(id, secret);
      expect(r.status).toBe(401);
      expect(setCookie(r)).toBeUndefined();
      expect(r.text).toContain('Sign-in failed');
      expect(c.cookie).toBeUndefined();
    }
  });

  it('issues an HttpOnly, Secure, SameSite=Strict cookie holding a random 256-bit id', async () => {
    const c = new PortalClient(k);
    const r = await c.signIn(k.admin.clientId, k.admin.clientSecret!);
    expect(r.status).toBe(303);
    expect(r.headers['location']).toBe('/portal/');
    const cookie = setCookie(r)!;
    const [pair, ...attrs] = cookie.split(';').map((s) => s.trim());
    const [name, value] = pair!.split('=');
    expect(name).toBe(cookieName(k));
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(value!, 'base64url')).toHaveLength(32);
    expect(attrs).toEqual(expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/portal']));
    const maxAge = Number(attrs.find((a) => a.startsWith('Max-Age='))!.split('=')[1]);
    expect(maxAge).toBeGreaterThan(60);
    expect(maxAge).toBeLessThanOrEqual(k.config.appTokenLifetimeSec);
    // Two sign-ins, two unrelated ids.
    expect(c.cookie).not.toBe(admin.cookie);
    // The page is served now, and the token never reaches the browser.
    const page = await c.get('/portal/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/portal/assets/app.js');
    const s = await c.get('/portal/api/session');
    expect(s.json.principal).toMatchObject({ objectId: k.admin.objectId, appId: k.admin.clientId });
    expect(s.json.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.text).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/);
  });

  it('sends CSP and X-Frame-Options on pages, assets and API answers', async () => {
    for (const r of [await http('GET', portalUrl(k, '/portal/sign-in')), await admin.get('/portal/'), await admin.get('/portal/api/session'), await admin.get('/portal/assets/app.js')]) {
      expect(r.headers['content-security-policy']).toContain("default-src 'self'");
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('serves the bundle it built from the TSX source', async () => {
    const js = await admin.get('/portal/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toContain('text/javascript');
    expect(js.text.length).toBeGreaterThan(10_000);
    const again = await http('GET', portalUrl(k, '/portal/assets/app.js'), { headers: { 'if-none-match': String(js.headers['etag']) } });
    expect(again.status).toBe(304);
    const css = await admin.get('/portal/assets/app.css');
    expect(css.headers['content-type']).toContain('text/css');
    expect(css.text).toContain('.topbar');
  });

  it('refuses a mutation without the CSRF token, with a wrong one, or from another origin', async () => {
    const path = `/portal/api/arm/subscriptions/${k.subscriptionId}/resourceGroups/csrf-rg?api-version=2022-09-01`;
    const none = await admin.send('PUT', path, { location: 'westeurope' }, { csrf: null });
    expect(none.status).toBe(403);
    expect(none.json.error.code).toBe('CsrfTokenInvalid');
    const wrong = await admin.send('PUT', path, { location: 'westeurope' }, { csrf: 'A'.repeat(43) });
    expect(wrong.status).toBe(403);
    const cross = await admin.send('PUT', path, { location: 'westeurope' }, { headers: { origin: 'https://evil.example' } });
    expect(cross.status).toBe(403);
    expect(cross.json.error.code).toBe('CrossSiteRequestRefused');
    expect((await arm(k, 'GET', `/subscriptions/${k.subscriptionId}/resourceGroups/csrf-rg`)).status).toBe(404);
    const ok = await admin.send('PUT', path, { location: 'westeurope' });
    expect(ok.status).toBe(201);
    expect(ok.json.name).toBe('csrf-rg');
  });

  it('acts as the signed-in principal: ARM errors such as AuthorizationFailed come back as ARM sent them', async () => {
    const app = await k.createApplication('portal-nobody');
    const nobody = new PortalClient(k);
    expect((await nobody.signIn(app.clientId, app.clientSecret)).status).toBe(303);
    const r = await nobody.get(`/portal/api/arm${env.rg}?api-version=2022-09-01`);
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('AuthorizationFailed');
    expect(r.json.error.message).toContain(app.clientId);
    const subs = await nobody.get('/portal/api/arm/subscriptions?api-version=2022-12-01');
    expect(subs.status).toBe(200);
    expect(subs.json.value).toEqual([]);
    // Granted Reader, the same principal reads the group through the same session.
    await k.assignRole({ principalId: app.objectId, role: 'Reader', scope: env.rg });
    const again = await nobody.get(`/portal/api/arm${env.rg}?api-version=2022-09-01`);
    expect(again.status).toBe(200);
    const write = await nobody.send('PATCH', `/portal/api/arm${env.vm}?api-version=2024-03-01`, { identity: { type: 'SystemAssigned' } });
    expect(write.status).toBe(403);
    expect(write.json.error.code).toBe('AuthorizationFailed');
  });

  it('enables a system-assigned identity through the proxy and shows its principal id', async () => {
    const r = await admin.send('PATCH', `/portal/api/arm${env.vm}?api-version=2024-03-01`, { identity: { type: 'SystemAssigned' } });
    expect(r.status).toBe(200);
    expect(r.json.identity.principalId).toMatch(/^[0-9a-f-]{36}$/);
    const names = await admin.get(`/portal/api/directory/principals?ids=${r.json.identity.principalId},${k.admin.objectId}`);
    expect(names.json.value.map((p: { kind: string }) => p.kind).sort()).toEqual(['Application', 'SystemAssigned']);
  });

  it("forwards Check access to the engine's explanation, and no other ops path", async () => {
    const q = new URLSearchParams({ principal: k.admin.objectId, action: 'Microsoft.Compute/virtualMachines/read', scope: env.vm });
    const r = await admin.get(`/portal/api/ops/keyless/v1/access/check?${q.toString()}`);
    expect(r.status).toBe(200);
    expect(r.json.allowed).toBe(true);
    expect(r.json.text).toContain('Owner');
    const other = await admin.get('/portal/api/ops/keyless/v1/vm-environment?id=' + encodeURIComponent(env.vm));
    expect(other.status).toBe(404);
  });

  it('lists secrets without values and reveals one only by a POST with the CSRF token, as the principal', async () => {
    const setTok = await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: k.admin.clientId, client_secret: k.admin.clientSecret!, scope: 'https://vault.azure.net/.default' }).toString(),
    });
    const port = new URL(k.endpoints.resourceManager).port;
    const put = await http('PUT', `https://portal-kv.vault.${k.config.dnsSuffix}:${port}/secrets/db-password?api-version=7.4`, {
      headers: { authorization: `Bearer ${setTok.json.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'hunter2' }),
    });
    expect(put.status, put.text).toBe(200);

    const list = await admin.get('/portal/api/vaults/portal-kv/secrets');
    expect(list.status, list.text).toBe(200);
    expect(list.json.value.map((s: { name: string }) => s.name)).toEqual(['db-password']);
    expect(list.text).not.toContain('hunter2');
    expect((await admin.get('/portal/api/vaults/portal-kv/secrets/db-password/reveal')).status).toBe(404);
    expect((await admin.send('POST', '/portal/api/vaults/portal-kv/secrets/db-password/reveal', undefined, { csrf: null })).status).toBe(403);
    const reveal = await admin.send('POST', '/portal/api/vaults/portal-kv/secrets/db-password/reveal');
    expect(reveal.status).toBe(200);
    expect(reveal.json.value).toBe('hunter2');

    // Another principal without an access policy gets Key Vault's own refusal.
    const app = await k.createApplication('portal-kv-outsider');
    const outsider = new PortalClient(k);
    await outsider.signIn(app.clientId, app.clientSecret);
    const denied = await outsider.send('POST', '/portal/api/vaults/portal-kv/secrets/db-password/reveal');
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('Forbidden');
    expect(denied.text).not.toContain('hunter2');

    // The reveal is a data-plane read by the signed-in principal, so the audit trail has it when there is one.
    const audit = await admin.get(`/portal/api/ops/keyless/v1/audit/events?category=data&principal=${k.admin.objectId}`);
    if (audit.status !== 404) {
      expect(audit.status, audit.text).toBe(200);
      const reads = (audit.json.events as { operation: string; scope: string; principalId: string }[]).filter((e) => /secrets\/get/i.test(e.operation) && e.scope.toLowerCase().includes('/secrets/db-password'));
      expect(reads.length).toBeGreaterThan(0);
      expect(reads[0]!.principalId).toBe(k.admin.objectId);
    }
  });

  it('lists blobs through the Blob data plane as the principal, and passes the refusal through without a data role', async () => {
    const denied = await admin.get('/portal/api/storage/portalstore/containers/reports/blobs');
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toMatch(/^Authorization/);
    await k.assignRole({ principalId: k.admin.objectId, role: 'Storage Blob Data Reader', scope: env.storage });
    const ok = await admin.get('/portal/api/storage/portalstore/containers/reports/blobs');
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toEqual({ value: [], truncated: false });
    expect((await admin.get('/portal/api/storage/Bad_Name/containers/reports/blobs')).status).toBe(400);
  });

  it('signs out: the session is gone and the cookie is cleared', async () => {
    const c = new PortalClient(k);
    await c.signIn(k.admin.clientId, k.admin.clientSecret!);
    expect((await c.send('POST', '/portal/sign-out', undefined, { csrf: null })).status).toBe(403);
    const out = await c.send('POST', '/portal/sign-out');
    expect(out.status).toBe(204);
    expect(setCookie(out)).toMatch(/Max-Age=0/);
    const after = await c.get('/portal/api/session');
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('SessionRequired');
  });

  it('expires an idle session: 401 SessionExpired on the API, a redirect with a notice for the page', async () => {
    const c = new PortalClient(k);
    await c.signIn(k.admin.clientId, k.admin.clientSecret!);
    try {
      k.clock.shift(31 * 60_000);
      const api = await c.get('/portal/api/session');
      expect(api.status).toBe(401);
      expect(api.json.error.code).toBe('SessionExpired');
      const c2 = new PortalClient(k);
      await c2.signIn(k.admin.clientId, k.admin.clientSecret!);
      k.clock.shift(31 * 60_000 + k.config.appTokenLifetimeSec * 1000);
      const page = await c2.get('/portal/');
      expect(page.status).toBe(303);
      expect(page.headers['location']).toBe('/portal/sign-in?expired=1');
    } finally {
      k.clock.shift(0);
    }
  });
});
