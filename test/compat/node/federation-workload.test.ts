import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientSecretCredential } from '@azure/identity';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { ResourceManagementClient } from '@azure/arm-resources';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startTestKeyless } from '../../support/keyless.js';
import { lastJson, runChild } from '../../support/child.js';
import type { StartedKeyless } from '../../../src/index.js';

const APP = path.join(import.meta.dirname, 'apps', 'workload-token.mjs');
const SCOPE = 'https://vault.azure.net/.default';

/**
 * Workload identity federation with the official clients: @azure/arm-msi creates the federated credential
 * (trusting Keyless's own OIDC issuer), and unmodified @azure/identity credentials in child processes exchange a
 * token file for a managed-identity token of the user-assigned identity, from the environment alone.
 */
describe('official clients: workload identity federation', () => {
  let k: StartedKeyless;
  let msi: ManagedServiceIdentityClient;
  let uai: { id: string; principalId: string; clientId: string };
  let dir: string;

  const envFor = (subject: string, clientId = uai.clientId): Record<string, string> => {
    const file = path.join(dir, `${subject.replace(/\W/g, '_')}.jwt`);
    fs.writeFileSync(file, k.issueWorkloadToken({ subject }).token, { mode: 0o600 });
    return { AZURE_CLIENT_ID: clientId, AZURE_TENANT_ID: k.tenantId, AZURE_FEDERATED_TOKEN_FILE: file, AZURE_AUTHORITY_HOST: k.endpoints.authorityHost };
  };
  const run = async (mode: 'wi' | 'mi' | 'dac', env: Record<string, string>) => lastJson((await runChild(process.execPath, [APP, mode, SCOPE], env, 90_000)).stdout);

  beforeAll(async () => {
    k = await startTestKeyless();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-wi-test-'));
    const cred = new ClientSecretCredential(k.tenantId, k.admin.clientId, k.admin.clientSecret!, { authorityHost: k.endpoints.authorityHost, disableInstanceDiscovery: true });
    const scopes = [`${k.endpoints.armAudience}.default`];
    await new ResourceManagementClient(cred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes }).resourceGroups.createOrUpdate('wi-rg', { location: 'westeurope' });
    msi = new ManagedServiceIdentityClient(cred, k.subscriptionId, { endpoint: k.endpoints.resourceManager, credentialScopes: scopes });
    const id = await msi.userAssignedIdentities.createOrUpdate('wi-rg', 'workload', { location: 'westeurope' });
    uai = { id: id.id!, principalId: id.principalId!, clientId: id.clientId! };
  });
  afterAll(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await k?.stop();
  });

  it('@azure/arm-msi creates, reads and lists a federated identity credential', async () => {
    const created = await msi.federatedIdentityCredentials.createOrUpdate('wi-rg', 'workload', 'keyless-app', {
      issuer: k.endpoints.workloadIdentityIssuer,
      subject: 'system:serviceaccount:default:app',
      audiences: ['api://AzureADTokenExchange'],
    });
    expect(created.name).toBe('keyless-app');
    expect(created.type).toBe('Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials');
    expect(created.issuer).toBe(k.endpoints.workloadIdentityIssuer);
    const got = await msi.federatedIdentityCredentials.get('wi-rg', 'workload', 'keyless-app');
    expect(got.subject).toBe('system:serviceaccount:default:app');
    const names = [];
    for await (const f of msi.federatedIdentityCredentials.list('wi-rg', 'workload')) names.push(f.name);
    expect(names).toEqual(['keyless-app']);
  });

  async function expectIdentityToken(token: string) {
    const jwks = createRemoteJWKSet(new URL(k.endpoints.jwksUri));
    const { payload } = await jwtVerify(token, jwks, { issuer: k.endpoints.issuer, audience: 'https://vault.azure.net' });
    expect(payload['oid']).toBe(uai.principalId);
    expect(payload['appid']).toBe(uai.clientId);
    expect(String(payload['xms_mirid']).toLowerCase()).toBe(uai.id.toLowerCase());
  }

  it('WorkloadIdentityCredential (disableInstanceDiscovery) gets a token whose oid is the identity', async () => {
    const r = await run('wi', envFor('system:serviceaccount:default:app'));
    expect(r.ok, r.message).toBe(true);
    await expectIdentityToken(r.token);
  });

  it('ManagedIdentityCredential takes the token-exchange path from the environment alone', async () => {
    const r = await run('mi', envFor('system:serviceaccount:default:app'));
    expect(r.ok, r.message).toBe(true);
    await expectIdentityToken(r.token);
  });

  it('DefaultAzureCredential, environment only, ends up with the identity token', async () => {
    const r = await run('dac', envFor('system:serviceaccount:default:app'));
    expect(r.ok, r.message).toBe(true);
    await expectIdentityToken(r.token);
  }, 120_000);

  it('a subject the credential does not name fails with AADSTS700213 in the SDK error', async () => {
    const r = await run('wi', envFor('system:serviceaccount:default:other'));
    expect(r.ok).toBe(false);
    expect(r.message).toContain('AADSTS700213');
  });

  it('an identity without a federated credential fails with AADSTS70021', async () => {
    const other = await msi.userAssignedIdentities.createOrUpdate('wi-rg', 'no-fic', { location: 'westeurope' });
    const r = await run('wi', envFor('system:serviceaccount:default:app', other.clientId!));
    expect(r.ok).toBe(false);
    expect(r.message).toContain('AADSTS70021');
    expect(decodeJwt(fs.readFileSync(envFor('x')['AZURE_FEDERATED_TOKEN_FILE']!, 'utf8'))['iss']).toBe(k.endpoints.workloadIdentityIssuer);
  });

  it('@azure/arm-msi deletes the credential; the exchange then fails', async () => {
    await msi.federatedIdentityCredentials.delete('wi-rg', 'workload', 'keyless-app');
    const r = await run('wi', envFor('system:serviceaccount:default:app'));
    expect(r.ok).toBe(false);
    expect(r.message).toContain('AADSTS70021');
  });
});
