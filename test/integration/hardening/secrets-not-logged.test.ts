import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AccountSASPermissions, BlobServiceClient, StorageSharedKeyCredential, generateAccountSASQueryParameters } from '@azure/storage-blob';
import { KEYLESS_BIN } from '../../support/cli.js';
import { http } from '../../support/keyless.js';
import { killAll, spawnKeyless, stopGracefully } from './keyless-process.js';

/**
 * The real CLI at `--log-level trace` is driven through every flow that carries a secret or a token: client-secret
 * sign-in, an IMDS token, Key Vault set/get, Shared Key and SAS blob requests. Its whole stdout and stderr must
 * contain none of them.
 */
describe('nothing secret reaches the logs, even at trace level', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-logs-'));
  afterAll(() => {
    killAll();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('client secrets, tokens, secret values, account keys and SAS signatures never appear', async () => {
    const proc = spawnKeyless(KEYLESS_BIN, ['--data-dir', dataDir, '--log-level', 'trace']);
    const ready = await proc.ready;
    const admin = JSON.parse(fs.readFileSync(ready.adminFile, 'utf8')) as { clientId: string; clientSecret: string };
    const tokens: string[] = [];
    const login = async (scope: string) => {
      const r = await http('POST', `${ready.endpoints.authority}/oauth2/v2.0/token`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: admin.clientId, client_secret: admin.clientSecret, scope }).toString(),
      });
      expect(r.status, r.text).toBe(200);
      tokens.push(r.json.access_token);
      return r.json.access_token as string;
    };
    const armToken = await login(`${ready.endpoints.armAudience}.default`);
    // A wrong secret too: failed sign-ins are logged, the attempted secret must not be.
    const wrongSecret = `wrong8Q~${randomBytes(24).toString('base64url')}`;
    const bad = await http('POST', `${ready.endpoints.authority}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: admin.clientId, client_secret: wrongSecret, scope: 'https://vault.azure.net/.default' }).toString(),
    });
    expect(bad.status).toBe(401);

    const base = ready.endpoints.resourceManager;
    const armCall = async (method: string, p: string, body?: unknown) => {
      const r = await http(method, `${base}${p}`, { headers: { authorization: `Bearer ${armToken}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      expect(r.status, `${method} ${p}: ${r.text}`).toBeLessThan(300);
      return r.json;
    };
    const rg = `/subscriptions/${ready.subscriptionId}/resourceGroups/logs-rg`;
    await armCall('PUT', `${rg}?api-version=2021-04-01`, { location: 'westeurope' });

    // IMDS: a VM's managed identity token.
    const vm = await armCall('PUT', `${rg}/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2024-07-01`, { location: 'westeurope', identity: { type: 'SystemAssigned' } });
    const env = await http('GET', `${base}/keyless/v1/vm-environment?id=${encodeURIComponent(vm.id)}`, { headers: { authorization: `Bearer ${armToken}` } });
    expect(env.status, env.text).toBe(200);
    const imds = await http('GET', `${env.json.environment.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`, { headers: { Metadata: 'true' } });
    expect(imds.status, imds.text).toBe(200);
    tokens.push(imds.json.access_token);

    // Key Vault: set and get a secret.
    const vaultToken = await login('https://vault.azure.net/.default');
    const oid = JSON.parse(Buffer.from(vaultToken.split('.')[1]!, 'base64url').toString()).oid as string;
    const vault = `logs-${randomBytes(3).toString('hex')}`;
    await armCall('PUT', `${rg}/providers/Microsoft.KeyVault/vaults/${vault}?api-version=2024-11-01`, {
      location: 'westeurope',
      properties: { tenantId: ready.tenantId, sku: { family: 'A', name: 'standard' }, accessPolicies: [{ tenantId: ready.tenantId, objectId: oid, permissions: { secrets: ['get', 'set'] } }] },
    });
    const port = new URL(base).port;
    const secretValue = `log-canary-${randomBytes(16).toString('hex')}`;
    const kvUrl = `https://${vault}.vault.keyless.localhost:${port}/secrets/canary?api-version=7.4`;
    const kvHeaders = { authorization: `Bearer ${vaultToken}`, 'content-type': 'application/json' };
    expect((await http('PUT', kvUrl, { headers: kvHeaders, body: JSON.stringify({ value: secretValue }) })).status).toBe(200);
    expect((await http('GET', kvUrl, { headers: kvHeaders })).json.value).toBe(secretValue);

    // Blob: Shared Key through the official SDK, then a raw SAS request.
    const account = `logs${randomBytes(4).toString('hex')}`;
    const acct = await armCall('PUT', `${rg}/providers/Microsoft.Storage/storageAccounts/${account}?api-version=2023-05-01`, { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' } });
    const keys = (await armCall('POST', `${rg}/providers/Microsoft.Storage/storageAccounts/${account}/listKeys?api-version=2023-05-01`)).keys.map((k: { value: string }) => k.value) as string[];
    const cred = new StorageSharedKeyCredential(account, keys[0]!);
    const service = new BlobServiceClient(acct.properties.primaryEndpoints.blob, cred);
    const container = service.getContainerClient('logs');
    await container.create();
    await container.getBlockBlobClient('shared-key.txt').upload('hello', 5);
    expect((await container.getBlockBlobClient('shared-key.txt').downloadToBuffer()).toString()).toBe('hello');
    const sas = generateAccountSASQueryParameters(
      { permissions: AccountSASPermissions.parse('rwl'), services: 'b', resourceTypes: 'sco', expiresOn: new Date(Date.now() + 3600_000) },
      cred,
    ).toString();
    const viaSas = await http('GET', `https://127.0.0.1:${port}/${account}/logs/shared-key.txt?${sas}`, { headers: { 'x-ms-version': '2025-01-05' } });
    expect(viaSas.status).toBe(200);
    // A SAS whose signature is wrong is refused, and logged, without the signature.
    const forged = sas.replace(/sig=[^&]+/, `sig=${encodeURIComponent(randomBytes(32).toString('base64'))}`);
    expect((await http('GET', `https://127.0.0.1:${port}/${account}/logs/shared-key.txt?${forged}`, { headers: { 'x-ms-version': '2025-01-05' } })).status).toBe(403);

    await stopGracefully(proc);
    const logs = proc.stdout() + proc.stderr();
    // Every flow was logged, some below info (otherwise the scan below proves nothing).
    const lines = logs.split('\n').filter((l) => l.startsWith('{"level"')).map((l) => JSON.parse(l) as { level: number; surface?: string; signin?: unknown });
    expect(lines.some((l) => l.level < 30)).toBe(true);
    expect(new Set(lines.map((l) => l.surface))).toEqual(new Set([undefined, 'login', 'arm', 'ops', 'imds', 'keyvault', 'blob']));
    expect(lines.filter((l) => l.signin).length).toBeGreaterThanOrEqual(4);

    const sigs = [sas, forged].map((s) => new URLSearchParams(s).get('sig')!);
    const needles: [string, string][] = [
      ['admin client secret', admin.clientSecret],
      ['wrong client secret', wrongSecret],
      ['secret value', secretValue],
      ...keys.map((k, i): [string, string] => [`account key${i + 1}`, k]),
      ...sigs.flatMap((s): [string, string][] => [['sas sig', s], ['sas sig (url-encoded)', encodeURIComponent(s)]]),
      ...tokens.flatMap((t): [string, string][] => [['access token', t], ['access token signature', t.split('.')[2]!]]),
    ];
    const leaks = needles.filter(([, v]) => logs.includes(v)).map(([what]) => what);
    expect(leaks).toEqual([]);
    // No JWT of any kind: a token Keyless signed would start with its header, base64url of '{"alg":"RS256"…'.
    expect(logs.match(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}/g) ?? []).toEqual([]);
  }, 90_000);
});
