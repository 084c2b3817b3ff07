import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { KeylessError } from '../../../src/core/errors.js';
import { AuthzIndex } from '../../../src/authz/index.js';
import {
  authorizationFailed,
  denyAssignmentAuthorizationFailed,
  invalidActionOrNotAction,
  lastOwnerAssignment,
  linkedAuthorizationFailed,
  principalNotFound,
  roleAssignmentExists,
  roleAssignmentUpdateNotPermitted,
  roleDefinitionDoesNotExist,
  roleDefinitionHasAssignments,
  roleDefinitionLinkedAuthorizationFailed,
  roleDefinitionWithSameNameExists,
} from '../../../src/authz/errors.js';
import { validateCustomRoleAction } from '../../../src/core/actions.js';
import { ALICE, RG, SUB, VAULT, SECRET, assignment, role } from './fixtures.js';

const golden = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../golden/authz/${name}.json`, import.meta.url), 'utf8'));
const wire = (e: KeylessError) => ({ status: e.status, body: { error: { code: e.code, message: e.message } } });

const client = { clientName: 'alice@contoso.example', objectId: ALICE };
const SUB_B = SUB.replace(/a$/, 'b');
const SUB_C = SUB.replace(/a$/, 'c');
const IDENTITIES = ['id1', 'id2'].map((n) => `${RG.replace('resourceGroups', 'resourcegroups')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`);

const cases: [string, () => KeylessError][] = [
  ['authorization-failed', () => authorizationFailed(client, 'Microsoft.Authorization/roleAssignments/write', RG)],
  ['authorization-failed-abac', () => authorizationFailed(client, 'Microsoft.Authorization/roleAssignments/write', RG, { conditionInvolved: true })],
  [
    'linked-authorization-failed',
    () => linkedAuthorizationFailed(client, 'Microsoft.Compute/virtualMachines/write', `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`, 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', IDENTITIES),
  ],
  ['linked-authorization-failed-role-definition', () => roleDefinitionLinkedAuthorizationFailed(client, SUB, [SUB_B, SUB_C])],
  [
    'deny-assignment-authorization-failed',
    () => denyAssignmentAuthorizationFailed(client, 'Microsoft.Compute/disks/write', `${RG}/providers/Microsoft.Compute/disks/d1`, { name: '11111f74-0ce9-5642-acaf-15775e7f2b80', denyAssignmentName: 'Keep disks', scope: RG }),
  ],
  ['role-assignment-exists', () => roleAssignmentExists()],
  ['role-assignment-exists-with-id', () => roleAssignmentExists('0B5FE6A6-2F6C-4B43-A9A2-7E1E3B3C8F11')],
  ['principal-not-found', () => principalNotFound('0f14a80d-42e5-4d57-afe0-46acf9dfae05', 'c7cb8e56-3c8d-431c-a94c-866e27a25b45')],
  ['role-assignment-update-not-permitted', () => roleAssignmentUpdateNotPermitted()],
  ['last-owner', () => lastOwnerAssignment()],
  ['role-definition-has-assignments', () => roleDefinitionHasAssignments()],
  ['role-definition-with-same-name-exists', () => roleDefinitionWithSameNameExists()],
  ['role-definition-does-not-exist', () => roleDefinitionDoesNotExist(`${SUB}/providers/Microsoft.Authorization/roleDefinitions/c0ffee00-0000-4000-8000-000000000001`)],
  [
    'invalid-action-or-not-action',
    () => {
      try {
        validateCustomRoleAction('Microsoft.CostManagement/*/query/*');
      } catch (e) {
        return e as KeylessError;
      }
      return invalidActionOrNotAction('not thrown');
    },
  ],
];

describe('error bodies match the golden files', () => {
  it.each(cases)('%s', (name, make) => {
    const e = make();
    expect(e).toBeInstanceOf(KeylessError);
    expect(wire(e)).toEqual(golden(name));
  });
});

describe('explanations travel out of band', () => {
  it('AuthorizationFailed carries the explanation and a one-line summary in extra, not in the message', () => {
    const index = new AuthzIndex();
    index.upsertRoleAssignment(assignment(ALICE, role('Key Vault Reader'), RG));
    const d = index.decide({ principalId: ALICE, action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action', isDataAction: true, scope: SECRET });
    const e = authorizationFailed(client, 'Microsoft.KeyVault/vaults/secrets/getSecret/action', SECRET, { conditionInvolved: d.conditionInvolved, explanation: d.explain() });
    expect(e.extra['explanation']).toBe(d.explain());
    const summary = e.extra['summary'] as string;
    expect(summary).toContain(ALICE);
    expect(summary).toContain("'Key Vault Secrets User'");
    expect(summary).not.toContain('\n');
    expect(e.message).not.toContain('Key Vault Secrets User');
  });

  it('without an explanation the summary still names principal, action and scope', () => {
    const e = authorizationFailed(client, 'Microsoft.KeyVault/vaults/write', VAULT);
    expect(e.extra['summary']).toBe(`denied: principal ${ALICE} lacks 'Microsoft.KeyVault/vaults/write' at '${VAULT}'`);
  });
});
