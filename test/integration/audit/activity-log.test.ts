import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedKeyless } from '../../../src/index.js';
import { http, startTestKeyless } from '../../support/keyless.js';
import { admin, armAs, clientToken, group, sub } from './helpers.js';

/** Issue 7 item 2: Azure Monitor's activity log (`Microsoft.Insights/eventtypes/management/values`) over the audit trail. */
describe('ARM activity log API', () => {
  let k: StartedKeyless;
  let token: string;
  let reader: string;
  let rgReader: string;
  const t0 = new Date(Date.now() - 60_000).toISOString();
  const path = (filter?: string, extra = '') =>
    `${sub(k)}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01${filter === undefined ? '' : `&$filter=${encodeURIComponent(filter)}`}${extra}`;
  const since = () => `eventTimestamp ge '${t0}'`;

  beforeAll(async () => {
    k = await startTestKeyless();
    token = await admin(k);
    expect((await armAs(k, token, 'PUT', group(k, 'al-one'), { location: 'westeurope' })).status).toBe(201);
    expect((await armAs(k, token, 'PUT', group(k, 'al-two'), { location: 'westeurope' }, { 'x-ms-correlation-request-id': 'my-correlation-1' })).status).toBe(201);
    expect((await armAs(k, token, 'PUT', `${group(k, 'al-one')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1?api-version=2023-01-31`, { location: 'westeurope' })).status).toBe(201);
    const r = await k.createApplication('reader');
    await k.assignRole({ principalId: r.objectId, role: 'Reader', scope: sub(k) });
    reader = await clientToken(k, r.clientId, r.clientSecret, `${k.endpoints.armAudience}.default`);
    const g = await k.createApplication('rg-reader');
    await k.assignRole({ principalId: g.objectId, role: 'Reader', scope: group(k, 'al-one') });
    rgReader = await clientToken(k, g.clientId, g.clientSecret, `${k.endpoints.armAudience}.default`);
  }, 60_000);
  afterAll(async () => k?.stop());

  it('returns EventData, newest first, in Azure’s shape', async () => {
    const r = await armAs(k, token, 'GET', path(since()));
    expect(r.status, r.text).toBe(200);
    const ops = r.json.value.map((e: any) => e.operationName.value);
    expect(ops).toEqual(['Microsoft.ManagedIdentity/userAssignedIdentities/write', 'Microsoft.Resources/subscriptions/resourceGroups/write', 'Microsoft.Resources/subscriptions/resourceGroups/write']);
    const e = r.json.value[0];
    expect(e).toMatchObject({
      authorization: { action: 'Microsoft.ManagedIdentity/userAssignedIdentities/write', scope: expect.stringMatching(/\/resourceGroups\/al-one\/providers\/Microsoft.ManagedIdentity\/userAssignedIdentities\/id1$/) },
      caller: k.admin.objectId,
      category: { value: 'Administrative', localizedValue: 'Administrative' },
      eventName: { value: 'EndRequest', localizedValue: 'End request' },
      level: 'Informational',
      operationName: { value: 'Microsoft.ManagedIdentity/userAssignedIdentities/write' },
      resourceGroupName: 'al-one',
      resourceProviderName: { value: 'Microsoft.ManagedIdentity' },
      resourceType: { value: 'Microsoft.ManagedIdentity/userAssignedIdentities' },
      status: { value: 'Succeeded', localizedValue: 'Succeeded' },
      subStatus: { value: 'Created', localizedValue: 'Created (HTTP Status Code: 201)' },
      subscriptionId: k.subscriptionId,
      tenantId: k.tenantId,
      httpRequest: { method: 'PUT' },
      properties: { statusCode: 'Created' },
    });
    expect(e.eventDataId).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.id).toBe(`${e.resourceId}/events/${e.eventDataId}/ticks/${e.id.split('/').pop()}`);
    expect(Date.parse(e.eventTimestamp)).toBeGreaterThan(Date.parse(t0));
    expect(e.claims['http://schemas.microsoft.com/identity/claims/objectidentifier']).toBe(k.admin.objectId);
    expect(r.json.nextLink).toBeUndefined();
  });

  it('filters by resource group, resource, correlation id, caller, provider and status', async () => {
    const byGroup = await armAs(k, token, 'GET', path(`${since()} and resourceGroupName eq 'al-two'`));
    expect(byGroup.json.value).toHaveLength(1);
    const byCorr = await armAs(k, token, 'GET', path(`${since()} and correlationId eq 'my-correlation-1'`));
    expect(byCorr.json.value.map((e: any) => e.resourceGroupName)).toEqual(['al-two']);
    const uri = `${group(k, 'al-one')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`;
    const byUri = await armAs(k, token, 'GET', path(`${since()} and eventTimestamp le '${new Date(Date.now() + 60_000).toISOString()}' and resourceUri eq '${uri}'`));
    expect(byUri.json.value).toHaveLength(1);
    const byCaller = await armAs(k, token, 'GET', path(`${since()} and caller eq '${k.admin.clientId}'`));
    expect(byCaller.json.value.length).toBeGreaterThanOrEqual(3);
    const byProvider = await armAs(k, token, 'GET', path(`${since()} and resourceProvider eq 'Microsoft.ManagedIdentity'`));
    expect(byProvider.json.value).toHaveLength(1);
    const failed = await armAs(k, token, 'GET', path(`${since()} and status eq 'Failed'`));
    expect(failed.json.value.every((e: any) => e.status.value === 'Failed')).toBe(true);
    const future = await armAs(k, token, 'GET', path(`eventTimestamp ge '${new Date(Date.now() + 3_600_000).toISOString()}'`));
    expect(future.json.value).toEqual([]);
  });

  it('$select returns only the named properties', async () => {
    const r = await armAs(k, token, 'GET', path(since(), '&$select=eventTimestamp,operationName,status'));
    expect(r.status).toBe(200);
    expect(Object.keys(r.json.value[0]).sort()).toEqual(['eventTimestamp', 'operationName', 'status']);
  });

  it('pages with nextLink (200 a page)', async () => {
    for (let i = 0; i < 230; i++) {
      k.audit.activity({
        at: Date.now(),
        caller: { objectId: k.admin.objectId, appId: k.admin.clientId, clientName: k.admin.clientId },
        operation: 'Microsoft.ManagedIdentity/userAssignedIdentities/write',
        resourceId: `${group(k, 'bulk')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u${i}`,
        scope: `${group(k, 'bulk')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u${i}`,
        subscriptionId: k.subscriptionId,
        resourceGroup: 'bulk',
        method: 'PUT',
        status: 201,
        correlationId: `bulk-${i}`,
        requestId: `bulk-${i}`,
      });
    }
    const first = await armAs(k, token, 'GET', path(`${since()} and resourceGroupName eq 'bulk'`));
    expect(first.json.value).toHaveLength(200);
    expect(first.json.nextLink).toMatch(/^https:\/\/.+\$skiptoken=\d+/);
    const next = await http('GET', first.json.nextLink, { headers: { authorization: `Bearer ${token}` } });
    expect(next.status, next.text).toBe(200);
    expect(next.json.value).toHaveLength(30);
    expect(next.json.nextLink).toBeUndefined();
    const all = [...first.json.value, ...next.json.value].map((e: any) => e.correlationId);
    expect(new Set(all).size).toBe(230);
  });

  it('Reader at the subscription may read it; Reader on a resource group may not (and that denial is itself logged)', async () => {
    expect((await armAs(k, reader, 'GET', path(since()))).status).toBe(200);
    const r = await armAs(k, rgReader, 'GET', path(since()));
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('AuthorizationFailed');
    expect(r.json.error.message).toContain("action 'Microsoft.Insights/eventtypes/values/read'");
    const denied = await armAs(k, token, 'GET', path(`${since()} and status eq 'Failed' and resourceProvider eq 'Microsoft.Insights'`));
    expect(denied.json.value).toHaveLength(1);
    expect(denied.json.value[0].subStatus.value).toBe('Forbidden');
    expect(denied.json.value[0].properties.keylessAuthorizationSummary).toMatch(/denied/i);
    expect(JSON.parse(denied.json.value[0].properties.keylessAuthorizationExplanation).allowed).toBe(false);
  });

  it('refuses a missing or malformed $filter, an unknown $select and a subscription that does not exist', async () => {
    const none = await armAs(k, token, 'GET', path());
    expect(none.status).toBe(400);
    expect(none.json.error.code).toBe('BadRequest');
    expect(none.json.error.message).toContain('eventTimestamp ge');
    expect((await armAs(k, token, 'GET', path(`resourceGroupName eq 'x'`))).status).toBe(400);
    expect((await armAs(k, token, 'GET', path(`${since()} or resourceGroupName eq 'x'`))).status).toBe(400);
    expect((await armAs(k, token, 'GET', path(`${since()} and color eq 'blue'`))).status).toBe(400);
    expect((await armAs(k, token, 'GET', path(since(), '&$select=bogus'))).status).toBe(400);
    const other = await armAs(k, token, 'GET', `/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(since())}`);
    expect(other.status).toBe(404);
    expect(other.json.error.code).toBe('SubscriptionNotFound');
  });
});
