import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adminToken, arm, http, startTestKeyless, type HttpResult } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';
import { fuzzRuns } from '../../unit/fuzz/runs.js';
import { edit, mutate, prototypeIsClean, textDamage } from './fuzz-support.js';

/**
 * Mutation fuzzing of ARM request bodies against a real server: valid bodies for each resource type Keyless
 * serves, with types swapped, values nulled, huge or deeply nested, prototype keys added, or the JSON text itself
 * damaged. Whatever arrives, ARM answers in its own envelope and never with a 5xx.
 */
describe('fuzz: ARM request bodies', () => {
  let k: StartedKeyless;
  let token: string;
  let uaiId: string;
  let principalId: string;
  const rg = () => `/subscriptions/${k.subscriptionId}/resourceGroups/fuzz-rg`;

  beforeAll(async () => {
    k = await startTestKeyless();
    token = await adminToken(k);
    expect((await arm(k, 'PUT', rg(), { location: 'westeurope' }, token)).status).toBe(201);
    const uai = await arm(k, 'PUT', `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fuzz-base?api-version=2023-01-31`, { location: 'westeurope' }, token);
    uaiId = uai.json.id;
    principalId = uai.json.properties.principalId;
  });
  afterAll(async () => k?.stop());

  const targets = (): Array<{ name: string; method: string; path: string; body: unknown }> => [
    {
      name: 'virtual machine',
      method: 'PUT',
      path: `${rg()}/providers/Microsoft.Compute/virtualMachines/fuzz-vm?api-version=2024-03-01`,
      body: { location: 'westeurope', tags: { env: 'fuzz' }, identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uaiId]: {} } }, properties: { hardwareProfile: { vmSize: 'Standard_B1s' } } },
    },
    { name: 'virtual machine (PATCH)', method: 'PATCH', path: `${rg()}/providers/Microsoft.Compute/virtualMachines/fuzz-vm?api-version=2024-03-01`, body: { identity: { type: 'UserAssigned', userAssignedIdentities: { [uaiId]: null } }, tags: { a: 'b' } } },
    { name: 'user-assigned identity', method: 'PUT', path: `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fuzz-id?api-version=2023-01-31`, body: { location: 'westeurope', tags: { a: 'b' }, properties: { isolationScope: 'None' } } },
    {
      name: 'federated identity credential',
      method: 'PUT',
      path: `${rg()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fuzz-base/federatedIdentityCredentials/fic?api-version=2023-01-31`,
      body: { properties: { issuer: 'https://issuer.example', subject: 'system:serviceaccount:a:b', audiences: ['api://AzureADTokenExchange'] } },
    },
    {
      name: 'key vault',
      method: 'PUT',
      path: `${rg()}/providers/Microsoft.KeyVault/vaults/fuzzvault?api-version=2024-11-01`,
      body: {
        location: 'westeurope',
        properties: { tenantId: k.tenantId, sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: false, accessPolicies: [{ tenantId: k.tenantId, objectId: principalId, permissions: { secrets: ['get', 'list'] } }], networkAcls: { defaultAction: 'Allow', ipRules: [{ value: '10.0.0.0/8' }] } },
      },
    },
    {
      name: 'storage account',
      method: 'PUT',
      path: `${rg()}/providers/Microsoft.Storage/storageAccounts/fuzzacct?api-version=2023-05-01`,
      body: { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' }, properties: { allowSharedKeyAccess: true, minimumTlsVersion: 'TLS1_2' } },
    },
    {
      name: 'blob container',
      method: 'PUT',
      path: `${rg()}/providers/Microsoft.Storage/storageAccounts/fuzzacct/blobServices/default/containers/box?api-version=2023-05-01`,
      body: { properties: { publicAccess: 'None', metadata: { a: 'b' } } },
    },
    {
      name: 'role assignment',
      method: 'PUT',
      path: `${rg()}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
      body: { properties: { roleDefinitionId: `/subscriptions/${k.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`, principalId, principalType: 'ServicePrincipal' } },
    },
    { name: 'resource group', method: 'PUT', path: `/subscriptions/${k.subscriptionId}/resourceGroups/fuzz-rg-2?api-version=2021-04-01`, body: { location: 'westeurope', tags: { a: 'b' } } },
  ];

  const send = (method: string, path: string, body: string): Promise<HttpResult> =>
    http(method, `${k.endpoints.resourceManager}${path}`, { headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, body });

  const expectArmAnswer = (r: HttpResult, what: string): void => {
    expect(r.status, `${what} → ${r.status} ${r.text.slice(0, 300)}`).toBeLessThan(500);
    if (r.status >= 400) {
      expect(String(r.headers['content-type']), what).toMatch(/^application\/json/);
      expect(typeof r.json?.error?.code, `${what}: ${r.text.slice(0, 300)}`).toBe('string');
      expect(typeof r.json.error.message, what).toBe('string');
    }
  };

  it('every valid body is accepted first (so the mutations start from a working request)', async () => {
    for (const t of targets()) {
      const r = await send(t.method, t.path, JSON.stringify(t.body));
      expect(r.status, `${t.name}: ${r.text}`).toBeLessThan(300);
    }
  });

  it('mutated JSON bodies: never a 5xx, always the ARM error envelope, Object.prototype untouched', async () => {
    const all = targets();
    await fc.assert(
      fc.asyncProperty(fc.nat(all.length - 1), fc.array(edit, { minLength: 1, maxLength: 3 }), async (i, edits) => {
        const t = all[i]!;
        const body = JSON.stringify(mutate(t.body, edits)) ?? 'undefined';
        expectArmAnswer(await send(t.method, t.path, body), `${t.name} ${body.slice(0, 200)}`);
        expect(prototypeIsClean()).toBe(true);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it('damaged JSON text: never a 5xx, always the ARM error envelope', async () => {
    const all = targets();
    await fc.assert(
      fc.asyncProperty(fc.nat(all.length - 1), textDamage, async (i, damage) => {
        const t = all[i]!;
        const body = damage(JSON.stringify(t.body));
        expectArmAnswer(await send(t.method, t.path, body), `${t.name} ${body.slice(0, 200)}`);
      }),
      { numRuns: fuzzRuns(60) },
    );
  });

  it('fuzzed resource paths (bad percent-encoding, traversal, unicode): never a 5xx, always the ARM error envelope', async () => {
    const segment = fc.oneof(
      fc.constantFrom('%', '%zz', '%c0%af', '%2e%2e', '..', '.', '%00', '%2F', '', 'providers', 'Microsoft.Compute', 'virtualMachines', 'resourceGroups', 'subscriptions', '%F0%9F%98%80', 'x'.repeat(300)),
      fc.stringMatching(/^[A-Za-z0-9._()-]{1,20}$/),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'POST'), fc.array(segment, { maxLength: 6 }), async (m, segs) => {
        const path = `${rg()}/${segs.join('/')}?api-version=2024-03-01`;
        expectArmAnswer(await send(m, path, m === 'GET' || m === 'DELETE' ? '' : '{"location":"westeurope"}'), `${m} ${path}`);
      }),
      { numRuns: fuzzRuns(150) },
    );
  });

  it('the server is still healthy and consistent afterwards', async () => {
    // (The path fuzzing may well have deleted fuzz-rg itself: DELETE of `${rg}/` is a valid request.)
    expect((await arm(k, 'GET', `/subscriptions/${k.subscriptionId}/resourcegroups?api-version=2021-04-01`, undefined, token)).status).toBe(200);
    expect(prototypeIsClean()).toBe(true);
  });
});
