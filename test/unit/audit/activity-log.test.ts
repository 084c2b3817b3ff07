import { describe, expect, it } from 'vitest';
import { eventData, parseActivityFilter } from '../../../src/arm/providers/activity-log.js';
import type { AuditEvent } from '../../../src/audit/types.js';

describe('activity log $filter', () => {
  const ge = "eventTimestamp ge '2025-01-01T00:00:00Z'";
  it('parses Azure’s documented patterns', () => {
    expect(parseActivityFilter(`${ge} and eventTimestamp le '2025-01-02T00:00:00Z' and resourceGroupName eq 'MyRG'`)).toEqual({
      since: Date.parse('2025-01-01T00:00:00Z'),
      until: Date.parse('2025-01-02T00:00:00Z'),
      resourceGroup: 'MyRG',
    });
    expect(parseActivityFilter(`${ge} and resourceUri eq '/subscriptions/s/resourceGroups/g'`).resourceUri).toBe('/subscriptions/s/resourceGroups/g');
    expect(parseActivityFilter(`${ge} and resourceProvider eq 'Microsoft.Compute'`).resourceProvider).toBe('Microsoft.Compute');
    expect(parseActivityFilter(`${ge} and correlationId eq 'abc'`).correlationId).toBe('abc');
    expect(parseActivityFilter(`${ge} and caller eq 'me@x'`).caller).toBe('me@x');
    expect(parseActivityFilter(`${ge} and status eq 'Failed'`).status).toBe('failed');
  });
  it('is case-insensitive in names and operators, accepts unquoted times, escapes quotes and ignores eventChannels', () => {
    expect(parseActivityFilter("EVENTTIMESTAMP GE 2025-01-01 AND ResourceGroupName EQ 'o''brien' and eventChannels eq 'Admin, Operation'")).toEqual({
      since: Date.parse('2025-01-01'),
      resourceGroup: "o'brien",
    });
    expect(parseActivityFilter("eventTimestamp gt '2025-01-01T00:00:00Z' and eventTimestamp lt '2025-01-01T00:00:01Z'")).toEqual({
      since: Date.parse('2025-01-01T00:00:00Z') + 1,
      until: Date.parse('2025-01-01T00:00:01Z') - 1,
    });
  });
  it('refuses what Azure refuses: no filter, no start time, or, unknown properties, bad operators and times', () => {
    for (const f of [undefined, '', "resourceGroupName eq 'x'", `${ge} or resourceGroupName eq 'x'`, `${ge} and color eq 'x'`, `${ge} and resourceGroupName ge 'x'`, "eventTimestamp ge 'not a time'", `${ge} and status eq 'Started'`, `${ge} resourceGroupName eq 'x'`, `${ge} and eventTimestamp le '2024-01-01'`]) {
      expect(() => parseActivityFilter(f), String(f)).toThrow(/\$filter/);
    }
  });
});

describe('activity log EventData', () => {
  const base: AuditEvent = {
    seq: 7,
    id: '11111111-2222-3333-4444-555555555555',
    at: Date.parse('2015-01-21T22:14:26.979Z'),
    category: 'activity',
    result: 'denied',
    count: 1,
    httpStatus: 403,
    principalId: 'oid-1',
    appId: 'app-1',
    operation: 'Microsoft.Compute/virtualMachines/write',
    scope: '/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm',
    subscriptionId: 's',
    resourceGroup: 'rg',
    correlationId: 'corr',
    details: { caller: 'oid-1', method: 'PUT', requestId: 'req', resourceGroupName: 'RG', subscriptionId: 's', summary: 'denied: nope', explanation: { allowed: false }, error: { code: 'AuthorizationFailed', message: 'no' }, clientIp: '127.0.0.1' },
  };
  it('renders the documented fields, with Keyless’s explanation in properties', () => {
    const e = eventData(base, 'tenant');
    expect(e).toMatchObject({
      authorization: { action: base.operation, scope: base.scope },
      caller: 'oid-1',
      category: { value: 'Administrative' },
      correlationId: 'corr',
      eventDataId: base.id,
      eventName: { value: 'EndRequest' },
      eventTimestamp: '2015-01-21T22:14:26.979Z',
      httpRequest: { method: 'PUT', clientIpAddress: '127.0.0.1' },
      level: 'Error',
      operationName: { value: base.operation, localizedValue: base.operation },
      resourceGroupName: 'RG',
      resourceProviderName: { value: 'Microsoft.Compute' },
      resourceType: { value: 'Microsoft.Compute/virtualMachines' },
      status: { value: 'Failed' },
      subStatus: { value: 'Forbidden', localizedValue: 'Forbidden (HTTP Status Code: 403)' },
      subscriptionId: 's',
      tenantId: 'tenant',
      properties: { statusCode: 'Forbidden', serviceRequestId: 'req', keylessAuthorizationSummary: 'denied: nope' },
    });
    expect(JSON.parse(String((e['properties'] as Record<string, string>)['statusMessage']))).toEqual({ error: { code: 'AuthorizationFailed', message: 'no' } });
    // .NET ticks of the event time, as in Azure's ids (the spec's example: 635574752669792776 for 22:14:26.9792776).
    expect(e['id']).toBe(`${base.scope}/events/${base.id}/ticks/635574752669790000`);
  });
  it('says Succeeded / Informational for a success', () => {
    const e = eventData({ ...base, result: 'succeeded', httpStatus: 204, details: {} }, 't');
    expect(e).toMatchObject({ level: 'Informational', status: { value: 'Succeeded' }, subStatus: { value: 'NoContent', localizedValue: 'No Content (HTTP Status Code: 204)' } });
  });
});
