import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair, decodeJwt } from 'jose';
import { startTestKeyless, arm, adminToken, http } from '../../support/keyless.js';
import type { StartedKeyless } from '../../../src/index.js';

/** ARM's error envelope and codes for client mistakes: each is a 4xx in ARM's shape, and nothing half-written. */
describe('ARM: errors and bad input', () => {
  let k: StartedKeyless;
  let token: string;
  const sub = () => `/subscriptions/${k.subscriptionId}`;

  beforeAll(async () => {
    k = await startTestKeyless();
    token = await adminToken(k);
    await arm(k, 'PUT', `${sub()}/resourceGroups/err-rg`, { location: 'westeurope' }, token);
  });
  afterAll(async () => k?.stop());

  it('401 AuthenticationFailed with a Bearer challenge when the Authorization header is missing', async () => {
    const r = await http('GET', `${k.endpoints.resourceManager}${sub()}/resourcegroups?api-version=2021-04-01`);
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: { code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." } });
    expect(String(r.headers['www-authenticate'])).toMatch(/^Bearer authorization_uri="https:\/\/.+", error="invalid_token"/);
  });

  it('401 for a garbage token, a forged token and a token for another audience', async () => {
    const garbage = await http('GET', `${k.endpoints.resourceManager}${sub()}?api-version=2021-04-01`, { headers: { authorization: 'Bearer not.a.jwt' } });
    expect(garbage.status).toBe(401);
    expect(garbage.json.error.code).toBe('InvalidAuthenticationToken');

    const { privateKey } = await generateKeyPair('RS256');
    const claims = decodeJwt(token);
    const forged = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'nope' }).sign(privateKey);
    const f = await http('GET', `${k.endpoints.resourceManager}${sub()}?api-version=2021-04-01`, { headers: { authorization: `Bearer ${forged}` } });
    expect(f.status).toBe(401);
    expect(f.json.error.code).toBe('InvalidAuthenticationToken');

    const vaultToken = await adminToken(k, 'https://vault.azure.net/.default');
    const w = await http('GET', `${k.endpoints.resourceManager}${sub()}?api-version=2021-04-01`, { headers: { authorization: `Bearer ${vaultToken}` } });
    expect(w.status).toBe(401);
    expect(w.json.error.code).toBe('InvalidAuthenticationTokenAudience');
  });

  it('400 MissingApiVersionParameter', async () => {
    const r = await arm(k, 'GET', `${sub()}/resourcegroups?x=1`.replace('?x=1', '?foo=1') + '', undefined, token).catch(() => undefined);
    // arm() adds a default api-version; go raw instead
    const raw = await http('GET', `${k.endpoints.resourceManager}${sub()}/resourcegroups`, { headers: { authorization: `Bearer ${token}` } });
    expect(r).toBeDefined();
    expect(raw.status).toBe(400);
    expect(raw.json.error.code).toBe('MissingApiVersionParameter');
  });

  it('404 ResourceGroupNotFound / ResourceNotFound / SubscriptionNotFound with ARM wording', async () => {
    const g = await arm(k, 'GET', `${sub()}/resourceGroups/nope`, undefined, token);
    expect(g.status).toBe(404);
    expect(g.json).toEqual({ error: { code: 'ResourceGroupNotFound', message: "Resource group 'nope' could not be found." } });
    const vm = await arm(k, 'GET', `${sub()}/resourceGroups/err-rg/providers/Microsoft.Compute/virtualMachines/ghost`, undefined, token);
    expect(vm.status).toBe(404);
    expect(vm.json.error.code).toBe('ResourceNotFound');
    expect(vm.json.error.message).toMatch(/^The Resource 'Microsoft.Compute\/virtualMachines\/ghost' under resource group 'err-rg' was not found/);
    const inMissingGroup = await arm(k, 'PUT', `${sub()}/resourceGroups/nope/providers/Microsoft.Compute/virtualMachines/v`, { location: 'x' }, token);
    expect(inMissingGroup.status).toBe(404);
    expect(inMissingGroup.json.error.code).toBe('ResourceGroupNotFound');
    const s = await arm(k, 'GET', `/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups`, undefined, token);
    expect(s.status).toBe(404);
    expect(s.json.error.code).toBe('SubscriptionNotFound');
  });

  it('400 InvalidRequestContent for malformed JSON and wrong types; nothing is written', async () => {
    const id = `${sub()}/resourceGroups/err-rg/providers/Microsoft.Compute/virtualMachines/badjson`;
    const r = await arm(k, 'PUT', id, '{"location": "westeurope",', token);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('InvalidRequestContent');
    const arr = await arm(k, 'PUT', id, '[1,2]', token);
    expect(arr.status).toBe(400);
    const tags = await arm(k, 'PUT', id, { location: 'westeurope', tags: { a: 1 } }, token);
    expect(tags.status).toBe(400);
    expect(tags.json.error.code).toBe('InvalidRequestContent');
    const ident = await arm(k, 'PUT', id, { location: 'westeurope', identity: { type: 'Sometimes' } }, token);
    expect(ident.status).toBe(400);
    expect(ident.json.error.code).toBe('InvalidIdentityValues');
    expect((await arm(k, 'GET', id, undefined, token)).status).toBe(404);
  });

  it('400 LocationRequired, 413 for a huge body, 404 for unknown paths and types', async () => {
    const noLoc = await arm(k, 'PUT', `${sub()}/resourceGroups/noloc`, {}, token);
    expect(noLoc.status).toBe(400);
    expect(noLoc.json.error.code).toBe('LocationRequired');
    const huge = await arm(k, 'PUT', `${sub()}/resourceGroups/huge`, JSON.stringify({ location: 'x', tags: { a: 'x'.repeat(5 * 1024 * 1024) } }), token);
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBeTruthy();
    expect((await arm(k, 'GET', `${sub()}/resourceGroups/huge`, undefined, token)).status).toBe(404);
    const unknownType = await arm(k, 'GET', `${sub()}/resourceGroups/err-rg/providers/Microsoft.Nope/things/x`, undefined, token);
    expect(unknownType.status).toBe(400);
    expect(unknownType.json.error.code).toBe('InvalidResourceType');
    const unknownPath = await arm(k, 'GET', `${sub()}/whatever/else`, undefined, token);
    expect(unknownPath.status).toBe(404);
    expect(unknownPath.json.error.code).toBeTruthy();
  });

  it('attaching a user-assigned identity that does not exist fails and leaves the VM unchanged', async () => {
    const id = `${sub()}/resourceGroups/err-rg/providers/Microsoft.Compute/virtualMachines/keep`;
    const created = await arm(k, 'PUT', id, { location: 'westeurope', identity: { type: 'SystemAssigned' } }, token);
    expect(created.status).toBe(201);
    const ghost = `${sub()}/resourceGroups/err-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ghost`;
    const r = await arm(k, 'PATCH', id, { identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [ghost]: {} } } }, token);
    expect(r.status).toBe(400);
    const after = await arm(k, 'GET', id, undefined, token);
    expect(after.json.identity).toEqual(created.json.identity);
  });

  it('paths are case-insensitive and keep the casing the client supplied', async () => {
    const r = await arm(k, 'PUT', `${sub()}/RESOURCEGROUPS/Mixed-Case`, { location: 'westeurope' }, token);
    expect(r.status).toBe(201);
    const g = await arm(k, 'GET', `${sub()}/resourcegroups/mixed-case`, undefined, token);
    expect(g.status).toBe(200);
    expect(g.json.name).toBe('Mixed-Case');
  });

  it('serves /metadata/endpoints without authentication (az cloud register)', async () => {
    const r = await http('GET', `${k.endpoints.resourceManager}//metadata/endpoints?api-version=2015-01-01`);
    expect(r.status).toBe(200);
    expect(r.json.authentication.loginEndpoint).toMatch(/\/adfs$/);
    expect(r.json.authentication.audiences[0]).toBe(k.endpoints.armAudience);
  });
});

describe('ARM: checkNameAvailability for globally named resources', () => {
  it('answers taken / available for vault and storage account names', async () => {
    const k = await startTestKeyless();
    try {
      const sub = `/subscriptions/${k.subscriptionId}`;
      await arm(k, 'PUT', `${sub}/resourceGroups/names?api-version=2021-04-01`, { location: 'westeurope' });
      await arm(k, 'PUT', `${sub}/resourceGroups/names/providers/Microsoft.Storage/storageAccounts/takenacct?api-version=2023-01-01`, { location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' } });
      const taken = await arm(k, 'POST', `${sub}/providers/Microsoft.Storage/checkNameAvailability?api-version=2023-01-01`, { name: 'takenacct', type: 'Microsoft.Storage/storageAccounts' });
      expect(taken.status).toBe(200);
      expect(taken.json).toMatchObject({ nameAvailable: false, reason: 'AlreadyExists' });
      const free = await arm(k, 'POST', `${sub}/providers/Microsoft.KeyVault/checkNameAvailability?api-version=2023-07-01`, { name: 'free-vault', type: 'Microsoft.KeyVault/vaults' });
      expect(free.json).toEqual({ nameAvailable: true });
      const bad = await arm(k, 'POST', `${sub}/providers/Microsoft.KeyVault/checkNameAvailability?api-version=2023-07-01`, {});
      expect(bad.status).toBe(400);
    } finally {
      await k.stop();
    }
  });
});
