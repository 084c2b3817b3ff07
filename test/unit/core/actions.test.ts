import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { actionMatches, actionProvider, compileActionPattern, validateCustomRoleAction } from '../../../src/core/actions.js';
import { KeylessError } from '../../../src/core/errors.js';

/**
 * Azure's documented wildcard examples (authorization.md §1.4; role-definitions.md, custom-roles.md) and the
 * mid-string wildcards built-in roles rely on. [pattern, action, expected]
 */
const TABLE: [string, string, boolean][] = [
  // `*` — everything
  ['*', 'Microsoft.Compute/virtualMachines/read', true],
  ['*', 'Microsoft.Authorization/roleAssignments/write', true],
  // `*/read` — read actions of all types of all providers
  ['*/read', 'Microsoft.Compute/virtualMachines/read', true],
  ['*/read', 'Microsoft.Storage/storageAccounts/blobServices/containers/read', true],
  ['*/read', 'Microsoft.Compute/virtualMachines/write', false],
  ['*/read', 'Microsoft.Storage/storageAccounts/listKeys/action', false],
  // `Microsoft.Compute/*` — all of a provider, child types included
  ['Microsoft.Compute/*', 'Microsoft.Compute/virtualMachines/start/action', true],
  ['Microsoft.Compute/*', 'Microsoft.Compute/disks/write', true],
  ['Microsoft.Compute/*', 'Microsoft.ComputeSchedule/foo/read', false],
  ['Microsoft.Compute/*', 'Microsoft.Storage/storageAccounts/read', false],
  // `Microsoft.Network/*/read`
  ['Microsoft.Network/*/read', 'Microsoft.Network/virtualNetworks/read', true],
  ['Microsoft.Network/*/read', 'Microsoft.Network/virtualNetworks/subnets/read', true],
  ['Microsoft.Network/*/read', 'Microsoft.Network/virtualNetworks/write', false],
  ['Microsoft.Network/*/read', 'Microsoft.Compute/virtualMachines/read', false],
  // `Microsoft.Compute/virtualMachines/*` — VM and its child resource types
  ['Microsoft.Compute/virtualMachines/*', 'Microsoft.Compute/virtualMachines/extensions/write', true],
  ['Microsoft.Compute/virtualMachines/*', 'Microsoft.Compute/virtualMachineScaleSets/read', false],
  ['Microsoft.CostManagement/exports/*', 'Microsoft.CostManagement/exports/run/action', true],
  // zero-segment wildcard: `x/*/y` matches `x/y`
  ['Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/read', true],
  ['Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/secrets/read', true],
  ['Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/keys/versions/read', true],
  ['Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/write', false],
  ['Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaultsX/read', false],
  ['Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action', 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', true],
  ['Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action', 'Microsoft.ManagedIdentity/userAssignedIdentities/x/assign/action', true],
  ['Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action', 'Microsoft.ManagedIdentity/userAssignedIdentities/read', false],
  ['Microsoft.ManagedIdentity/userAssignedIdentities/*/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/read', true],
  ['Microsoft.Authorization/*/read', 'Microsoft.Authorization/roleAssignments/read', true],
  // ActionMatches examples from conditions-format (§1.4)
  ['Microsoft.Authorization/roleAssignments/*', 'Microsoft.Authorization/roleAssignments/write', true],
  ['Microsoft.Authorization/roleDefinitions/*', 'Microsoft.Authorization/roleAssignments/write', false],
  // case variants: "Permission strings are case-insensitive"
  ['Microsoft.Authorization/*/Write', 'Microsoft.Authorization/roleAssignments/write', true],
  ['Microsoft.Authorization/*/Delete', 'microsoft.authorization/roleassignments/DELETE', true],
  ['Microsoft.Storage/storageAccounts/listKeys/action', 'Microsoft.Storage/storageAccounts/listkeys/action', true],
  ['microsoft.storage/storageaccounts/listkeys/action', 'MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION', true],
  ['Microsoft.Authorization/elevateAccess/Action', 'Microsoft.Authorization/elevateAccess/action', true],
  // literal patterns are exact
  ['Microsoft.KeyVault/vaults/secrets/getSecret/action', 'Microsoft.KeyVault/vaults/secrets/getSecret/action', true],
  ['Microsoft.KeyVault/vaults/secrets/getSecret/action', 'Microsoft.KeyVault/vaults/secrets/getSecret/actionX', false],
  ['Microsoft.KeyVault/vaults/secrets/getSecret/action', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action', false],
  // regex metacharacters in action strings are literal
  ['Microsoft.CognitiveServices/accounts/MultiModalIntelligence/faces:detect/action', 'Microsoft.CognitiveServices/accounts/MultiModalIntelligence/faces:detect/action', true],
  ['Microsoft.DataProtection/{operationName}/read', 'Microsoft.DataProtection/x/read', false],
  ['Microsoft.Compute/virtualMachines/read', 'Microsoft.Compute/virtualMachinesXread', false],
  ['Microsoft.Compute.*', 'Microsoft.ComputeX', false],
  // whitespace around built-in strings (some built-ins ship "…/read ")
  ['Microsoft.Network/virtualNetworks/read ', 'Microsoft.Network/virtualNetworks/read', true],
];

describe('action wildcard matching (§1.4)', () => {
  it.each(TABLE)('%s vs %s → %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected);
  });

  it('caches compiled patterns', () => {
    expect(compileActionPattern('Microsoft.Compute/*')).toBe(compileActionPattern('Microsoft.Compute/*'));
  });

  it('exposes the literal prefix and provider', () => {
    expect(compileActionPattern('Microsoft.KeyVault/vaults/*/read').literalPrefix).toBe('microsoft.keyvault/vaults/');
    expect(actionProvider('Microsoft.KeyVault/vaults/read')).toBe('Microsoft.KeyVault');
    expect(actionProvider('*/read')).toBeUndefined();
    expect(actionProvider('*')).toBeUndefined();
  });

  // Reference semantics written independently: segment-free glob where `*` is any run of characters, plus the
  // zero-segment reading of `/*/`.
  const reference = (pattern: string, action: string): boolean => {
    const p = pattern.trim().toLowerCase();
    const a = action.toLowerCase();
    const glob = (pi: number, ai: number): boolean => {
      if (pi === p.length) return ai === a.length;
      if (p[pi] === '*') {
        for (let k = ai; k <= a.length; k++) if (glob(pi + 1, k)) return true;
        return false;
      }
      return ai < a.length && p[pi] === a[ai] && glob(pi + 1, ai + 1);
    };
    if (glob(0, 0)) return true;
    return p.includes('/*/') && reference(p.replace('/*/', '/'), a);
  };

  it('agrees with a reference glob on random patterns', () => {
    const seg = fc.constantFrom('Microsoft.KeyVault', 'vaults', 'secrets', 'read', 'write', 'action', 'a', 'b', 'X.y');
    const actionArb = fc.array(seg, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
    const patternArb = fc
      .tuple(fc.array(fc.oneof(seg, fc.constant('*')), { minLength: 1, maxLength: 5 }), fc.boolean())
      .map(([parts, upper]) => {
        // Keep at most one `*` segment, as custom roles must (built-ins also never use two).
        let seen = false;
        const kept = parts.filter((p) => (p === '*' ? (seen ? false : (seen = true)) : true));
        const s = kept.join('/');
        return upper ? s.toUpperCase() : s;
      });
    fc.assert(
      fc.property(patternArb, actionArb, (pattern, action) => {
        expect(actionMatches(pattern, action)).toBe(reference(pattern, action));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('custom-role action validation', () => {
  it('accepts one wildcard', () => {
    expect(() => validateCustomRoleAction('Microsoft.Compute/*/read')).not.toThrow();
    expect(() => validateCustomRoleAction('*')).not.toThrow();
  });

  it("rejects more than one wildcard with Azure's InvalidActionOrNotAction message", () => {
    try {
      validateCustomRoleAction('Microsoft.CostManagement/*/query/*');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KeylessError);
      const err = e as KeylessError;
      expect(err.status).toBe(400);
      expect(err.code).toBe('InvalidActionOrNotAction');
      expect(err.message).toBe("'Microsoft.CostManagement/*/query/*' contains multiple wildcards. Only one is allowed.");
    }
  });

  it('rejects empty and whitespace-containing strings', () => {
    expect(() => validateCustomRoleAction('')).toThrow(KeylessError);
    expect(() => validateCustomRoleAction('Microsoft.Compute/virtual Machines/read')).toThrow(/whitespace/);
  });
});
