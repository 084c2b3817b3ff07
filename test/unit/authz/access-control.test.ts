import { describe, it, expect } from 'vitest';
import type { AuthzMode } from '../../../src/core/access.js';
import { AuthzIndex } from '../../../src/authz/index.js';
import { createAccessControl } from '../../../src/authz/access-control.js';
import { summarizeExplanation } from '../../../src/authz/explain.js';
import type { Explanation } from '../../../src/authz/types.js';
import { ALICE, RG, SECRET, SUB_ID, VAULT, assignment, role } from './fixtures.js';

const check = { principalId: ALICE, action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action', isDataAction: true, scope: SECRET };

describe('RbacAccessControl (core/access.ts contract)', () => {
  it('enforce: a denial is not allowed through and explains itself', () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(ALICE, role('Key Vault Reader'), RG));
    const ac = createAccessControl({ index, mode: 'enforce' });
    const r = ac.check(check);
    expect(r.granted).toBe(false);
    expect(r.allowed).toBe(false);
    expect(r.mode).toBe('enforce');
    expect(r.conditionInvolved).toBe(false);
    expect(r.summary).toContain("'Key Vault Secrets User'");
    expect((r.explanation as { reason: string }).reason).toBe('no-matching-assignment');
  });

  it('audit lets denials through but reports them; off skips the engine', () => {
    const index = new AuthzIndex();
    let mode: AuthzMode = 'audit';
    const ac = createAccessControl({ index, mode: () => mode });
    const audited = ac.check(check);
    expect(audited.granted).toBe(false);
    expect(audited.allowed).toBe(true);
    mode = 'off';
    expect(ac.mode).toBe('off');
    const off = ac.check(check);
    expect(off.allowed).toBe(true);
    expect(off.summary).toBe('authorization is off');
    expect(ac.visibleSubscriptions(ALICE)).toBe('all');
  });

  it('grants through the index and serializes to JSON', () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(ALICE, role('Key Vault Secrets User'), VAULT));
    const ac = createAccessControl({ index, mode: 'enforce' });
    const r = ac.check(check);
    expect(r.allowed).toBe(true);
    expect(ac.decide(check).matchedRole?.roleName).toBe('Key Vault Secrets User');
    expect(JSON.parse(JSON.stringify(r))).toMatchObject({ granted: true, allowed: true, mode: 'enforce' });
    expect(ac.visibleSubscriptions(ALICE)).toEqual(new Set([SUB_ID]));
  });

  it("a grant's summary names the role and its scope, the same line the explanation gives, without tracing", () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(ALICE, role('Key Vault Secrets User'), VAULT));
    const ac = createAccessControl({ index, mode: 'enforce' });
    const fromExplanation = summarizeExplanation(ac.check(check).explanation as Explanation);
    const r = ac.check(check);
    expect(r.summary).toBe(`allowed: principal ${ALICE} may perform data action '${check.action}' at '${SECRET}' via 'Key Vault Secrets User' assigned at '${VAULT}'`);
    expect(r.summary).toBe(fromExplanation);
    // Reading the summary did not build the explanation (LazyResult caches it on first read).
    expect((r as unknown as { cached?: unknown }).cached).toBeUndefined();
  });
});
