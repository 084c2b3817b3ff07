import https from 'node:https';
import { AccountSASPermissions, StorageSharedKeyCredential, generateAccountSASQueryParameters } from '@azure/storage-blob';
import { arm, caPem } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

export interface TestAccount {
  name: string;
  id: string;
  group: string;
  /** Host style, from the ARM body: https://{name}.blob.keyless.localhost:{port}/ */
  url: string;
  /** Path style: https://127.0.0.1:{port}/{name} */
  pathUrl: string;
  key1: string;
  key2: string;
}

export const port = (k: StartedKeyless): number => Number(new URL(k.endpoints.resourceManager).port);

export async function ensureGroup(k: StartedKeyless, group: string): Promise<string> {
  const id = `/subscriptions/${k.subscriptionId}/resourceGroups/${group}`;
  const r = await arm(k, 'PUT', id, { location: 'westeurope' });
  if (r.status >= 300) throw new Error(`group: ${r.status} ${r.text}`);
  return id;
}

/** A storage account made through ARM as the admin, with its keys. */
export async function createAccount(k: StartedKeyless, name: string, group = 'blob-rg', properties: Record<string, unknown> = {}): Promise<TestAccount> {
  const g = await ensureGroup(k, group);
  const id = `${g}/providers/Microsoft.Storage/storageAccounts/${name}`;
  const r = await arm(k, 'PUT', id, { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' }, properties });
  if (r.status >= 300) throw new Error(`account: ${r.status} ${r.text}`);
  const keys = await arm(k, 'POST', `${id}/listKeys`);
  return {
    name,
    id: r.json.id,
    group,
    url: r.json.properties.primaryEndpoints.blob,
    pathUrl: `https://127.0.0.1:${port(k)}/${name}`,
    key1: keys.json.keys[0].value,
    key2: keys.json.keys[1].value,
  };
}

export function accountSas(a: TestAccount, permissions = 'rwdlacup', resourceTypes = 'sco', key = a.key1, expiresOn = new Date(Date.now() + 3600_000)): string {
  return generateAccountSASQueryParameters(
    { permissions: AccountSASPermissions.parse(permissions), services: 'b', resourceTypes, expiresOn },
    new StorageSharedKeyCredential(a.name, key),
  ).toString();
}

export interface RawResult {
  status: number;
  reason: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** Wire-level request: exact status, reason phrase, headers and bytes. */
export function raw(method: string, url: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers: opts.headers ?? {}, ca: caPem() }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** `{base}/{path}?{query}&{sas}` */
export const withSas = (base: string, path: string, sas: string, query = ''): string => `${base}/${path}?${[query, sas].filter(Boolean).join('&')}`;
