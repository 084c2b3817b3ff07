import fs from 'node:fs';
import { expect } from 'vitest';
import { arm, adminToken, http, type HttpResult } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

export const sub = (k: StartedKeyless) => `/subscriptions/${k.subscriptionId}`;
export const vaultId = (k: StartedKeyless, rg: string, name: string) => `${sub(k)}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/${name}`;

export async function createVault(
  k: StartedKeyless,
  rg: string,
  name: string,
  properties: Record<string, unknown> = {},
  apiVersion = '2024-11-01',
): Promise<HttpResult> {
  const r = await arm(k, 'PUT', `${vaultId(k, rg, name)}?api-version=${apiVersion}`, {
    location: 'westeurope',
    properties: { tenantId: k.tenantId, sku: { family: 'A', name: 'standard' }, accessPolicies: [], ...properties },
  });
  expect(r.status, r.text).toBeLessThan(300);
  return r;
}

/** An application principal and a token for it, for the given audience. */
export async function appWithToken(k: StartedKeyless, displayName: string, scope = 'https://vault.azure.net/.default') {
  const app = await k.createApplication(displayName);
  const token = await tokenFor(k, app.clientId, app.clientSecret, scope);
  return { ...app, token };
}

export async function tokenFor(k: StartedKeyless, clientId: string, clientSecret: string, scope = 'https://vault.azure.net/.default'): Promise<string> {
  const r = await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope }).toString(),
  });
  if (r.status !== 200) throw new Error(`token failed: ${r.status} ${r.text}`);
  return r.json.access_token as string;
}

export const adminVaultToken = (k: StartedKeyless) => adminToken(k, 'https://vault.azure.net/.default');

export function kvUrl(k: StartedKeyless, vault: string, path: string, apiVersion: string | null = '7.4'): string {
  const sep = path.includes('?') ? '&' : '?';
  return `https://${vault}.vault.${k.config.dnsSuffix}:${portOf(k)}${path}${apiVersion ? `${sep}api-version=${apiVersion}` : ''}`;
}

const portOf = (k: StartedKeyless) => new URL(k.endpoints.resourceManager).port;

export function kv(k: StartedKeyless, token: string | undefined, method: string, vault: string, path: string, body?: unknown, apiVersion: string | null = '7.4'): Promise<HttpResult> {
  return http(method, kvUrl(k, vault, path, apiVersion), {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

/** Replaces run-specific values by placeholders so a wire body can be compared with a golden file. */
export function normalize(k: StartedKeyless, value: unknown, extra: Record<string, string> = {}): unknown {
  let text = JSON.stringify(value);
  const subs: Record<string, string> = { ...extra, [k.tenantId]: '{tenantId}', [k.subscriptionId]: '{subscriptionId}', [portOf(k)]: '{port}' };
  for (const [from, to] of Object.entries(subs)) text = text.split(from).join(to);
  return JSON.parse(text);
}

export function golden(name: string): unknown {
  return JSON.parse(fs.readFileSync(new URL(`../../golden/keyvault/${name}.json`, import.meta.url), 'utf8'));
}
