import { describe, expect, it } from 'vitest';
import { renderEventLine, renderReview } from '../../../src/audit/render.js';
import type { AuditEvent } from '../../../src/audit/types.js';

const at = Date.parse('2025-06-01T10:00:00Z');
const ev = (over: Partial<AuditEvent>): AuditEvent => ({
  seq: 1, id: 'id', at, category: 'activity', result: 'succeeded', httpStatus: 201, principalId: 'oid', appId: 'app', operation: 'op', scope: '/subscriptions/s',
  subscriptionId: 's', resourceGroup: undefined, correlationId: 'corr', count: 1, details: {}, ...over,
});

describe('audit rendering', () => {
  it('one line per event, per category', () => {
    expect(renderEventLine(ev({ details: { method: 'PUT', caller: 'oid' } }))).toBe('2025-06-01T10:00:00.000Z  activity succeeded 201 PUT op /subscriptions/s caller=oid correlation=corr');
    expect(renderEventLine(ev({ result: 'denied', httpStatus: 403, details: { method: 'GET', caller: 'oid', summary: 'denied: no role grants op' } }))).toMatch(/denied .* — denied: no role grants op$/);
    expect(renderEventLine(ev({ category: 'signin', operation: 'imds', httpStatus: undefined, correlationId: undefined, details: { kind: 'managedIdentity', resource: 'https://vault.azure.net', cached: true } }))).toBe(
      '2025-06-01T10:00:00.000Z  signin   succeeded imds managedIdentity oid=oid app=app resource=https://vault.azure.net from=/subscriptions/s (cached)',
    );
    expect(renderEventLine(ev({ category: 'data', result: 'failed', httpStatus: 404, details: { surface: 'blob', via: 'bearer' } }))).toBe('2025-06-01T10:00:00.000Z  data     failed    404 blob op /subscriptions/s oid=oid app=app via=bearer');
    // A row standing for granted repeats says how many.
    expect(renderEventLine(ev({ category: 'data', httpStatus: 200, count: 412, details: { surface: 'keyvault', via: 'bearer' } }))).toBe('2025-06-01T10:00:00.000Z  data     succeeded 200 keyvault op /subscriptions/s oid=oid app=app via=bearer ×412');
  });
  it('neutralizes control characters (no forged lines)', () => {
    expect(renderEventLine(ev({ operation: 'a\nb', details: {} }))).not.toContain('\n');
  });
  it('renders a review as a short report', () => {
    const text = renderReview({
      since: 'S', until: 'U', notes: ['n'],
      identities: [{
        principalId: 'p', appId: 'a', displayName: 'vm1', kind: 'SystemAssigned', resourceId: null,
        grants: [{ kind: 'roleAssignment', scope: '/rg', roleName: 'Contributor', usedActions: [], used: false }],
        used: [{ action: 'x/read', dataAction: true, via: 'rbac', scopes: ['/c'], count: 2, lastUsed: 'L' }],
        denied: [],
        suggestion: { roles: [{ roleName: 'Reader-ish', roleDefinitionId: 'r', scope: '/c', covers: ['x/read'], alternatives: [] }], accessPolicies: [], uncovered: [], unusedGrants: ['Contributor at /rg'] },
        findings: ['Contributor at /rg granted nothing'],
      }],
    });
    expect(text).toContain('granted: Contributor at /rg  — UNUSED');
    expect(text).toContain('used:    x/read (data) ×2 at /c');
    expect(text).toContain('suggest: Reader-ish at /c  (covers x/read)');
    expect(text).toContain('- Contributor at /rg granted nothing');
  });
});
