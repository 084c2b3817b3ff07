import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedKeyless } from '../../../src/index.js';
import type { AuditEvent } from '../../../src/audit/index.js';
import { http, startTestKeyless } from '../../support/keyless.js';
import { admin, armAs, clientToken, group, imdsToken, vmBody } from './helpers.js';

/**
 * Issue 7 item 6: a scripted session of N operations produces exactly N audit events, each in its category,
 * with denials carrying the engine's explanation, and nothing secret stored.
 */
describe('audit completeness: every sign-in, ARM mutation or denial, and data-plane decision is one event', () => {
  let k: StartedKeyless;
  const secrets: string[] = [];
  const expected = { signin: 0, activity: 0, data: 0 };
  let events: AuditEvent[] = [];
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    k = await startTestKeyless();
    secrets.push(k.admin.clientSecret!);
    const port = new URL(k.endpoints.resourceManager).port;
    const kvUrl = (vault: string, path: string) => `https://${vault}.vault.${k.config.dnsSuffix}:${port}${path}?api-version=7.4`;
    const rg = group(k, 'audit-rg');

    // 1. client credentials (sign-in)
    const t = await admin(k);
    secrets.push(t);
    expected.signin++;
    // 2-3. ARM PUTs (activity)
    expect((await armAs(k, t, 'PUT', rg, { location: 'westeurope' })).status).toBe(201);
    expected.activity++;
    const vm = await armAs(k, t, 'PUT', `${rg}/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2024-07-01`, vmBody, { 'x-ms-correlation-request-id': 'corr-vm1-create' });
    expect(vm.status, vm.text).toBeLessThan(300);
    const vmId: string = vm.json.id;
    ids['vm'] = vmId;
    ids['vmCorrelation'] = String(vm.headers['x-ms-correlation-request-id']);
    expected.activity++;
    // 4-5. IMDS twice (the second from the token cache: not a sign-in, as Azure's IMDS answers it without
    // contacting Entra), 6. an audience nobody serves (a failed sign-in)
    const mi = await imdsToken(k, vmId);
    expect(mi.status, mi.text).toBe(200);
    secrets.push(mi.json.access_token);
    expect((await imdsToken(k, vmId)).status).toBe(200);
    expect((await imdsToken(k, vmId, 'https://nothing-here.example/')).status).toBe(400);
    expected.signin += 2;
    // 7. a wrong client secret (a failed sign-in, the secret never stored)
    const wrong = 'wrong-secret-' + 'x'.repeat(20);
    secrets.push(wrong);
    const bad = await http('POST', `${k.endpoints.authority}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: k.admin.clientId, client_secret: wrong, scope: `${k.endpoints.armAudience}.default` }).toString(),
    });
    expect(bad.status).toBe(401);
    expected.signin++;
    // 8. an application with no roles gets an ARM token (sign-in) …
    const intruder = await k.createApplication('intruder');
    secrets.push(intruder.clientSecret);
    ids['intruder'] = intruder.objectId;
    const it1 = await clientToken(k, intruder.clientId, intruder.clientSecret, `${k.endpoints.armAudience}.default`);
    secrets.push(it1);
    expected.signin++;
    // 9-10. … and is refused a write and a read (two denials, with explanations)
    const denied = await armAs(k, it1, 'PUT', group(k, 'intruder-rg'), { location: 'westeurope' });
    expect(denied.status).toBe(403);
    ids['deniedCorrelation'] = String(denied.headers['x-ms-correlation-request-id']);
    expect((await armAs(k, it1, 'GET', rg)).status).toBe(403);
    expected.activity += 2;
    // 11. a mutation that fails validation (activity, Failed)
    expect((await armAs(k, t, 'PUT', group(k, 'no-location'), {})).status).toBe(400);
    expected.activity++;
    // Reads that succeed and unauthenticated requests are not activity events.
    expect((await armAs(k, t, 'GET', rg)).status).toBe(200);
    expect((await http('PUT', `${k.endpoints.resourceManager}${group(k, 'anon')}?api-version=2024-01-01`, { body: '{}' })).status).toBe(401);

    // 12. a vault through ARM (activity); a data role granted in-process (no ARM request, no event)
    const vault = await armAs(k, t, 'PUT', `${rg}/providers/Microsoft.KeyVault/vaults/auditkv?api-version=2024-11-01`, {
      location: 'westeurope',
      properties: { tenantId: k.tenantId, sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: true },
    });
    expect(vault.status, vault.text).toBeLessThan(300);
    expected.activity++;
    await k.assignRole({ principalId: k.admin.objectId, role: 'Key Vault Secrets Officer', scope: vault.json.id });
    // 13. Key Vault tokens (two sign-ins), 14-15. set and get a secret (two allowed data events), 16. a denied get
    const kvAdmin = await admin(k, 'https://vault.azure.net/.default');
    const kvIntruder = await clientToken(k, intruder.clientId, intruder.clientSecret, 'https://vault.azure.net/.default');
    secrets.push(kvAdmin, kvIntruder);
    expected.signin += 2;
    const secretValue = 'the-secret-value-' + 'y'.repeat(12);
    secrets.push(secretValue);
    const set = await http('PUT', kvUrl('auditkv', '/secrets/db-password'), { headers: { authorization: `Bearer ${kvAdmin}`, 'content-type': 'application/json' }, body: JSON.stringify({ value: secretValue }) });
    expect(set.status, set.text).toBe(200);
    expect((await http('GET', kvUrl('auditkv', '/secrets/db-password'), { headers: { authorization: `Bearer ${kvAdmin}` } })).status).toBe(200);
    expect((await http('GET', kvUrl('auditkv', '/secrets/db-password'), { headers: { authorization: `Bearer ${kvIntruder}` } })).status).toBe(403);
    expected.data += 3;
    // 17. DELETE (activity)
    expect((await armAs(k, t, 'DELETE', vmId + '?api-version=2024-07-01')).status).toBeLessThan(300);
    expected.activity++;

    await k.audit.flush();
    events = (await k.audit.query({ limit: 1000 })).events;
  }, 90_000);
  afterAll(async () => k?.stop());

  const of = (c: string) => events.filter((e) => e.category === c);

  it('records exactly the expected number of events per category', () => {
    expect({ signin: of('signin').length, activity: of('activity').length, data: of('data').length }).toEqual(expected);
    expect(events.length).toBe(expected.signin + expected.activity + expected.data);
  });

  it('sign-ins: endpoint, identity, audience, calling VM, cache hits and failure reasons', () => {
    const imds = of('signin').filter((e) => e.operation === 'imds');
    expect(imds).toHaveLength(2);
    expect(imds.map((e) => e.result)).toEqual(['succeeded', 'failed']);
    expect(imds[0]!.scope?.toLowerCase()).toBe(ids['vm']!.toLowerCase());
    expect(imds[0]!.details['resource']).toBe('https://management.azure.com/');
    expect(imds[0]!.details['kind']).toBe('managedIdentity');
    expect(String(imds[1]!.details['failureReason'])).toMatch(/AADSTS500011|nothing-here/);
    const cc = of('signin').filter((e) => e.operation === 'oauth2-v2');
    expect(cc.filter((e) => e.result === 'failed')).toHaveLength(1);
    expect(cc.find((e) => e.result === 'failed')!.appId).toBe(k.admin.clientId.toLowerCase());
  });

  it('activity: operation, scope, resource group, method, status and the correlation id ARM returned', () => {
    const create = of('activity').find((e) => e.operation === 'Microsoft.Compute/virtualMachines/write')!;
    expect(create.result).toBe('succeeded');
    expect(create.httpStatus).toBe(201);
    expect(create.resourceGroup).toBe('audit-rg');
    expect(create.correlationId).toBe('corr-vm1-create');
    expect(create.correlationId).toBe(ids['vmCorrelation']);
    expect(create.principalId).toBe(k.admin.objectId.toLowerCase());
    expect(create.details['method']).toBe('PUT');
    const failed = of('activity').find((e) => e.httpStatus === 400)!;
    expect(failed.result).toBe('failed');
    expect((failed.details['error'] as { code: string }).code).toBe('LocationRequired');
    expect(of('activity').find((e) => e.operation === 'Microsoft.Compute/virtualMachines/delete')?.result).toBe('succeeded');
  });

  it('denials are logged with the engine’s explanation (writes and reads)', () => {
    const denials = of('activity').filter((e) => e.result === 'denied');
    expect(denials.map((e) => e.operation).sort()).toEqual(['Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.Resources/subscriptions/resourceGroups/write']);
    for (const d of denials) {
      expect(d.principalId).toBe(ids['intruder']);
      expect(d.httpStatus).toBe(403);
      expect(String(d.details['summary'])).toMatch(/denied/i);
      const ex = d.details['explanation'] as { allowed: boolean; reason: string; request: { action: string }; suggestions: unknown[] };
      expect(ex.allowed).toBe(false);
      expect(ex.reason).toBe('no-matching-assignment');
      expect(ex.request.action).toBe(d.operation);
      expect(ex.suggestions.length).toBeGreaterThan(0);
    }
    expect(denials.find((e) => e.operation.endsWith('/write'))!.correlationId).toBe(ids['deniedCorrelation']);
  });

  it('data access: allowed and denied decisions with action, scope and explanation', () => {
    const data = of('data');
    expect(data.map((e) => e.result)).toEqual(['succeeded', 'succeeded', 'denied']);
    expect(data.map((e) => e.operation)).toEqual([
      'Microsoft.KeyVault/vaults/secrets/setSecret/action',
      'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      'Microsoft.KeyVault/vaults/secrets/getSecret/action',
    ]);
    expect(data[0]!.scope).toMatch(/\/vaults\/auditkv\/secrets\/db-password$/);
    expect(data[2]!.principalId).toBe(ids['intruder']);
    expect((data[2]!.details['explanation'] as { allowed: boolean }).allowed).toBe(false);
    expect(data[0]!.details['explanation']).toBeUndefined();
  });

  it('stores no token, client secret or secret value', async () => {
    const rows = await k.store.db.selectFrom('audit_events').selectAll().execute();
    const dump = JSON.stringify(rows);
    for (const s of secrets) expect(dump).not.toContain(s);
    expect(dump).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
  });
});
