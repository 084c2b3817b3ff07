import { expect } from 'vitest';
import { adminToken, http, type HttpResult } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

export const sub = (k: StartedKeyless) => `/subscriptions/${k.subscriptionId}`;
export const group = (k: StartedKeyless, rg: string) => `${sub(k)}/resourceGroups/${rg}`;

/** One admin ARM token for the whole suite: every token request is itself a sign-in event. */
export async function armAs(k: StartedKeyless, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const sep = path.includes('?') ? '&' : '?';
  const url = `${k.endpoints.resourceManager}${path}${/api-version=/.test(path) ? '' : `${sep}api-version=2024-01-01`}`;
  return http(method, url, {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

export async function clientToken(k: StartedKeyless, clientId: string, clientSecret: string, scope: string): Promise<string> {
  const r = await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope }).toString(),
  });
  expect(r.status, r.text).toBe(200);
  return r.json.access_token as string;
}

export const admin = (k: StartedKeyless, scope?: string) => adminToken(k, scope);

/** GET on the ops API with a bearer token. */
export function ops(k: StartedKeyless, token: string, pathAndQuery: string): Promise<HttpResult> {
  return http('GET', `${k.endpoints.resourceManager}${pathAndQuery}`, { headers: { authorization: `Bearer ${token}` } });
}

export async function imdsToken(k: StartedKeyless, vmId: string, resource = 'https://management.azure.com/'): Promise<HttpResult> {
  const base = k.imdsEndpoint(vmId);
  if (!base) throw new Error(`no IMDS for ${vmId}`);
  return http('GET', `${base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`, { headers: { Metadata: 'true' } });
}

export const vmBody = { location: 'westeurope', identity: { type: 'SystemAssigned' }, properties: { hardwareProfile: { vmSize: 'Standard_B1s' } } };
