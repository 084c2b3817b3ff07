import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { exportJWK } from 'jose';
import { arm, http, startTestKeyless, type HttpResult } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { createAccount, raw, type TestAccount } from '../blob/helpers.js';
import { createVault, kv, vaultId } from '../keyvault/helpers.js';
import { MAX_TOKEN_CHARS } from '../../../src/tokens/index.js';
import { issueCertificate } from '../../../src/pki/index.js';
import { makeKey, signJwt, startOidcIssuer, type TestOidcIssuer } from '../federation/helpers.js';
import { attackerKey, decode, enc, hs256, rs256, serverSigningKeys } from './forge.js';

/**
 * Forged bearer tokens × every surface that accepts them (docs/security.md). Each forgery differs from a token the
 * surface accepts in one respect only; the control rows (a genuine token, and a token this test signs itself with
 * the server's key) must succeed, so a rejection is the surface's check and not a broken fixture.
 *
 * Expected answers (protocols.md §4, authorization.md §4.3):
 * - ARM and the ops API: 401 JSON `{"error":{"code","message"}}`, ARM's code per failed check, `WWW-Authenticate:
 *   Bearer authorization_uri=…, error="invalid_token"`.
 * - Key Vault: 401 `{"error":{"code":"Unauthorized","message":"AKV…"}}` with the vault challenge.
 * - Blob: 401 `InvalidAuthenticationInfo` Storage XML with `AuthenticationErrorDetail` and the storage challenge.
 */

type Reason = 'malformed' | 'size' | 'header' | 'alg' | 'kid' | 'sig' | 'exp' | 'nbf' | 'iss' | 'tid' | 'aud' | 'oid' | 'deleted';

const ARM_CODE: Partial<Record<Reason, string>> = {
  exp: 'ExpiredAuthenticationToken',
  iss: 'InvalidAuthenticationTokenTenant',
  tid: 'InvalidAuthenticationTokenTenant',
  aud: 'InvalidAuthenticationTokenAudience',
};
const KV_MESSAGE: Partial<Record<Reason, RegExp>> = {
  aud: /^AKV10022: Invalid audience\. Expected https:\/\/vault\.azure\.net, found: /,
  iss: /^AKV10032: Invalid issuer\. Expected one of /,
  tid: /^AKV10032: Invalid issuer\. Expected one of /,
  exp: /^\[TokenExpired\] Error validating token: 'S2S12086'\.$/,
  nbf: /^Token not yet valid\.$/,
  kid: /^AKV10046: Unable to resolve the key used for signature validation\.$/,
  sig: /^Error validating token: IDX10511$/,
  oid: /^AKV10000: Request is missing a Bearer or PoP token\.$/,
};
const BLOB_DETAIL: Partial<Record<Reason, string>> = {
  exp: 'Lifetime validation failed. The token is expired.',
  nbf: 'Lifetime validation failed. The token is not yet valid.',
  aud: 'Audience validation failed. Audience did not match.',
  iss: 'Issuer validation failed. Issuer did not match.',
  tid: 'Issuer validation failed. Issuer did not match.',
  sig: 'Signature validation failed. Signature is invalid.',
  kid: 'Signature validation failed. Unable to match key.',
};
const OTHER_TENANT = '0ff1ce00-0000-0000-0000-000000000bad';

/**
 * A token past MAX_TOKEN_CHARS cannot reach any surface: Node's HTTP parser refuses headers over 16 KiB with a bare
 * 431 before a handler runs, so the verifier's own size check is the second line.
 */
const expectHeaderTooLarge = (r: HttpResult): void => {
  expect(r.status).toBe(431);
  expect(r.text).toBe('');
};

interface Surface {
  name: 'arm' | 'ops' | 'keyvault' | 'blob';
  audience: () => string;
  send(token: string): Promise<HttpResult>;
  ok(r: HttpResult): void;
  rejected(r: HttpResult, reason: Reason): void;
}

interface Forgery {
  name: string;
  reason: Reason;
  /** A forged token for `surface`, from a genuine one of the same surface (`t`) and its decoded parts. */
  make(f: { t: string; header: Record<string, unknown>; claims: Record<string, unknown>; surface: Surface; now: number }): string | Promise<string>;
}

describe('forged bearer tokens on every surface', () => {
  let k: StartedKeyless;
  let key: { kid: string; privateKey: KeyObject; publicPem: string };
  let account: TestAccount;
  let vm: { id: string; principalId: string };
  let doomed: Record<string, string> = {};
  const VAULT = 'forgevault';
  const rg = () => `/subscriptions/${k.subscriptionId}/resourceGroups/forge-rg`;
  const genuine = new Map<string, string>();

  const imdsToken = async (vmId: string, resource: string): Promise<string> => {
    const r = await http('GET', `${k.imdsEndpoint(vmId)}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`, { headers: { Metadata: 'true' } });
    expect(r.status, r.text).toBe(200);
    return r.json.access_token as string;
  };
  const createVm = async (name: string) => {
    const r = await arm(k, 'PUT', `${rg()}/providers/Microsoft.Compute/virtualMachines/${name}`, { location: 'westeurope', identity: { type: 'SystemAssigned' } });
    expect(r.status, r.text).toBeLessThan(300);
    return { id: r.json.id as string, principalId: r.json.identity.principalId as string };
  };
  const grant = async (principalId: string) => {
    await k.assignRole({ principalId, role: 'Reader', scope: rg() });
    await k.assignRole({ principalId, role: 'Key Vault Secrets Officer', scope: vaultId(k, 'forge-rg', VAULT) });
    await k.assignRole({ principalId, role: 'Storage Blob Data Contributor', scope: account.id });
  };

  const armChallenge = /^Bearer authorization_uri="https:\/\/[^"]+\/[0-9a-f-]{36}", error="invalid_token", error_description="[^"]*"$/;
  const armLike = (name: 'arm' | 'ops', send: (t: string) => Promise<HttpResult>): Surface => ({
    name,
    audience: () => k.endpoints.armAudience,
    send,
    ok: (r) => expect(r.status, r.text).toBe(200),
    rejected(r, reason) {
      if (reason === 'size') return expectHeaderTooLarge(r);
      expect(r.status, r.text).toBe(401);
      expect(String(r.headers['content-type'])).toMatch(/^application\/json/);
      expect(Object.keys(r.json)).toEqual(['error']);
      expect(r.json.error.code).toBe(ARM_CODE[reason] ?? 'InvalidAuthenticationToken');
      expect(typeof r.json.error.message).toBe('string');
      expect(r.headers['www-authenticate']).toMatch(armChallenge);
    },
  });
  const surfaces: Surface[] = [
    armLike('arm', (t) => arm(k, 'GET', `${rg()}?api-version=2021-04-01`, undefined, t)),
    armLike('ops', (t) =>
      http('GET', `${k.endpoints.resourceManager}/keyless/v1/access/check?principal=${vm.principalId}&action=Microsoft.Compute/virtualMachines/read&scope=${encodeURIComponent(rg())}`, {
        headers: { authorization: `Bearer ${t}` },
      }),
    ),
    {
      name: 'keyvault',
      audience: () => 'https://vault.azure.net',
      send: (t) => kv(k, t, 'GET', VAULT, '/secrets/s1/'),
      ok(r) {
        expect(r.status, r.text).toBe(200);
        expect(r.json.value).toBe('forged?');
      },
      rejected(r, reason) {
        if (reason === 'size') return expectHeaderTooLarge(r);
        expect(r.status, r.text).toBe(401);
        expect(r.json.error.code).toBe('Unauthorized');
        expect(r.json.error.message).toMatch(KV_MESSAGE[reason] ?? /^Error validating token: IDX12741$/);
        expect(r.headers['www-authenticate']).toMatch(/^Bearer authorization="https:\/\/[^"]+\/[0-9a-f-]{36}", resource="https:\/\/vault\.[^"]+"$/);
      },
    },
    {
      name: 'blob',
      audience: () => 'https://storage.azure.com',
      send: async (t) => {
        const r = await raw('GET', `${account.pathUrl}/box/b.txt`, { headers: { authorization: `Bearer ${t}`, 'x-ms-version': '2026-04-06', 'x-ms-date': new Date().toUTCString() } });
        return { status: r.status, headers: r.headers, text: r.text, json: undefined };
      },
      ok(r) {
        expect(r.status, r.text).toBe(200);
        expect(r.text).toBe('blob body');
      },
      rejected(r, reason) {
        if (reason === 'size') return expectHeaderTooLarge(r);
        expect(r.status, r.text).toBe(401);
        expect(r.headers['x-ms-error-code']).toBe('InvalidAuthenticationInfo');
        expect(r.text).toMatch(/^\uFEFF?<\?xml version="1\.0" encoding="utf-8"\?><Error><Code>InvalidAuthenticationInfo<\/Code><Message>/);
        const detail = BLOB_DETAIL[reason] ?? 'Bearer token validation failed. The token is malformed or not issued by this server.';
        if (reason !== 'oid' && reason !== 'deleted') expect(r.text).toContain(`<AuthenticationErrorDetail>${detail}</AuthenticationErrorDetail>`);
        expect(r.headers['www-authenticate']).toMatch(/^Bearer authorization_uri=https:\/\/\S+\/oauth2\/authorize resource_id=https:\/\/storage\.azure\.com$/);
      },
    },
  ];

  const sec = () => Math.floor(k.clock.now() / 1000);
  const resign = (header: Record<string, unknown>, claims: Record<string, unknown>) => rs256(header, claims, key.privateKey);

  const forgeries: Forgery[] = [
    { name: 'alg none, empty signature', reason: 'alg', make: ({ header, claims }) => `${enc({ ...header, alg: 'none' })}.${enc(claims)}.` },
    { name: 'alg None with the genuine signature', reason: 'alg', make: ({ t, header }) => `${enc({ ...header, alg: 'None' })}.${t.split('.')[1]}.${t.split('.')[2]}` },
    { name: 'HS256 keyed with the RSA public key (PEM)', reason: 'alg', make: ({ header, claims }) => hs256({ ...header, alg: 'HS256' }, claims, key.publicPem) },
    { name: 'unknown kid (validly signed)', reason: 'kid', make: ({ header, claims }) => resign({ ...header, kid: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA', x5t: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA' }, claims) },
    { name: 'expired beyond the skew (validly signed)', reason: 'exp', make: ({ header, claims, now }) => resign(header, { ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 301 }) },
    { name: 'nbf in the future beyond the skew (validly signed)', reason: 'nbf', make: ({ header, claims, now }) => resign(header, { ...claims, nbf: now + 301, exp: now + 3600 }) },
    { name: 'wrong aud (validly signed)', reason: 'aud', make: ({ header, claims }) => resign(header, { ...claims, aud: 'https://evil.example/' }) },
    { name: 'aud as an array holding the right audience (validly signed)', reason: 'aud', make: ({ header, claims }) => resign(header, { ...claims, aud: [claims['aud']] }) },
    { name: 'wrong iss (validly signed)', reason: 'iss', make: ({ header, claims }) => resign(header, { ...claims, iss: `https://sts.windows.net/${OTHER_TENANT}/` }) },
    { name: 'wrong tid (validly signed)', reason: 'tid', make: ({ header, claims }) => resign(header, { ...claims, tid: OTHER_TENANT }) },
    {
      name: 'tampered payload (oid) with the original signature',
      reason: 'sig',
      make: ({ t, claims }) => `${t.split('.')[0]}.${enc({ ...claims, oid: 'ffffffff-ffff-ffff-ffff-ffffffffffff' })}.${t.split('.')[2]}`,
    },
    { name: 'truncated signature', reason: 'sig', make: ({ t }) => t.slice(0, -12) },
    { name: 'truncated to two segments', reason: 'malformed', make: ({ t }) => t.split('.').slice(0, 2).join('.') },
    { name: 'oversized header (validly signed)', reason: 'size', make: ({ header, claims }) => resign({ ...header, pad: 'x'.repeat(MAX_TOKEN_CHARS) }, claims) },
    {
      name: 'duplicate aud, evil one last, with the original signature',
      reason: 'sig',
      make: ({ t, claims }) => {
        const json = JSON.stringify(claims).replace(/^\{/, `{"aud":${JSON.stringify(claims['aud'])},`).replace(/\}$/, ',"aud":"https://evil.example/"}');
        return `${t.split('.')[0]}.${Buffer.from(json).toString('base64url')}.${t.split('.')[2]}`;
      },
    },
    {
      // Validly signed, so only the parser decides: the lexically last member wins (RFC 7515 §5.2), in the verifier
      // and in every surface alike — there is no second parser that could read the first one.
      name: 'duplicate aud, evil one last (validly signed)',
      reason: 'aud',
      make: ({ header, claims }) => rs256(header, JSON.stringify(claims).replace(/\}$/, ',"aud":"https://evil.example/"}'), key.privateKey),
    },
    {
      name: 'jku header pointing at an attacker JWKS, signed by the attacker',
      reason: 'header',
      make: ({ header, claims }) => rs256({ ...header, jku: 'https://evil.example/keys' }, claims, attackerKey().privateKey),
    },
    {
      name: 'x5u header pointing at an attacker certificate, signed by the attacker',
      reason: 'header',
      make: ({ header, claims }) => rs256({ ...header, x5u: 'https://evil.example/cert.pem' }, claims, attackerKey().privateKey),
    },
    {
      name: 'embedded jwk of the attacker key, signed by it',
      reason: 'header',
      make: async ({ header, claims }) => {
        const a = attackerKey();
        return rs256({ ...header, jwk: await exportJWK(a.publicKey) }, claims, a.privateKey);
      },
    },
    { name: "signed by an attacker key under the server's kid", reason: 'sig', make: ({ header, claims }) => rs256(header, claims, attackerKey().privateKey) },
    { name: 'no oid claim (validly signed)', reason: 'oid', make: ({ header, claims }) => resign(header, { ...claims, oid: undefined }) },
    {
      name: "a genuine token issued for another surface's resource",
      reason: 'aud',
      make: ({ surface }) => genuine.get(surface.name === 'blob' ? 'keyvault' : surface.name === 'keyvault' ? 'arm' : 'blob')!,
    },
    { name: 'not a JWT at all', reason: 'malformed', make: () => 'not-a-token' },
  ];

  beforeAll(async () => {
    k = await startTestKeyless();
    key = await serverSigningKeys(k);
    expect((await arm(k, 'PUT', rg(), { location: 'westeurope' })).status).toBe(201);
    await createVault(k, 'forge-rg', VAULT, { enableRbacAuthorization: true });
    account = await createAccount(k, 'forgeacct', 'forge-rg');
    vm = await createVm('forgevm');
    const gone = await createVm('doomedvm');
    await grant(vm.principalId);
    await grant(gone.principalId);
    for (const s of surfaces) genuine.set(s.name, await imdsToken(vm.id, s.audience()));
    expect((await kv(k, genuine.get('keyvault'), 'PUT', VAULT, '/secrets/s1', { value: 'forged?' })).status).toBe(200);
    await raw('PUT', `${account.pathUrl}/box?restype=container`, { headers: { authorization: `Bearer ${genuine.get('blob')}`, 'x-ms-version': '2026-04-06' } });
    const put = await raw('PUT', `${account.pathUrl}/box/b.txt`, { headers: { authorization: `Bearer ${genuine.get('blob')}`, 'x-ms-version': '2026-04-06', 'x-ms-blob-type': 'BlockBlob' }, body: 'blob body' });
    expect(put.status, put.text).toBe(201);
    doomed = {};
    for (const s of surfaces) doomed[s.name] = await imdsToken(gone.id, s.audience());
    for (const s of surfaces) s.ok(await s.send(doomed[s.name]!));
    expect((await arm(k, 'DELETE', gone.id)).status).toBeLessThan(300);
  });
  afterAll(async () => k?.stop());

  const parts = (s: Surface) => {
    const t = genuine.get(s.name)!;
    return { t, header: decode(t, 0), claims: decode(t, 1), surface: s, now: sec() };
  };

  describe.each(surfaces.map((s) => [s.name, s] as const))('%s', (_name, s) => {
    it('control: the genuine token succeeds', async () => s.ok(await s.send(genuine.get(s.name)!)));
    it("control: a token this test re-signs with the server's key succeeds", async () => {
      const p = parts(s);
      s.ok(await s.send(resign(p.header, { ...p.claims, iat: p.now, nbf: p.now, exp: p.now + 600 })));
    });
    it.each(forgeries.map((f) => [f.name, f] as const))('rejects %s', async (_n, f) => {
      s.rejected(await s.send(await f.make(parts(s))), f.reason);
    });
    it('rejects the token of a deleted identity (refused from the moment of deletion: docs/security.md)', async () => {
      s.rejected(await s.send(doomed[s.name]!), 'deleted');
    });
  });

  it('the portal takes no bearer tokens at all: a genuine ARM token without a session is 401 in the portal\'s JSON', async () => {
    const r = await http('GET', `${k.endpoints.resourceManager}/portal/api/session`, { headers: { authorization: `Bearer ${genuine.get('arm')}`, accept: 'application/json' } });
    expect(r.status).toBe(401);
    expect(Object.keys(r.json)).toEqual(['error']);
    expect(typeof r.json.error.code).toBe('string');
  });

  // Last: it rotates the signing keys and moves the clock past the old key's grace.
  it('a key retired and past its grace signs nothing any surface accepts; within the grace it still verifies', async () => {
    const old = key;
    await k.rotateSigningKeys();
    for (const s of surfaces) {
      const p = parts(s);
      s.ok(await s.send(rs256({ ...p.header, kid: old.kid, x5t: old.kid }, { ...p.claims, iat: p.now, nbf: p.now, exp: p.now + 600 }, old.privateKey)));
    }
    const graceSec = Math.max(k.config.tokenLifetimeSec, k.config.appTokenLifetimeSec) + 600;
    k.clock.shift(k.clock.offset + (graceSec + 60) * 1000);
    try {
      for (const s of surfaces) {
        const p = parts(s);
        s.rejected(await s.send(rs256({ ...p.header, kid: old.kid, x5t: old.kid }, { ...p.claims, iat: p.now, nbf: p.now, exp: p.now + 600 }, old.privateKey)), 'kid');
      }
    } finally {
      k.clock.shift(0);
    }
  });
});

/**
 * Forged client assertions at the token endpoint (workload identity federation against an external HTTPS issuer,
 * and a certificate credential). Each row answers with Entra's AADSTS JSON: `error`, the AADSTS number in
 * `error_codes` and at the start of `error_description` (protocols.md §2.8).
 */
describe('forged client assertions at the token endpoint', () => {
  let k: StartedKeyless;
  let ext: TestOidcIssuer;
  let uai: { clientId: string };
  let app: { clientId: string; certKey: KeyObject; thumbprint: string };
  const issuerKey = makeKey('RS256', 'ext-rs-1');
  const SUBJECT = 'system:serviceaccount:prod:api';
  const endpoint = () => `${k.endpoints.authority}/oauth2/v2.0/token`;

  const exchange = (clientId: string, assertion: string) =>
    http('POST', endpoint(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope: 'https://vault.azure.net/.default' }).toString(),
    });
  const expectAadsts = (r: HttpResult, status: number, error: string, code: number) => {
    expect(r.status, r.text).toBe(status);
    expect(r.json.error).toBe(error);
    expect(r.json.error_codes).toEqual([code]);
    expect(r.json.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(r.json.error_description).not.toContain('eyJ');
  };
  const now = () => Math.floor(k.clock.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({ iss: ext.url, sub: SUBJECT, aud: ['api://AzureADTokenExchange'], iat: now(), nbf: now(), exp: now() + 600, ...extra });
  const header = (extra: Record<string, unknown> = {}) => ({ alg: 'RS256', kid: issuerKey.kid, typ: 'JWT', ...extra });
  const good = () => signJwt(header(), claims(), issuerKey.privateKey);

  beforeAll(async () => {
    k = await startTestKeyless();
    ext = await startOidcIssuer([issuerKey]);
    const rg = `/subscriptions/${k.subscriptionId}/resourceGroups/assert-rg`;
    expect((await arm(k, 'PUT', rg, { location: 'westeurope' })).status).toBe(201);
    const id = await arm(k, 'PUT', `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/workload-x?api-version=2023-01-31`, { location: 'westeurope' });
    expect(id.status, id.text).toBe(201);
    uai = { clientId: id.json.properties.clientId };
    const fic = await arm(k, 'PUT', `${id.json.id}/federatedIdentityCredentials/ext?api-version=2023-01-31`, { properties: { issuer: ext.url, subject: SUBJECT, audiences: ['api://AzureADTokenExchange'] } });
    expect(fic.status, fic.text).toBe(201);
    const created = await k.createApplication('assert-app');
    const cert = await issueCertificate({ subjectCn: 'assert-app' });
    await k.addApplicationCertificate(created.clientId, cert.certPem);
    app = { clientId: created.clientId, certKey: createPrivateKey(cert.keyPem), thumbprint: cert.x5t };
  });
  afterAll(async () => {
    await ext?.close();
    await k?.stop();
  });

  it('control: a genuine federated assertion and a genuine certificate assertion are exchanged', async () => {
    expect((await exchange(uai.clientId, good())).status).toBe(200);
    const r = await exchange(app.clientId, signJwt({ alg: 'RS256', x5t: app.thumbprint, typ: 'JWT' }, { iss: app.clientId, sub: app.clientId, aud: endpoint(), iat: now(), nbf: now(), exp: now() + 600, jti: randomUUID() }, app.certKey));
    expect(r.status, r.text).toBe(200);
  });

  const federated: Array<[string, () => string | Promise<string>, number, string, number]> = [
    ['alg none', () => `${enc(header({ alg: 'none' }))}.${enc(claims())}.`, 401, 'invalid_client', 5002738],
    ['HS256 keyed with the issuer public key', () => hs256(header({ alg: 'HS256' }), claims(), JSON.stringify(issuerKey.publicJwk)), 401, 'invalid_client', 5002738],
    ['unknown kid', () => signJwt(header({ kid: 'nope' }), claims(), issuerKey.privateKey), 401, 'invalid_client', 7000272],
    ["signed by an attacker key under the issuer's kid", () => signJwt(header(), claims(), attackerKey().privateKey), 401, 'invalid_client', 7000274],
    ['tampered payload (exp pushed out) with the original signature', () => { const [h, , s] = good().split('.'); return `${h}.${enc(claims({ exp: now() + 86_400 }))}.${s}`; }, 401, 'invalid_client', 7000274],
    // The last member wins, so the credential match already sees the evil audience.
    ['duplicate aud, evil one last, with the original signature', () => { const [h, , s] = good().split('.'); return `${h}.${Buffer.from(JSON.stringify(claims()).replace(/\}$/, ',"aud":"api://evil"}')).toString('base64url')}.${s}`; }, 401, 'invalid_client', 700212],
    ['expired', () => signJwt(header(), claims({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 301 }), issuerKey.privateKey), 401, 'invalid_client', 700024],
    ['nbf beyond the skew', () => signJwt(header(), claims({ nbf: now() + 301 }), issuerKey.privateKey), 401, 'invalid_client', 700024],
    ['wrong aud', () => signJwt(header(), claims({ aud: ['api://not-azure'] }), issuerKey.privateKey), 401, 'invalid_client', 700212],
    ['wrong iss', () => signJwt(header(), claims({ iss: `${ext.url}/` }), issuerKey.privateKey), 401, 'invalid_client', 700211],
    ['truncated signature', () => good().slice(0, -12), 401, 'invalid_client', 7000274],
    ['truncated to two segments', () => good().split('.').slice(0, 2).join('.'), 400, 'invalid_request', 50027],
    ['jku header, signed by the attacker', () => signJwt(header({ jku: 'https://evil.example/keys' }), claims(), attackerKey().privateKey), 401, 'invalid_client', 7000274],
    ['x5u header, signed by the attacker', () => signJwt(header({ x5u: 'https://evil.example/cert' }), claims(), attackerKey().privateKey), 401, 'invalid_client', 7000274],
    ['embedded jwk of the attacker key, signed by it', async () => { const a = attackerKey(); return signJwt(header({ jwk: await exportJWK(a.publicKey), kid: 'attacker' }), claims(), a.privateKey); }, 401, 'invalid_client', 7000272],
    ['a Keyless access token offered as the assertion', async () => (await exchange(uai.clientId, good())).json.access_token, 401, 'invalid_client', 700211],
  ];
  it.each(federated)('federated: rejects %s', async (_n, make, status, error, code) => {
    expectAadsts(await exchange(uai.clientId, await make()), status, error, code);
  });

  it('rejects an assertion over the form limit with 413 AADSTS90015, before any parsing', async () => {
    expectAadsts(await exchange(uai.clientId, signJwt(header({ pad: 'x'.repeat(70_000) }), claims(), issuerKey.privateKey)), 413, 'invalid_request', 90015);
  });

  const certificate: Array<[string, () => string, number, string, number]> = [
    ['alg none', () => `${enc({ alg: 'none', x5t: app.thumbprint })}.${enc({ iss: app.clientId, sub: app.clientId, aud: endpoint(), exp: now() + 600, jti: randomUUID() })}.`, 401, 'invalid_client', 5002738],
    ['wrong aud', () => signJwt({ alg: 'RS256', x5t: app.thumbprint }, { iss: app.clientId, sub: app.clientId, aud: 'https://evil.example/token', iat: now(), exp: now() + 600, jti: randomUUID() }, app.certKey), 401, 'invalid_client', 700023],
    ['expired', () => signJwt({ alg: 'RS256', x5t: app.thumbprint }, { iss: app.clientId, sub: app.clientId, aud: endpoint(), iat: now() - 7200, exp: now() - 301, jti: randomUUID() }, app.certKey), 401, 'invalid_client', 700024],
    ['unknown thumbprint', () => signJwt({ alg: 'RS256', x5t: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA' }, { iss: app.clientId, sub: app.clientId, aud: endpoint(), iat: now(), exp: now() + 600, jti: randomUUID() }, app.certKey), 401, 'invalid_client', 700027],
    ['registered thumbprint, attacker signature', () => signJwt({ alg: 'RS256', x5t: app.thumbprint }, { iss: app.clientId, sub: app.clientId, aud: endpoint(), iat: now(), exp: now() + 600, jti: randomUUID() }, attackerKey().privateKey), 401, 'invalid_client', 700027],
  ];
  it.each(certificate)('certificate: rejects %s', async (_n, make, status, error, code) => {
    expectAadsts(await exchange(app.clientId, make()), status, error, code);
  });
});
