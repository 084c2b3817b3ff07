import { describe, expect, it } from 'vitest';
import { compileCondition, formatCondition, parseCondition } from '../../../../src/authz/conditions/index.js';
import type { ConditionContext } from '../../../../src/authz/conditions/index.js';
import { builtinConditions, loadBuiltinRoles } from './builtin-roles.js';

const BLOBS = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs';
const CONTAINER_NAME = 'Microsoft.Storage/storageAccounts/blobServices/containers:name';

const blobCtx = (action: string, container?: string): ConditionContext => ({
  action,
  resource: container === undefined ? {} : { [CONTAINER_NAME]: container },
});

describe('spec §1.7 container-name example (multi-line)', () => {
  const condition = compileCondition(
    `(
 (
  !(ActionMatches{'${BLOBS}/delete'})
  AND !(ActionMatches{'${BLOBS}/read'})
  AND !(ActionMatches{'${BLOBS}/write'})
  AND !(ActionMatches{'${BLOBS}/add/action'})
 )
 OR
 (
  @Resource[${CONTAINER_NAME}] StringEquals 'blobs-example-container'
 )
)`,
    '2.0',
  );

  it.each(['delete', 'read', 'write', 'add/action'])('targets blobs/%s: allowed only in the named container', (verb) => {
    expect(condition.evaluate(blobCtx(`${BLOBS}/${verb}`, 'blobs-example-container'))).toBe(true);
    expect(condition.evaluate(blobCtx(`${BLOBS}/${verb}`, 'other-container'))).toBe(false);
    expect(condition.evaluate(blobCtx(`${BLOBS}/${verb}`))).toBe(false);
  });

  it('is case-sensitive on the container name (StringEquals)', () => {
    expect(condition.evaluate(blobCtx(`${BLOBS}/read`, 'Blobs-Example-Container'))).toBe(false);
  });

  it('matches the targeted action case-insensitively', () => {
    // Upper-cased action is still targeted, so the wrong container is refused.
    expect(condition.evaluate(blobCtx(`${BLOBS}/read`.toUpperCase(), 'x'))).toBe(false);
    expect(condition.evaluate(blobCtx(`${BLOBS}/read`.toUpperCase(), 'blobs-example-container'))).toBe(true);
  });

  it('passes actions it does not target (runAsSuperUser is only targeted in the Owner variant)', () => {
    expect(condition.evaluate(blobCtx(`${BLOBS}/runAsSuperUser/action`, 'other-container'))).toBe(true);
    expect(condition.evaluate(blobCtx('Microsoft.Storage/storageAccounts/blobServices/containers/read', 'x'))).toBe(true);
  });
});

describe('spec §1.7 one-line REST form', () => {
  const source = `((!(ActionMatches{'${BLOBS}/read'})) OR (@Resource[${CONTAINER_NAME}] StringEquals 'blobs-example-container'))`;
  const condition = compileCondition(source, '2.0');

  it('allows reading the named container', () => {
    expect(condition.evaluate(blobCtx(`${BLOBS}/read`, 'blobs-example-container'))).toBe(true);
  });

  it('refuses reading another container', () => {
    expect(condition.evaluate(blobCtx(`${BLOBS}/read`, 'another'))).toBe(false);
  });

  it('only targets read: delete and write pass regardless of container', () => {
    expect(condition.evaluate(blobCtx(`${BLOBS}/delete`, 'another'))).toBe(true);
    expect(condition.evaluate(blobCtx(`${BLOBS}/write`))).toBe(true);
  });

  it('keeps the source and exposes an AST with the documented shape', () => {
    expect(condition.source).toBe(source);
    expect(condition.ast).toEqual({
      kind: 'or',
      operands: [
        { kind: 'not', operand: { kind: 'actionMatches', pattern: `${BLOBS}/read` } },
        {
          kind: 'compare',
          left: { kind: 'attribute', source: 'Resource', name: CONTAINER_NAME },
          operator: { name: 'StringEquals' },
          right: { kind: 'string', value: 'blobs-example-container' },
        },
      ],
    });
  });
});

describe('suboperations (Blob.List vs reading a blob)', () => {
  // Azure's "read a blob, but not list" targeting: a read without suboperation is targeted, a List is not.
  const condition = compileCondition(
    `((!(ActionMatches{'${BLOBS}/read'} AND NOT SubOperationMatches{'Blob.List'})) OR (@Resource[${BLOBS}:path] StringLike 'public/*'))`,
  );

  it('targets plain reads', () => {
    expect(condition.evaluate({ action: `${BLOBS}/read`, resource: { [`${BLOBS}:path`]: 'public/a.txt' } })).toBe(true);
    expect(condition.evaluate({ action: `${BLOBS}/read`, resource: { [`${BLOBS}:path`]: 'private/a.txt' } })).toBe(false);
  });

  it('does not target List Blobs', () => {
    expect(condition.evaluate({ action: `${BLOBS}/read`, subOperation: 'Blob.List', resource: {} })).toBe(true);
    expect(condition.evaluate({ action: `${BLOBS}/read`, subOperation: 'blob.list' })).toBe(true);
  });
});

describe('built-in role conditions (shared/data/builtin-roles.json)', () => {
  const roles = loadBuiltinRoles();
  const conditions = builtinConditions(roles);

  it('the data file carries the expected set of conditions', () => {
    expect(roles.length).toBeGreaterThan(900);
    expect(conditions.length).toBeGreaterThanOrEqual(31);
    expect(conditions.map((c) => c.roleName)).toContain('Key Vault Data Access Administrator');
  });

  it('every one of them parses, and printing + reparsing gives the same AST', () => {
    for (const c of conditions) {
      const compiled = compileCondition(c.condition);
      const printed = formatCondition(compiled.ast);
      expect(parseCondition(printed), c.roleName).toEqual(compiled.ast);
      // Printing is canonical: a second round does not change the text.
      expect(formatCondition(parseCondition(printed)), c.roleName).toBe(printed);
    }
  });

  it('those declared 2.0 compile with their version; the one 1.0 built-in is refused when the version is passed', () => {
    for (const c of conditions.filter((x) => x.conditionVersion === '2.0')) {
      expect(() => compileCondition(c.condition, '2.0'), c.roleName).not.toThrow();
    }
    const legacy = conditions.filter((x) => x.conditionVersion !== '2.0');
    expect(legacy.map((x) => x.roleName)).toEqual(['Oracle Database DbSystems Administrator']);
    expect(() => compileCondition(legacy[0]!.condition, legacy[0]!.conditionVersion ?? undefined)).toThrow(/conditionVersion '1.0'/);
  });

  it('the no-dash GUID form (Storage Actions Task Assignment Contributor) compares equal to the dashed form', () => {
    const c = conditions.find((x) => x.roleName === 'Storage Actions Task Assignment Contributor')!;
    const compiled = compileCondition(c.condition);
    const write = 'Microsoft.Authorization/roleAssignments/write';
    const key = 'Microsoft.Authorization/roleAssignments:RoleDefinitionId';
    expect(compiled.evaluate({ action: write, request: { [key]: '4BAD4D9E-2A13-4888-94BB-C8432F6F3040' } })).toBe(true);
    expect(compiled.evaluate({ action: write, request: { [key]: '4bad4d9e2a13488894bbc8432f6f3040' } })).toBe(true);
    expect(compiled.evaluate({ action: write, request: { [key]: '4bad4d9e-2a13-4888-94bb-c8432f6f3041' } })).toBe(false);
  });

  it('lower-case operator names and && (Azure Resilience Management roles) evaluate', () => {
    const c = conditions.find((x) => x.roleName === 'Azure Resilience Management Goals Administrator')!;
    expect(c.condition).toContain('boolequals');
    const compiled = compileCondition(c.condition);
    const request = { 'Microsoft.Authorization/roleAssignments:RoleDefinitionId': 'b24988ac-6180-42a0-ab88-20f7382dd24c' };
    const action = 'Microsoft.Authorization/roleAssignments/write';
    expect(compiled.evaluate({ action, request, resource: { HasObotoken: true } })).toBe(true);
    expect(compiled.evaluate({ action, request, resource: { hasobotoken: 'True' } })).toBe(true);
    expect(compiled.evaluate({ action, request, resource: { HasObotoken: false } })).toBe(false);
    expect(compiled.evaluate({ action, request })).toBe(false);
  });

  it('ForAllOfAnyValues over a resource attribute (Privileged Monitoring Data Reader)', () => {
    const c = conditions.find((x) => x.roleName === 'Privileged Monitoring Data Reader')!;
    const compiled = compileCondition(c.condition);
    const action = 'Microsoft.OperationalInsights/workspaces/tables/data/read';
    const attr = 'Microsoft.OperationalInsights/workspaces/tables:protectionLevel';
    expect(compiled.evaluate({ action, resource: { [attr]: 'Protected' } })).toBe(true);
    expect(compiled.evaluate({ action, resource: { [attr]: 'Restricted' } })).toBe(false);
    expect(compiled.evaluate({ action: 'Microsoft.Insights/logs/data/read', resource: { [attr]: 'Restricted' } })).toBe(false);
  });
});

describe('Key Vault Data Access Administrator', () => {
  const roles = loadBuiltinRoles();
  const kvdaa = roles.find((r) => r.roleName === 'Key Vault Data Access Administrator')!;
  const source = kvdaa.permissions.find((p) => typeof p.condition === 'string')!.condition!;
  const condition = compileCondition(source, kvdaa.permissions[0]!.conditionVersion ?? undefined);
  const idOf = (roleName: string): string => roles.find((r) => r.roleName === roleName)!.name;
  const WRITE = 'Microsoft.Authorization/roleAssignments/write';
  const DELETE = 'Microsoft.Authorization/roleAssignments/delete';
  const ATTR = 'Microsoft.Authorization/roleAssignments:RoleDefinitionId';

  const dataRoles = [
    'Key Vault Administrator',
    'Key Vault Certificates Officer',
    'Key Vault Crypto Officer',
    'Key Vault Crypto Service Encryption User',
    'Key Vault Crypto User',
    'Key Vault Reader',
    'Key Vault Secrets Officer',
    'Key Vault Secrets User',
  ];

  it.each(dataRoles)('allows writing an assignment of %s', (roleName) => {
    expect(condition.evaluate({ action: WRITE, request: { [ATTR]: idOf(roleName) } })).toBe(true);
  });

  it.each(['Owner', 'Contributor', 'User Access Administrator', 'Key Vault Contributor'])(
    'refuses writing an assignment of %s',
    (roleName) => {
      expect(condition.evaluate({ action: WRITE, request: { [ATTR]: idOf(roleName) } })).toBe(false);
    },
  );

  it('accepts the role definition as the full resource id the PUT body carries, in any case', () => {
    const id = `/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/${idOf('Key Vault Secrets User').toUpperCase()}`;
    expect(condition.evaluate({ action: WRITE, request: { [ATTR]: id } })).toBe(true);
    const owner = `/providers/Microsoft.Authorization/roleDefinitions/${idOf('Owner')}`;
    expect(condition.evaluate({ action: WRITE, request: { [ATTR]: owner } })).toBe(false);
  });

  it('reads the request attribute for write and the resource attribute for delete', () => {
    const secretsUser = idOf('Key Vault Secrets User');
    const owner = idOf('Owner');
    expect(condition.evaluate({ action: DELETE, resource: { [ATTR]: secretsUser } })).toBe(true);
    expect(condition.evaluate({ action: DELETE, resource: { [ATTR]: owner } })).toBe(false);
    // The delete branch reads @Resource, so a request-side value does not help.
    expect(condition.evaluate({ action: DELETE, request: { [ATTR]: secretsUser } })).toBe(false);
    // Missing attribute on a targeted action: refused.
    expect(condition.evaluate({ action: WRITE })).toBe(false);
  });

  it('does not restrict actions it does not target', () => {
    expect(condition.evaluate({ action: 'Microsoft.Authorization/roleAssignments/read' })).toBe(true);
    expect(condition.evaluate({ action: 'Microsoft.KeyVault/vaults/read' })).toBe(true);
  });

  it('looks the attribute name up case-insensitively', () => {
    const request = { 'microsoft.authorization/roleassignments:roledefinitionid': idOf('Key Vault Reader') };
    expect(condition.evaluate({ action: WRITE, request })).toBe(true);
  });
});
