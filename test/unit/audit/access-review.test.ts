import { describe, expect, it } from 'vitest';
import { AuthzIndex } from '../../../src/authz/index.js';
import { narrowestScope, reviewAccess, type AccessReviewDeps, type ReviewIdentity } from '../../../src/audit/access-review.js';
import type { UsageRow } from '../../../src/audit/types.js';
import { ACCOUNT, CONTAINER, RG, SUB, VAULT, VM, assignment, role } from '../authz/fixtures.js';

const MI: ReviewIdentity = { objectId: 'aaaaaaaa-0000-4000-8000-0000000000a1', appId: 'aaaaaaaa-0000-4000-8000-0000000000b1', displayName: 'vm1', kind: 'SystemAssigned', resourceId: VM };
const APP: ReviewIdentity = { objectId: 'aaaaaaaa-0000-4000-8000-0000000000a2', appId: 'aaaaaaaa-0000-4000-8000-0000000000b2', displayName: 'app', kind: 'Application', resourceId: null };
const READ = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read';
const WRITE = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write';
const now = Date.parse('2025-06-01T00:00:00Z');

const row = (principalId: string, category: 'activity' | 'data', operation: string, scope: string, over: Partial<UsageRow> = {}): UsageRow => ({
  principalId,
  category,
  operation,
  scope,
  result: 'succeeded',
  httpStatus: 200,
  count: 1,
  lastAt: now - 1000,
  ...over,
});

function deps(index: AuthzIndex, rows: UsageRow[], policies: AccessReviewDeps['accessPolicies'] = async () => []): AccessReviewDeps {
  return { index, identities: async () => [MI, APP], accessPolicies: policies, usage: async (q) => rows.filter((r) => !q.principalId || r.principalId === q.principalId) };
}

describe('narrowestScope', () => {
  it('is the common ancestor, rounded up to where roles are assigned', () => {
    expect(narrowestScope([CONTAINER])).toBe(CONTAINER);
    expect(narrowestScope([CONTAINER, `${ACCOUNT}/blobServices/default/containers/other`])).toBe(ACCOUNT);
    expect(narrowestScope([CONTAINER, VM])).toBe(RG);
    expect(narrowestScope([VM, `${SUB}/resourceGroups/other`])).toBe(SUB);
    expect(narrowestScope([`${RG}/providers/Microsoft.Authorization/roleAssignments/x`])).toBe(RG);
    expect(narrowestScope([])).toBe('/');
  });
});

describe('access review', () => {
  it('Contributor that covered nothing used is flagged; the data role is narrowed to Storage Blob Data Reader at the container', async () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(MI.objectId, role('Contributor'), RG));
    index.upsertRoleAssignment(assignment(MI.objectId, role('Storage Blob Data Contributor'), RG));
    const r = await reviewAccess(deps(index, [row(MI.objectId, 'data', READ, CONTAINER, { count: 5 })]), { principal: MI.appId, since: now - 86_400_000, until: now });
    const i = r.identities[0]!;
    expect(i.grants.map((g) => [g.roleName, g.used])).toEqual([
      ['Contributor', false],
      ['Storage Blob Data Contributor', true],
    ]);
    expect(i.used).toEqual([{ action: READ, dataAction: true, via: 'rbac', scopes: [CONTAINER], count: 5, lastUsed: new Date(now - 1000).toISOString() }]);
    expect(i.suggestion.roles).toEqual([expect.objectContaining({ roleName: 'Storage Blob Data Reader', scope: CONTAINER, covers: [READ] })]);
    expect(i.findings[0]).toMatch(/^Contributor at .* granted nothing .* Contributor has no data actions/);
  });

  it('one role covering several actions beats one role each, and the general-purpose alternatives are named', async () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(APP.objectId, role('Storage Blob Data Owner'), SUB));
    const rows = [row(APP.objectId, 'data', READ, CONTAINER), row(APP.objectId, 'data', WRITE, CONTAINER, { httpStatus: 201 })];
    const i = (await reviewAccess(deps(index, rows), { principal: APP.objectId, since: 0, until: now })).identities[0]!;
    expect(i.suggestion.roles).toHaveLength(1);
    const s = i.suggestion.roles[0]!;
    expect(s).toMatchObject({ scope: CONTAINER, covers: [READ, WRITE] });
    // The breadth measure ranks a strict subset of Storage Blob Data Contributor first (a service role today);
    // the general-purpose role is then among the alternatives.
    expect([s.roleName, ...s.alternatives]).toContain('Storage Blob Data Contributor');
    expect(s.roleName).not.toBe('Storage Blob Data Owner');
  });

  it('control-plane use: denied and non-authorized failures are not "used"; creation counts at the parent', async () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(APP.objectId, role('Owner'), SUB));
    const rows = [
      row(APP.objectId, 'activity', 'Microsoft.Compute/virtualMachines/write', VM, { httpStatus: 201 }),
      row(APP.objectId, 'activity', 'Microsoft.Compute/virtualMachines/delete', VM, { result: 'failed', httpStatus: 409 }),
      row(APP.objectId, 'activity', 'Microsoft.KeyVault/vaults/write', VAULT, { result: 'denied', httpStatus: 403 }),
    ];
    const i = (await reviewAccess(deps(index, rows), { principal: APP.objectId, since: 0, until: now })).identities[0]!;
    expect(i.used.map((u) => [u.action, u.scopes])).toEqual([['Microsoft.Compute/virtualMachines/write', [RG]]]);
    expect(i.denied.map((d) => d.action)).toEqual(['Microsoft.KeyVault/vaults/write']);
    expect(i.grants[0]!.used).toBe(true);
    expect(i.suggestion.roles).toHaveLength(1);
    expect(i.suggestion.roles[0]!.scope).toBe(RG);
    expect(i.suggestion.uncovered).toEqual([]);
  });

  it('grants at a scope that does not enclose the use cover nothing', async () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(APP.objectId, role('Storage Blob Data Reader'), `${SUB}/resourceGroups/elsewhere`));
    const i = (await reviewAccess(deps(index, [row(APP.objectId, 'data', READ, CONTAINER)]), { principal: APP.objectId, since: 0, until: now })).identities[0]!;
    expect(i.grants[0]!.used).toBe(false);
  });

  it('Key Vault access policies: used permissions, and the smallest policy', async () => {
    const index = new AuthzIndex();
    const policies = async () => [{ vaultId: VAULT, entries: [{ tenantId: 't', objectId: APP.objectId, permissions: { secrets: ['Get', 'List', 'Set'] } }] }];
    const op = 'secrets/get (access policy; Microsoft.KeyVault/vaults/secrets/getSecret/action)';
    const i = (await reviewAccess(deps(index, [row(APP.objectId, 'data', op, `${VAULT}/secrets/s1`, { count: 2 })], policies), { principal: APP.objectId, since: 0, until: now })).identities[0]!;
    expect(i.grants).toEqual([expect.objectContaining({ kind: 'accessPolicy', scope: VAULT, used: true, usedActions: ['secrets/get'] })]);
    expect(i.used[0]).toMatchObject({ action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action', via: 'accessPolicy', permission: 'secrets/get', count: 2 });
    expect(i.suggestion.accessPolicies).toEqual([{ vaultId: VAULT, permissions: { secrets: ['get'] } }]);
    expect(i.suggestion.roles).toEqual([]);
  });

  it('reviews every identity by default; an unknown principal is a 404', async () => {
    const index = new AuthzIndex();
    const r = await reviewAccess(deps(index, []), { since: 0, until: now });
    expect(r.identities.map((i) => i.displayName)).toEqual(['vm1', 'app']);
    expect(r.notes.length).toBeGreaterThan(0);
    await expect(reviewAccess(deps(index, []), { principal: 'nobody', since: 0, until: now })).rejects.toMatchObject({ status: 404 });
  });
});
