import { describe, expect, it } from 'vitest';
import { compileCondition } from '../../../../src/authz/conditions/index.js';
import type { ConditionContext } from '../../../../src/authz/conditions/index.js';

/** Evaluates `@Resource[x] <op> <rhs>` with resource x = value (omitted when undefined). */
function check(op: string, rhs: string, value: unknown): boolean {
  const resource = value === undefined ? {} : { x: value };
  return compileCondition(`@Resource[x] ${op} ${rhs}`).evaluate({ action: 'a', resource });
}

/** Evaluates a literal-only comparison such as `{10, 20} ForAnyOfAllValues:NumericLessThan {15, 18}`. */
function literal(source: string, ctx: ConditionContext = { action: 'a' }): boolean {
  return compileCondition(source).evaluate(ctx);
}

describe('string operators', () => {
  it.each([
    ['StringEquals', "'abc'", 'abc', true],
    ['StringEquals', "'abc'", 'ABC', false],
    ['StringEqualsIgnoreCase', "'abc'", 'ABC', true],
    ['StringEqualsIgnoreCase', "'abc'", 'abd', false],
    ['StringNotEquals', "'abc'", 'abd', true],
    ['StringNotEquals', "'abc'", 'abc', false],
    ['StringNotEquals', "'abc'", 'ABC', true],
    ['StringNotEqualsIgnoreCase', "'abc'", 'ABC', false],
    ['StringNotEqualsIgnoreCase', "'abc'", 'xyz', true],
    ['StringStartsWith', "'readonly/'", 'readonly/a.txt', true],
    ['StringStartsWith', "'readonly/'", 'ReadOnly/a.txt', false],
    ['StringStartsWithIgnoreCase', "'readonly/'", 'ReadOnly/a.txt', true],
    ['StringNotStartsWith', "'readonly/'", 'other/a.txt', true],
    ['StringNotStartsWith', "'readonly/'", 'readonly/a.txt', false],
    ['StringNotStartsWithIgnoreCase', "'readonly/'", 'READONLY/a.txt', false],
    ['StringNotStartsWithIgnoreCase', "'readonly/'", 'other', true],
    // Azure's documented StringLike examples.
    ['StringLike', "'a*c?'", 'abcd', true],
    ['StringLike', "'A*C?'", 'abcd', false],
    ['StringLike', "'a*c'", 'abcd', false],
    ['StringLike', "'readonly/*'", 'readonly/deep/path.txt', true],
    ['StringLike', "'?'", '', false],
    ['StringLike', "'*'", '', true],
    ['StringLikeIgnoreCase', "'A*C?'", 'abcd', true],
    ['StringNotLike', "'a*'", 'bcd', true],
    ['StringNotLike', "'a*'", 'abc', false],
    ['StringNotLikeIgnoreCase', "'A*'", 'abc', false],
    ['StringNotLikeIgnoreCase', "'A*'", 'xbc', true],
  ] as const)('%s %s on %j → %s', (op, rhs, value, expected) => {
    expect(check(op, rhs, value)).toBe(expected);
  });

  it('StringLike escapes: \\* and \\? are literal, a trailing backslash is literal', () => {
    expect(check('StringLike', "'a\\*'", 'a*')).toBe(true);
    expect(check('StringLike', "'a\\*'", 'ab')).toBe(false);
    expect(check('StringLike', "'a\\?c'", 'a?c')).toBe(true);
    expect(check('StringLike', "'a\\?c'", 'abc')).toBe(false);
    expect(check('StringLike', "'a\\\\'", 'a\\')).toBe(true);
  });

  it('quotes inside strings are escaped with a backslash', () => {
    expect(check('StringEquals', "'it\\'s'", "it's")).toBe(true);
    expect(check('StringEquals', "'back\\\\slash'", 'back\\slash')).toBe(true);
  });

  it('StringLike does not backtrack exponentially on hostile patterns', () => {
    const pattern = `'${'*a'.repeat(40)}b'`;
    const started = performance.now();
    expect(check('StringLike', pattern, 'a'.repeat(5000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('non-string values fail both the operator and its negation', () => {
    expect(check('StringEquals', "'1'", 1)).toBe(false);
    expect(check('StringNotEquals', "'1'", 1)).toBe(false);
    expect(check('StringNotEquals', "'x'", true)).toBe(false);
  });
});

describe('numeric operators (integers only)', () => {
  it.each([
    ['NumericEquals', '5', 5, true],
    ['NumericEquals', '5', '5', true],
    ['NumericEquals', '5', 6, false],
    ['NumericNotEquals', '5', 6, true],
    ['NumericNotEquals', '5', 5, false],
    ['NumericGreaterThan', '5', 6, true],
    ['NumericGreaterThan', '5', 5, false],
    ['NumericGreaterThanEquals', '5', 5, true],
    ['NumericGreaterThanEquals', '5', 4, false],
    ['NumericLessThan', '-3', -4, true],
    ['NumericLessThan', '-3', -3, false],
    ['NumericLessThanEquals', '0', 0, true],
    ['NumericLessThanEquals', '0', 1, false],
    // Fractions are not integers: a type mismatch, never rounded.
    ['NumericEquals', '5', 5.5, false],
    ['NumericNotEquals', '5', 5.5, false],
    ['NumericEquals', '5', 'five', false],
  ] as const)('%s %s on %j → %s', (op, rhs, value, expected) => {
    expect(check(op, rhs, value)).toBe(expected);
  });

  it('compares integers beyond 2^53 exactly', () => {
    expect(check('NumericGreaterThan', '9007199254740993', '9007199254740994')).toBe(true);
    expect(check('NumericEquals', '9007199254740993', '9007199254740992')).toBe(false);
  });
});

describe('date-time operators', () => {
  const V = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs:versionId';
  const at = (op: string, rhs: string, value: unknown): boolean =>
    compileCondition(`@Request[${V}] ${op} '${rhs}'`).evaluate({ action: 'a', request: { [V]: value } });

  it.each([
    ['DateTimeEquals', '2022-06-01T00:00:00.0Z', '2022-06-01T00:00:00.0000000Z', true],
    ['DateTimeEquals', '2022-06-01T00:00:00.0Z', new Date('2022-06-01T00:00:00Z'), true],
    // Full precision: one tick (100 ns) apart is not equal.
    ['DateTimeEquals', '2022-06-01T00:00:00.0000001Z', '2022-06-01T00:00:00.0000000Z', false],
    ['DateTimeNotEquals', '2022-06-01T00:00:00.0000001Z', '2022-06-01T00:00:00.0000000Z', true],
    ['DateTimeNotEquals', '2022-06-01T00:00:00Z', '2022-06-01T00:00:00.000Z', false],
    ['DateTimeGreaterThan', '2022-06-01T00:00:00Z', '2022-06-01T00:00:00.0000001Z', true],
    ['DateTimeGreaterThan', '2022-06-01T00:00:00Z', '2022-06-01T00:00:00Z', false],
    ['DateTimeGreaterThanEquals', '2022-06-01T00:00:00Z', '2022-06-01T00:00:00Z', true],
    ['DateTimeLessThan', '2022-06-01T00:00:00Z', '2022-05-31T23:59:59.9999999Z', true],
    ['DateTimeLessThan', '2022-06-01T00:00:00Z', '2022-06-01T02:00:00+02:00', false],
    ['DateTimeLessThanEquals', '2022-06-01T00:00:00Z', '2022-06-01T02:00:00+02:00', true],
    ['DateTimeLessThanEquals', '2022-06-01T00:00:00Z', '2022-06-02T00:00:00Z', false],
    ['DateTimeEquals', '2022-06-01T00:00:00Z', 'not a date', false],
    ['DateTimeNotEquals', '2022-06-01T00:00:00Z', 'not a date', false],
    ['DateTimeEquals', '2022-06-01T00:00:00Z', '2022-02-30T00:00:00Z', false],
  ] as const)('%s %s on %j → %s', (op, rhs, value, expected) => {
    expect(at(op, rhs, value)).toBe(expected);
  });

  it('UtcNow comes from the context, and defaults to the current time', () => {
    const c = compileCondition(`@Environment[UtcNow] DateTimeGreaterThan '2000-01-01T00:00:00.0Z'`);
    expect(c.evaluate({ action: 'a', environment: { UtcNow: new Date('1999-12-31T00:00:00Z') } })).toBe(false);
    expect(c.evaluate({ action: 'a', environment: { utcnow: '2024-01-01T00:00:00Z' } })).toBe(true);
    expect(c.evaluate({ action: 'a' })).toBe(true);
  });
});

describe('GUID operators', () => {
  const G = '4633458b-17de-408a-b874-0445c86b69e6';
  it.each([
    ['GuidEquals', G, G, true],
    ['GuidEquals', G, G.toUpperCase(), true],
    ['GuidEquals', G.replace(/-/g, ''), G, true],
    ['GuidEquals', G, G.replace(/-/g, ''), true],
    ['GuidEquals', G, `{${G}}`, true],
    ['GuidEquals', G, '00000000-0000-0000-0000-000000000000', false],
    ['GuidNotEquals', G, '00000000-0000-0000-0000-000000000000', true],
    ['GuidNotEquals', G, G.toUpperCase(), false],
    ['GuidEquals', G, 'not-a-guid', false],
    ['GuidNotEquals', G, 'not-a-guid', false],
    ['GuidEquals', `'${G}'`, G, true],
  ] as const)('%s %s on %j → %s', (op, rhs, value, expected) => {
    expect(check(op, rhs, value)).toBe(expected);
  });
});

describe('boolean operators', () => {
  it.each([
    ['BoolEquals', 'true', true, true],
    ['BoolEquals', 'true', 'true', true],
    ['BoolEquals', 'TRUE', 'True', true],
    ['BoolEquals', 'true', false, false],
    ['BoolNotEquals', 'true', false, true],
    ['BoolNotEquals', 'false', false, false],
    ['BoolEquals', 'true', 1, false],
    ['BoolNotEquals', 'true', 'yes', false],
  ] as const)('%s %s on %j → %s', (op, rhs, value, expected) => {
    expect(check(op, rhs, value)).toBe(expected);
  });

  it('reads @Environment[isPrivateLink]', () => {
    const c = compileCondition('@Environment[isPrivateLink] BoolEquals true');
    expect(c.evaluate({ action: 'a', environment: { isPrivateLink: true } })).toBe(true);
    expect(c.evaluate({ action: 'a', environment: { isPrivateLink: false } })).toBe(false);
    expect(c.evaluate({ action: 'a' })).toBe(false);
  });
});

describe('cross-product quantifiers (Azure documented examples)', () => {
  it.each([
    ["{'red', 'blue'} ForAnyOfAnyValues:StringEquals {'blue', 'green'}", true],
    ["{'red', 'blue'} ForAnyOfAnyValues:StringEquals {'orange', 'green'}", false],
    ["{'red', 'blue'} ForAllOfAnyValues:StringEquals {'orange', 'red', 'blue'}", true],
    ["{'red', 'blue'} ForAllOfAnyValues:StringEquals {'red', 'green'}", false],
    ['{10, 20} ForAnyOfAllValues:NumericLessThan {15, 18}', true],
    ['{10, 20} ForAllOfAllValues:NumericLessThan {5, 15, 18}', false],
    ['{10, 20} ForAllOfAllValues:NumericLessThan {25, 30}', true],
    ['{10, 20} ForAllOfAllValues:NumericLessThan {15, 25, 30}', false],
    ['{20, 30} ForAnyOfAllValues:NumericLessThan {15, 18}', false],
  ] as const)('%s → %s', (source, expected) => {
    expect(literal(source)).toBe(expected);
  });

  const TAGS = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags';
  const withTags = (values: unknown): ConditionContext => ({ action: 'a', request: { [`${TAGS}:Project`]: values } });

  it.each([
    ['ForAnyOfAnyValues:StringNotEquals', ['red', 'blue'], true],
    ['ForAnyOfAllValues:StringNotEquals', ['green', 'red'], true],
    ['ForAnyOfAllValues:StringNotEquals', ['red', 'blue'], false],
    ['ForAllOfAllValues:StringNotEquals', ['green', 'cyan'], true],
    ['ForAllOfAllValues:StringNotEquals', ['green', 'red'], false],
    ['ForAllOfAnyValues:StringLike', ['r*', 'b*'], false],
  ] as const)('multi-valued attribute: %s on %j → %s', (op, values, expected) => {
    const c = compileCondition(`@Request[${TAGS}:Project<$key_case_sensitive$>] ${op} {'red', 'blue'}`);
    expect(c.evaluate(withTags(values))).toBe(expected);
  });

  it('an empty attribute set: ForAll… vacuously true, ForAny… false', () => {
    const all = compileCondition(`@Request[${TAGS}&$keys$&] ForAllOfAnyValues:StringEquals {'Project'}`);
    const any = compileCondition(`@Request[${TAGS}&$keys$&] ForAnyOfAnyValues:StringEquals {'Project'}`);
    const ctx = { action: 'a', request: { [`${TAGS}&$keys$&`]: [] } };
    expect(all.evaluate(ctx)).toBe(true);
    expect(any.evaluate(ctx)).toBe(false);
  });

  it('one value of the wrong type fails a For-All but not a For-Any', () => {
    const all = compileCondition("@Resource[x] ForAllOfAnyValues:StringEquals {'a'}");
    const any = compileCondition("@Resource[x] ForAnyOfAnyValues:StringEquals {'a'}");
    expect(all.evaluate({ action: 'z', resource: { x: ['a', 7] } })).toBe(false);
    expect(any.evaluate({ action: 'z', resource: { x: ['a', 7] } })).toBe(true);
  });

  it('GUID sets with mixed dashed / no-dash members', () => {
    const c = compileCondition(
      '@Request[id] ForAnyOfAnyValues:GuidEquals {4bad4d9e2a13488894bbc8432f6f3040, 08d4c71a-cc63-4ce4-a9c8-5dd251b4d619}',
    );
    expect(c.evaluate({ action: 'a', request: { id: '08D4C71ACC634CE4A9C85DD251B4D619' } })).toBe(true);
    expect(c.evaluate({ action: 'a', request: { id: ['x', '4bad4d9e-2a13-4888-94bb-c8432f6f3040'] } })).toBe(true);
    expect(c.evaluate({ action: 'a', request: { id: '11111111-2a13-4888-94bb-c8432f6f3040' } })).toBe(false);
  });

  it('attribute-to-attribute comparison (custom security attribute vs blob tag)', () => {
    const c = compileCondition(
      `@Resource[${TAGS}:Project<$key_case_sensitive$>] StringEquals @Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project]`,
    );
    const principal = { 'Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project': 'Cascade' };
    expect(c.evaluate({ action: 'a', principal, resource: { [`${TAGS}:Project`]: 'Cascade' } })).toBe(true);
    expect(c.evaluate({ action: 'a', principal, resource: { [`${TAGS}:Project`]: 'Baker' } })).toBe(false);
    expect(c.evaluate({ action: 'a', resource: { [`${TAGS}:Project`]: 'Cascade' } })).toBe(false);
  });
});

describe('single-valued operators on multi-valued attributes', () => {
  it('a one-element array counts as one value, more than one is false', () => {
    expect(check('StringEquals', "'a'", ['a'])).toBe(true);
    expect(check('StringEquals', "'a'", ['a', 'a'])).toBe(false);
    expect(check('StringNotEquals', "'a'", ['b', 'c'])).toBe(false);
  });
});

describe('missing attributes', () => {
  it.each([
    ['StringEquals', "'a'"],
    ['StringNotEquals', "'a'"],
    ['StringNotEqualsIgnoreCase', "'a'"],
    ['StringNotLike', "'a*'"],
    ['StringNotStartsWith', "'a'"],
    ['NumericNotEquals', '1'],
    ['DateTimeNotEquals', "'2022-06-01T00:00:00Z'"],
    ['GuidNotEquals', '00000000-0000-0000-0000-000000000000'],
    ['BoolNotEquals', 'true'],
    ['ForAllOfAllValues:StringNotEquals', "{'a'}"],
    ['ForAllOfAnyValues:StringEquals', "{'a'}"],
    ['ForAnyOfAnyValues:GuidNotEquals', '{00000000-0000-0000-0000-000000000000}'],
  ] as const)('%s is false when the attribute is absent (also null)', (op, rhs) => {
    expect(check(op, rhs, undefined)).toBe(false);
    expect(check(op, rhs, null)).toBe(false);
  });

  it('Exists / NOT Exists observe absence; explicit negation is plain logic', () => {
    const exists = compileCondition('Exists @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:snapshot]');
    const notExists = compileCondition('NOT Exists @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:snapshot]');
    const snap = { 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs:snapshot': '2022-06-01T00:00:00Z' };
    expect(exists.evaluate({ action: 'a', request: snap })).toBe(true);
    expect(exists.evaluate({ action: 'a', request: {} })).toBe(false);
    expect(exists.evaluate({ action: 'a' })).toBe(false);
    expect(notExists.evaluate({ action: 'a' })).toBe(true);
    expect(compileCondition("!(@Resource[x] StringEquals 'a')").evaluate({ action: 'a' })).toBe(true);
  });

  it("the documented 'version equals X OR no version' pattern", () => {
    const V = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs:versionId';
    const c = compileCondition(`@Request[${V}] DateTimeEquals '2022-06-01T00:00:00.0Z' OR NOT Exists @Request[${V}]`);
    expect(c.evaluate({ action: 'a' })).toBe(true);
    expect(c.evaluate({ action: 'a', request: { [V]: '2022-06-01T00:00:00.0000000Z' } })).toBe(true);
    expect(c.evaluate({ action: 'a', request: { [V]: '2023-06-01T00:00:00.0000000Z' } })).toBe(false);
  });
});

describe('attribute lookup', () => {
  const TAGS = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags';

  it('ignores case in attribute names', () => {
    const c = compileCondition("@Resource[Microsoft.Storage/storageAccounts:NAME] StringEquals 'acct'");
    expect(c.evaluate({ action: 'a', resource: { 'microsoft.storage/storageaccounts:name': 'acct' } })).toBe(true);
  });

  it('matches tag keys marked <$key_case_sensitive$> exactly, the rest of the name ignoring case', () => {
    const c = compileCondition(`@Resource[${TAGS}:Project<$key_case_sensitive$>] StringEquals 'Cascade'`);
    expect(c.evaluate({ action: 'a', resource: { [`${TAGS.toLowerCase()}:Project`]: 'Cascade' } })).toBe(true);
    expect(c.evaluate({ action: 'a', resource: { [`${TAGS}:Project<$key_case_sensitive$>`]: 'Cascade' } })).toBe(true);
    expect(c.evaluate({ action: 'a', resource: { [`${TAGS}:project`]: 'Cascade' } })).toBe(false);
    // Without the marker the tag key is matched ignoring case.
    const loose = compileCondition(`@Resource[${TAGS}:Project] StringEquals 'Cascade'`);
    expect(loose.evaluate({ action: 'a', resource: { [`${TAGS}:PROJECT`]: 'Cascade' } })).toBe(true);
  });

  it('derives &$keys$& from the tag entries present when not given explicitly', () => {
    const c = compileCondition(`@Resource[${TAGS}&$keys$&] ForAllOfAnyValues:StringEquals {'Project', 'Program'}`);
    expect(c.evaluate({ action: 'a', resource: { [`${TAGS}:Project`]: 'x', [`${TAGS}:Program`]: 'y' } })).toBe(true);
    expect(c.evaluate({ action: 'a', resource: { [`${TAGS}:Project`]: 'x', [`${TAGS}:Secret`]: 'y' } })).toBe(false);
    expect(c.evaluate({ action: 'a', resource: { [`${TAGS}&$keys$&`]: ['Program'] } })).toBe(true);
  });

  it('does not read inherited properties', () => {
    const c = compileCondition("@Resource[toString] StringLike '*'");
    expect(c.evaluate({ action: 'a', resource: {} })).toBe(false);
  });
});

describe('ActionMatches / SubOperationMatches', () => {
  it.each([
    ['Microsoft.Authorization/roleAssignments/*', 'Microsoft.Authorization/roleAssignments/write', true],
    ['Microsoft.Authorization/roleDefinitions/*', 'Microsoft.Authorization/roleAssignments/write', false],
    ['microsoft.authorization/roleassignments/WRITE', 'Microsoft.Authorization/roleAssignments/write', true],
    ['*', 'anything/at/all', true],
    ['*/read', 'Microsoft.Compute/virtualMachines/read', true],
    ['Microsoft.Compute/*/read', 'Microsoft.Compute/virtualMachines/extensions/read', true],
    // Zero-segment wildcard (spec §1.4): a/*/b also matches a/b.
    [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
      'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
      true,
    ],
    ['Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/read', true],
    ['Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaultsX/read', false],
    // `?` is not a wildcard in action patterns.
    ['Microsoft.Storage/?', 'Microsoft.Storage/x', false],
    ['Microsoft.Storage/blobs/read', 'Microsoft.Storage/blobs/read/extra', false],
  ] as const)('ActionMatches{%j} on %j → %s', (pattern, action, expected) => {
    expect(compileCondition(`ActionMatches{'${pattern}'}`).evaluate({ action })).toBe(expected);
  });

  it('SubOperationMatches compares the suboperation ignoring case and is false without one', () => {
    const c = compileCondition("SubOperationMatches{'Blob.Write.WithTagHeaders'}");
    expect(c.evaluate({ action: 'a', subOperation: 'blob.write.withtagheaders' })).toBe(true);
    expect(c.evaluate({ action: 'a', subOperation: 'Blob.Write.Tier' })).toBe(false);
    expect(c.evaluate({ action: 'a' })).toBe(false);
  });
});
