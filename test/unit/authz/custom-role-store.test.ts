import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { AuthorizationStore } from '../../../src/authz/assignments.js';
import { AuthzIndex } from '../../../src/authz/index.js';
import {
  builtInRoleDefinitionReadOnly,
  invalidRoleDefinitionId,
  roleDefinitionLinkedAuthorizationFailed,
  roleDefinitionNotAssignableAt,
  roleDefinitionScopeNotAssignable,
} from '../../../src/authz/errors.js';
import { KeylessError } from '../../../src/core/errors.js';
import { Store } from '../../../src/store/index.js';
import { ALICE, RG, OTHER_RG, SUB, VM, role } from './fixtures.js';

const golden = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../golden/authz/${name}.json`, import.meta.url), 'utf8'));
const wire = (e: KeylessError) => ({ status: e.status, body: { error: { code: e.code, message: e.message } } });
const SUB_B = SUB.replace(/a$/, 'b');
const client = { clientName: 'alice@contoso.example', objectId: ALICE };

describe('custom-role error bodies match the golden files', () => {
  it.each<[string, () => KeylessError]>([
    ['invalid-role-definition-scope', () => roleDefinitionScopeNotAssignable(SUB_B)],
    ['built-in-role-definition-read-only', () => builtInRoleDefinitionReadOnly('acdd72a7-3385-48ef-bd42-f606fba81ae7')],
    ['invalid-role-definition-id', () => invalidRoleDefinitionId('vm-reader')],
    ['linked-authorization-failed-role-definition-delete', () => roleDefinitionLinkedAuthorizationFailed(client, SUB, [SUB_B], { action: 'Microsoft.Authorization/roleDefinitions/delete' })],
    // Outside its assignable scopes a custom role answers exactly like an unknown one.
    ['role-definition-does-not-exist', () => roleDefinitionNotAssignableAt(`${SUB}/providers/Microsoft.Authorization/roleDefinitions/c0ffee00-0000-4000-8000-000000000001`, OTHER_RG, [RG])],
  ])('%s', (name, make) => {
    expect(wire(make())).toEqual(golden(name));
  });
});

const VM_READ = 'Microsoft.Compute/virtualMachines/read';
const vmReader = (name: string, scopes = [SUB]) => ({
  name,
  roleName: 'VM Reader',
  description: 'reads virtual machines',
  assignableScopes: scopes,
  permissions: [{ actions: [VM_READ], notActions: [], dataActions: [], notDataActions: [] }],
});
const codeOf = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(KeylessError);
  return (e as KeylessError).code;
};

describe('AuthorizationStore: custom roles', () => {
  let store: Store;
  let t: number;
  const clock = { now: () => t };
  const open = (delayMs = 0) => new AuthorizationStore(store, new AuthzIndex({ clock }), clock, async () => true, 'tenant', { propagationDelayMs: delayMs });
  const canRead = (authz: AuthorizationStore, action = VM_READ) => authz.index.decide({ principalId: ALICE, action, isDataAction: false, scope: VM }).allowed;

  beforeEach(async () => {
    t = Date.parse('2025-01-01T00:00:00Z');
    store = await Store.open({ memory: true });
  });
  afterEach(async () => store.close());

  it('creates, updates in place (createdOn kept), and lets an assignment use the role', async () => {
    const authz = open();
    await authz.load();
    const guid = randomUUID();
    const first = await authz.putRoleDefinition({ ...vmReader(guid), by: ALICE });
    expect(first.created).toBe(true);
    expect(first.role).toMatchObject({ name: guid, roleType: 'CustomRole', roleName: 'VM Reader', createdBy: ALICE });
    t += 1000;
    const second = await authz.putRoleDefinition({ ...vmReader(guid), description: 'changed' });
    expect(second.created).toBe(false);
    expect(second.role.createdOn).toBe(first.role.createdOn);
    expect(second.role.updatedOn).not.toBe(first.role.updatedOn);
    await authz.createAssignment({ scope: RG, roleDefinitionId: guid, principalId: ALICE });
    expect(canRead(authz)).toBe(true);
    expect(canRead(authz, 'Microsoft.Compute/virtualMachines/write')).toBe(false);
  });

  it('refuses duplicate names (built-in names too), built-in GUIDs, non-GUID names', async () => {
    const authz = open();
    await authz.load();
    await authz.putRoleDefinition(vmReader(randomUUID()));
    expect(await codeOf(authz.putRoleDefinition({ ...vmReader(randomUUID()), roleName: 'vm reader' }))).toBe('RoleDefinitionWithSameNameExists');
    expect(await codeOf(authz.putRoleDefinition({ ...vmReader(randomUUID()), roleName: 'Reader' }))).toBe('RoleDefinitionWithSameNameExists');
    expect(await codeOf(authz.putRoleDefinition(vmReader(role('Reader').name)))).toBe('CannotModifyBuiltInRoleDefinition');
    expect(await codeOf(authz.deleteRoleDefinition(role('Owner').name))).toBe('CannotModifyBuiltInRoleDefinition');
    expect(await codeOf(authz.putRoleDefinition(vmReader('not-a-guid')))).toBe('InvalidRoleDefinitionId');
  });

  it('refuses an assignment outside the assignable scopes, and deletion while assigned', async () => {
    const authz = open();
    await authz.load();
    const guid = randomUUID();
    await authz.putRoleDefinition(vmReader(guid, [RG]));
    expect(await codeOf(authz.createAssignment({ scope: OTHER_RG, roleDefinitionId: guid, principalId: ALICE }))).toBe('RoleDefinitionDoesNotExist');
    const { assignment } = await authz.createAssignment({ scope: `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`, roleDefinitionId: guid, principalId: ALICE });
    expect(await codeOf(authz.deleteRoleDefinition(guid))).toBe('RoleDefinitionHasAssignments');
    await authz.deleteAssignment(assignment.name);
    expect((await authz.deleteRoleDefinition(guid))?.name).toBe(guid);
    expect(await authz.deleteRoleDefinition(guid)).toBeUndefined();
    expect(authz.customRole(guid)).toBeUndefined();
  });

  it('persists in the store and reaches another instance through the change feed', async () => {
    const a = open();
    await a.load();
    const b = open();
    await b.load();
    const guid = randomUUID();
    await a.putRoleDefinition(vmReader(guid));
    await a.createAssignment({ scope: RG, roleDefinitionId: guid, principalId: ALICE });
    await expect.poll(() => canRead(b)).toBe(true);
    // A third instance loading from the store (a restart) has it too.
    const c = open();
    await c.load();
    expect(c.customRole(guid)?.roleName).toBe('VM Reader');
    expect(canRead(c)).toBe(true);
    // An update that drops the action reaches the others.
    await a.putRoleDefinition({ ...vmReader(guid), permissions: [{ actions: ['Microsoft.Compute/virtualMachines/start/action'], notActions: [], dataActions: [], notDataActions: [] }] });
    await expect.poll(() => canRead(b)).toBe(false);
  });
});

describe('propagation delay', () => {
  let store: Store;
  let t: number;
  const clock = { now: () => t };

  beforeEach(async () => {
    t = Date.parse('2025-01-01T00:00:00Z');
    store = await Store.open({ memory: true });
  });
  afterEach(async () => store.close());

  it('a written change is visible to reads at once and to decisions only after the delay', async () => {
    const authz = new AuthorizationStore(store, new AuthzIndex({ clock }), clock, async () => true, 'tenant', { propagationDelayMs: 60_000 });
    await authz.load();
    const read = () => authz.index.decide({ principalId: ALICE, action: VM_READ, isDataAction: false, scope: VM }).allowed;
    const { assignment } = await authz.createAssignment({ scope: RG, roleDefinitionId: 'Reader', principalId: ALICE });
    expect(authz.records.getRoleAssignment(assignment.name)).toBeDefined();
    expect(read()).toBe(false);
    t += 59_999;
    expect(read()).toBe(false);
    t += 1;
    expect(read()).toBe(true);
    await authz.deleteAssignment(assignment.name);
    expect(authz.records.getRoleAssignment(assignment.name)).toBeUndefined();
    expect(read()).toBe(true);
    t += 60_000;
    expect(read()).toBe(false);
    expect(authz.index.pendingChanges).toBe(0);
  });

  it('custom role changes wait too, and what was stored before start-up is in effect at once', async () => {
    const first = new AuthorizationStore(store, new AuthzIndex({ clock }), clock, async () => true, 'tenant');
    await first.load();
    const guid = randomUUID();
    await first.putRoleDefinition(vmReader(guid));
    await first.createAssignment({ scope: RG, roleDefinitionId: guid, principalId: ALICE });
    const delayed = new AuthorizationStore(store, new AuthzIndex({ clock }), clock, async () => true, 'tenant', { propagationDelayMs: 30_000 });
    await delayed.load();
    const read = () => delayed.index.decide({ principalId: ALICE, action: VM_READ, isDataAction: false, scope: VM }).allowed;
    expect(read()).toBe(true);
    await delayed.putRoleDefinition({ ...vmReader(guid), permissions: [] });
    expect(delayed.customRole(guid)?.permissions).toEqual([]);
    expect(read()).toBe(true);
    t += 30_000;
    expect(read()).toBe(false);
  });
});

describe('AuthzIndex.schedule', () => {
  it('applies changes in write order once due, even if the clock went back in between', () => {
    let t = 1000;
    const index = new AuthzIndex({ clock: { now: () => t } });
    const applied: string[] = [];
    index.schedule(5000, () => applied.push('a'));
    t = 0; // clock moved back: the next change is due earlier but must not overtake 'a'
    index.schedule(3000, () => applied.push('b'));
    t = 4000;
    index.settle();
    expect(applied).toEqual([]);
    t = 5000;
    index.settle();
    expect(applied).toEqual(['a', 'b']);
    expect(index.pendingChanges).toBe(0);
  });

  it('a change that throws does not fail the decision that applies it', () => {
    let t = 0;
    const index = new AuthzIndex({ clock: { now: () => t } });
    index.schedule(10, () => {
      throw new Error('boom');
    });
    t = 10;
    expect(() => index.decide({ principalId: ALICE, action: VM_READ, isDataAction: false, scope: VM })).not.toThrow();
    expect(index.pendingChanges).toBe(0);
  });
});
