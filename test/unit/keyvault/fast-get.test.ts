import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { AccessCheck, AccessControl } from '../../../src/core/access.js';
import type { Caller } from '../../../src/core/caller.js';
import type { DataAccessEvent } from '../../../src/core/data-access.js';
import { createFastGet, type FastGetDeps } from '../../../src/keyvault/fast-get.js';
import type { OpenSecret } from '../../../src/keyvault/secret-cache.js';
import type { VaultInfo } from '../../../src/keyvault/vault-info.js';

const VAULT: VaultInfo = {
  nameKey: 'kv1',
  name: 'kv1',
  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1',
  location: 'westeurope',
  tenantId: 't',
  subscriptionId: 's',
  rbac: true,
  accessPolicies: [],
  softDeleteDays: 90,
  purgeProtection: false,
};
const SECRET: OpenSecret = {
  view: { name: 'app', version: 'v0000000000000000000000000000001', contentType: undefined, tags: undefined, enabled: true, nbf: undefined, exp: undefined, created: 1, updated: 1 },
  value: 'hello',
};
const CALLER: Caller = { objectId: 'oid-1', appId: 'app-1', tenantId: 't', via: 'bearer', clientName: 'app-1' };
const HOST = 'kv1.vault.keyless.localhost:8443';

function setup(over: Partial<FastGetDeps> = {}, granted = true) {
  const recorded: DataAccessEvent[] = [];
  const checks: AccessCheck[] = [];
  const access: AccessControl = {
    mode: 'enforce',
    check: (c) => {
      checks.push(c);
      return { granted, allowed: granted, mode: 'enforce', conditionInvolved: false, summary: granted ? 'allowed: test' : 'denied: test', explanation: {} as never };
    },
    visibleSubscriptions: () => new Set(),
  };
  const fast = createFastGet({
    dnsSuffix: 'keyless.localhost',
    access,
    vaults: { peek: (n) => (n === 'kv1' ? VAULT : undefined) },
    secrets: { peekLatest: (_v, n) => (n === 'app' ? SECRET : undefined) },
    cachedCaller: (t) => (t === 'good' ? CALLER : undefined),
    audiences: () => ['https://vault.azure.net'],
    recordDataAccess: (e) => recorded.push(e),
    ...over,
  });
  return { fast, recorded, checks };
}

function request(over: { method?: string; url?: string; headers?: Record<string, string> } = {}) {
  const req = { method: over.method ?? 'GET', url: over.url ?? '/secrets/app/?api-version=7.5', headers: { host: HOST, authorization: 'Bearer good', ...over.headers } } as unknown as IncomingMessage;
  const out: { status?: number; headers: Record<string, unknown>; body?: Buffer } = { headers: {} };
  const res = {
    writeHead: (status: number, flat: string[]) => {
      out.status = status;
      for (let i = 0; i < flat.length; i += 2) out.headers[flat[i]!] = flat[i + 1];
    },
    end: (b: Buffer) => void (out.body = b),
  } as unknown as ServerResponse;
  return { req, res, out };
}

describe('Key Vault fast get-secret', () => {
  it('answers a granted read of a cached secret, records it, and renders the bundle', () => {
    const { fast, recorded, checks } = setup();
    const { req, res, out } = request({ headers: { 'x-ms-client-request-id': 'c-1' } });
    expect(fast(req, res)).toBe(true);
    expect(out.status).toBe(200);
    expect(out.headers).toMatchObject({ 'cache-control': 'no-cache', 'x-ms-keyvault-region': 'westeurope', 'x-ms-client-request-id': 'c-1', 'content-type': 'application/json; charset=utf-8' });
    const body = JSON.parse(out.body!.toString());
    expect(body).toMatchObject({ value: 'hello', id: 'https://kv1.vault.keyless.localhost:8443/secrets/app/v0000000000000000000000000000001', attributes: { enabled: true } });
    expect(out.headers['content-length']).toBe(String(out.body!.length));
    expect(out.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(checks).toEqual([{ principalId: 'oid-1', action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action', isDataAction: true, scope: `${VAULT.id}/secrets/app` }]);
    expect(recorded).toEqual([expect.objectContaining({ surface: 'keyvault', principalId: 'oid-1', allowed: true, status: 200, scope: `${VAULT.id}/secrets/app`, summary: 'allowed: test' })]);
  });

  it.each([
    ['another method', { method: 'PUT' }],
    ['a version', { url: '/secrets/app/v0000000000000000000000000000001?api-version=7.5' }],
    ['no api-version', { url: '/secrets/app/' }],
    ['another parameter', { url: '/secrets/app/?api-version=7.5&maxresults=1' }],
    ['another collection', { url: '/deletedsecrets/app?api-version=7.5' }],
    ['an invalid name', { url: '/secrets/a_b?api-version=7.5' }],
    ['an unknown vault', { headers: { host: 'other.vault.keyless.localhost:8443' } }],
    ['a host outside the suffix', { headers: { host: 'kv1.vault.example.com' } }],
    ['no bearer token', { headers: { authorization: 'Basic x' } }],
    ['a token not verified before', { headers: { authorization: 'Bearer fresh' } }],
    ['extra whitespace in the header', { headers: { authorization: 'Bearer  good' } }],
    ['a secret not in the cache', { url: '/secrets/other?api-version=7.5' }],
  ])('leaves %s to the full pipeline, with no side effect', (_what, over) => {
    const { fast, recorded } = setup();
    const { req, res, out } = request(over);
    expect(fast(req, res)).toBe(false);
    expect(out).toEqual({ headers: {} });
    expect(recorded).toEqual([]);
  });

  it('leaves a denial to the full pipeline (which records and refuses it)', () => {
    const { fast, recorded } = setup({}, false);
    const { req, res, out } = request();
    expect(fast(req, res)).toBe(false);
    expect(out).toEqual({ headers: {} });
    expect(recorded).toEqual([]);
  });

  it('leaves a disabled secret to the full pipeline', () => {
    const disabled: OpenSecret = { view: { ...SECRET.view, enabled: false }, value: 'x' };
    const { fast } = setup({ secrets: { peekLatest: () => disabled } });
    expect(fast(request().req, request().res)).toBe(false);
  });

  it('renders the body again when the secret, the vault or the host port changes', () => {
    let open = SECRET;
    let vault = VAULT;
    const { fast } = setup({ secrets: { peekLatest: () => open }, vaults: { peek: () => vault } });
    const read = (host = HOST) => {
      const r = request({ headers: { host } });
      expect(fast(r.req, r.res)).toBe(true);
      return JSON.parse(r.out.body!.toString());
    };
    expect(read().value).toBe('hello');
    open = { view: { ...SECRET.view, version: 'v2' }, value: 'bye' };
    expect(read()).toMatchObject({ value: 'bye', id: expect.stringMatching(/\/secrets\/app\/v2$/) });
    vault = { ...VAULT, softDeleteDays: 7 };
    expect(read().attributes.recoverableDays).toBe(7);
    expect(read('kv1.vault.keyless.localhost').id).toMatch(/^https:\/\/kv1\.vault\.keyless\.localhost\/secrets\//);
  });
});
