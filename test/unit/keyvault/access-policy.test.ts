import { describe, expect, it } from 'vitest';
import { AccessPolicyError, mergeAccessPolicies, parseAccessPolicies, policyGrants, type AccessPolicyEntry } from '../../../src/keyvault/access-policy.js';

const T = '11111111-1111-4111-8111-111111111111';
const ALICE = 'aaaaaaaa-0000-4000-8000-000000000001';
const BOB = 'bbbbbbbb-0000-4000-8000-000000000002';
const APP = 'cccccccc-0000-4000-8000-000000000003';
const OTHER_APP = 'dddddddd-0000-4000-8000-000000000004';

const entry = (objectId: string, secrets: string[], applicationId?: string): AccessPolicyEntry => ({
  tenantId: T,
  objectId,
  ...(applicationId ? { applicationId } : {}),
  permissions: { secrets },
});
const caller = (objectId: string, appId = APP) => ({ objectId, appId, tenantId: T });

describe('access policy evaluation', () => {
  it('grants exactly the listed permissions to the listed object id', () => {
    const p = [entry(ALICE, ['get', 'list'])];
    expect(policyGrants(p, caller(ALICE), 'secrets', 'get')).toBe(true);
    expect(policyGrants(p, caller(ALICE), 'secrets', 'list')).toBe(true);
    expect(policyGrants(p, caller(ALICE), 'secrets', 'set')).toBe(false);
    expect(policyGrants(p, caller(BOB), 'secrets', 'get')).toBe(false);
    expect(policyGrants(p, caller(ALICE), 'keys', 'get')).toBe(false);
  });

  it('compares permissions and ids case-insensitively and honours "all"', () => {
    expect(policyGrants([entry(ALICE.toUpperCase(), ['Get'])], caller(ALICE), 'secrets', 'get')).toBe(true);
    expect(policyGrants([entry(ALICE, ['All'])], caller(ALICE), 'secrets', 'purge')).toBe(true);
  });

  it('a compound identity (objectId + applicationId) applies only through that application', () => {
    const p = [entry(ALICE, ['get'], APP)];
    expect(policyGrants(p, caller(ALICE, APP), 'secrets', 'get')).toBe(true);
    expect(policyGrants(p, caller(ALICE, OTHER_APP), 'secrets', 'get')).toBe(false);
  });

  it('an entry for another tenant does not apply', () => {
    const p = [{ ...entry(ALICE, ['get']), tenantId: '22222222-2222-4222-8222-222222222222' }];
    expect(policyGrants(p, caller(ALICE), 'secrets', 'get')).toBe(false);
  });

  it('permissions add up across entries', () => {
    const p = [entry(ALICE, ['get']), entry(ALICE, ['set'], APP)];
    expect(policyGrants(p, caller(ALICE), 'secrets', 'set')).toBe(true);
    expect(policyGrants(p, caller(ALICE, OTHER_APP), 'secrets', 'set')).toBe(false);
  });
});

describe('access policy validation', () => {
  it('accepts what clients send and keeps their casing', () => {
    const p = parseAccessPolicies([{ tenantId: T, objectId: ALICE, permissions: { secrets: ['Get', 'LIST'], keys: ['unwrapKey'] } }]);
    expect(p).toEqual([{ tenantId: T, objectId: ALICE, permissions: { secrets: ['Get', 'LIST'], keys: ['unwrapKey'] } }]);
  });

  it.each([
    ['not an array', { x: 1 }],
    ['missing tenant', [{ objectId: ALICE, permissions: {} }]],
    ['missing object id', [{ tenantId: T, permissions: {} }]],
    ['missing permissions', [{ tenantId: T, objectId: ALICE }]],
    ['unknown permission', [{ tenantId: T, objectId: ALICE, permissions: { secrets: ['read'] } }]],
    ['bad application id', [{ tenantId: T, objectId: ALICE, applicationId: 'app', permissions: {} }]],
    ['too many', Array.from({ length: 1025 }, () => ({ tenantId: T, objectId: ALICE, permissions: {} }))],
  ])('rejects %s', (_name, input) => {
    expect(() => parseAccessPolicies(input)).toThrow(AccessPolicyError);
  });
});

describe('accessPolicies/{add|replace|remove}', () => {
  const base = [entry(ALICE, ['get']), entry(BOB, ['list'])];

  it('add unions into the matching entry and appends new identities', () => {
    const r = mergeAccessPolicies(base, [entry(ALICE, ['set', 'GET']), entry(ALICE, ['get'], APP)], 'add');
    expect(r).toEqual([entry(ALICE, ['get', 'set']), entry(BOB, ['list']), entry(ALICE, ['get'], APP)]);
  });

  it('replace overwrites the matching entry', () => {
    expect(mergeAccessPolicies(base, [entry(ALICE, ['delete'])], 'replace')).toEqual([entry(ALICE, ['delete']), entry(BOB, ['list'])]);
  });

  it('remove takes permissions away and drops entries left empty or named without permissions', () => {
    expect(mergeAccessPolicies([entry(ALICE, ['get', 'set'])], [entry(ALICE, ['set'])], 'remove')).toEqual([entry(ALICE, ['get'])]);
    expect(mergeAccessPolicies(base, [entry(ALICE, ['get'])], 'remove')).toEqual([entry(BOB, ['list'])]);
    expect(mergeAccessPolicies(base, [{ tenantId: T, objectId: BOB, permissions: {} }], 'remove')).toEqual([entry(ALICE, ['get'])]);
  });

  it('does not mutate its input', () => {
    const copy = JSON.parse(JSON.stringify(base));
    mergeAccessPolicies(base, [entry(ALICE, ['set'])], 'add');
    expect(base).toEqual(copy);
  });
});
