import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  ancestorIds,
  extensionResourceId,
  isAncestorOrSelf,
  isValidScope,
  parseScope,
  resourceGroupOf,
  resourceTypeOf,
  sameScope,
  scopeKey,
  splitExtensionId,
  subscriptionIdOf,
} from '../../../src/core/scope.js';
import { KeylessError } from '../../../src/core/errors.js';

const SUB = '/subscriptions/11111111-2222-3333-4444-555555555555';
const RG = `${SUB}/resourceGroups/Example-Storage-rg`;
const ACCOUNT = `${RG}/providers/Microsoft.Storage/storageAccounts/azurestorage12345`;
const CONTAINER = `${ACCOUNT}/blobServices/default/containers/blob-container-01`;
const VAULT = `${RG}/providers/Microsoft.KeyVault/vaults/kv1`;

describe('parseScope: levels', () => {
  it('parses the root', () => {
    const s = parseScope('/');
    expect(s.level).toBe('root');
    expect(s.id).toBe('/');
    expect(s.key).toBe('/');
    expect(s.ancestors().map((a) => a.id)).toEqual(['/']);
  });

  it('parses a management group', () => {
    const s = parseScope('/providers/Microsoft.Management/managementGroups/marketing-group');
    expect(s.level).toBe('managementGroup');
    expect(s.managementGroupId).toBe('marketing-group');
    expect(s.subscriptionId).toBeUndefined();
    expect(s.resourceType).toBe('Microsoft.Management/managementGroups');
    expect(ancestorIds(s)).toEqual(['/providers/Microsoft.Management/managementGroups/marketing-group', '/']);
  });

  it('parses subscriptions and resource groups', () => {
    const sub = parseScope(SUB);
    expect(sub.level).toBe('subscription');
    expect(sub.subscriptionId).toBe('11111111-2222-3333-4444-555555555555');
    expect(sub.resourceType).toBe('Microsoft.Resources/subscriptions');
    const rg = parseScope(RG);
    expect(rg.level).toBe('resourceGroup');
    expect(rg.resourceGroup).toBe('Example-Storage-rg');
    expect(rg.resourceType).toBe('Microsoft.Resources/resourceGroups');
    expect(rg.parent?.id).toBe(SUB);
  });

  it('parses a nested child resource (blob container) and walks every ancestor', () => {
    const s = parseScope(CONTAINER);
    expect(s.level).toBe('resource');
    expect(s.resourceType).toBe('Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(s.resourceName).toBe('blob-container-01');
    expect(s.subscriptionId).toBe('11111111-2222-3333-4444-555555555555');
    expect(s.resourceGroup).toBe('Example-Storage-rg');
    expect(s.isExtension).toBe(false);
    expect(ancestorIds(s)).toEqual([CONTAINER, `${ACCOUNT}/blobServices/default`, ACCOUNT, RG, SUB, '/']);
  });

  it('parses Key Vault object scopes', () => {
    const s = parseScope(`${VAULT}/secrets/db-password`);
    expect(s.resourceType).toBe('Microsoft.KeyVault/vaults/secrets');
    expect(s.resourceName).toBe('db-password');
    expect(s.parent?.id).toBe(VAULT);
    expect(resourceTypeOf(VAULT)).toBe('Microsoft.KeyVault/vaults');
  });

  it('parses extension resources at every level and strips them to their scope', () => {
    const guid = '0b5fe6a6-2f6c-4b43-a9a2-7e1e3b3c8f11';
    for (const scope of ['/', '/providers/Microsoft.Management/managementGroups/mg1', SUB, RG, VAULT]) {
      const id = extensionResourceId(scope, 'Microsoft.Authorization', 'roleAssignments', guid);
      const parsed = parseScope(id);
      expect(parsed.level).toBe('resource');
      expect(parsed.resourceType).toBe('Microsoft.Authorization/roleAssignments');
      expect(parsed.resourceName).toBe(guid);
      expect(parsed.parent?.id).toBe(scope);
      expect(splitExtensionId(id, 'Microsoft.Authorization', 'roleAssignments')).toEqual({ scope, name: guid });
    }
    expect(parseScope(`${VAULT}/providers/Microsoft.Authorization/roleAssignments/${guid}`).isExtension).toBe(true);
    expect(splitExtensionId(VAULT, 'Microsoft.Authorization', 'roleAssignments')).toBeUndefined();
  });

  it('accessors read ids directly', () => {
    expect(subscriptionIdOf(CONTAINER)).toBe('11111111-2222-3333-4444-555555555555');
    expect(resourceGroupOf(CONTAINER)).toBe('Example-Storage-rg');
    expect(resourceGroupOf(SUB)).toBeUndefined();
  });
});

describe('parseScope: case rules (§2)', () => {
  it('keeps the caller casing for display and lower-cases the key', () => {
    const s = parseScope('/SUBSCRIPTIONS/AbC/resourcegroups/My-RG/providers/microsoft.keyvault/Vaults/KV');
    expect(s.id).toBe('/SUBSCRIPTIONS/AbC/resourcegroups/My-RG/providers/microsoft.keyvault/Vaults/KV');
    expect(s.key).toBe('/subscriptions/abc/resourcegroups/my-rg/providers/microsoft.keyvault/vaults/kv');
    expect(s.level).toBe('resource');
    expect(s.resourceGroup).toBe('My-RG');
  });

  it('compares case-insensitively', () => {
    expect(sameScope(VAULT, VAULT.toUpperCase().replace('/SUBSCRIPTIONS', '/subscriptions'))).toBe(true);
    expect(sameScope(VAULT, `${VAULT}/`)).toBe(true);
    expect(sameScope(VAULT, `${RG}/providers/Microsoft.KeyVault/vaults/kv2`)).toBe(false);
    expect(scopeKey(RG.toUpperCase())).toBe(RG.toLowerCase());
  });

  it('isAncestorOrSelf respects segment boundaries and case', () => {
    expect(isAncestorOrSelf('/', CONTAINER)).toBe(true);
    expect(isAncestorOrSelf(SUB.toUpperCase(), CONTAINER)).toBe(true);
    expect(isAncestorOrSelf(RG, RG)).toBe(true);
    expect(isAncestorOrSelf(ACCOUNT, CONTAINER)).toBe(true);
    expect(isAncestorOrSelf(CONTAINER, ACCOUNT)).toBe(false);
    // "kv1" is a string prefix of "kv10" but not an ancestor
    expect(isAncestorOrSelf(VAULT, `${RG}/providers/Microsoft.KeyVault/vaults/kv10`)).toBe(false);
    expect(isAncestorOrSelf(`${SUB}/resourceGroups/rg`, `${SUB}/resourceGroups/rg2`)).toBe(false);
  });
});

describe('parseScope: garbage', () => {
  const bad = [
    '',
    'subscriptions/x',
    '//',
    '/subscriptions',
    '/subscriptions/',
    '/subscriptions//resourceGroups/rg',
    '/subscriptions/s/resourceGroups',
    '/subscriptions/s/resourceGroups/rg/providers',
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute',
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines',
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/blobServices',
    '/subscriptions/s/resourceGroups/rg/virtualMachines/vm',
    '/subscriptions/s/foo/bar',
    '/foo',
    '/subscriptions/s?x=1',
    '/subscriptions/s/resourceGroups/rg\n',
    '/subscriptions/ s',
  ];
  it.each(bad)('rejects %j with a 400 KeylessError', (input) => {
    expect(isValidScope(input)).toBe(false);
    try {
      parseScope(input);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KeylessError);
      expect((e as KeylessError).status).toBe(400);
      expect((e as KeylessError).code).toBe('InvalidScope');
    }
  });

  it('names the property when the id came from a request body', () => {
    try {
      parseScope('/subscriptions/s/resourceGroups', { propertyPath: 'properties.scope' });
      expect.unreachable();
    } catch (e) {
      const err = e as KeylessError;
      expect(err.code).toBe('LinkedInvalidPropertyId');
      expect(err.message).toBe(
        "Property id '/subscriptions/s/resourceGroups' at path 'properties.scope' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.",
      );
    }
  });
});

// ---- property tests ------------------------------------------------------------------------------------------

const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._()-]{0,11}$/).filter((s) => s.toLowerCase() !== 'providers');
const ns = fc.constantFrom('Microsoft.Storage', 'Microsoft.KeyVault', 'Microsoft.Compute', 'microsoft.managedidentity', 'Contoso.Widgets');
const typeName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,9}$/).filter((s) => s.toLowerCase() !== 'providers');
const randomCase = (s: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((flags) => [...s].map((c, i) => (flags[i] ? c.toUpperCase() : c.toLowerCase())).join(''));

interface Gen {
  id: string;
  level: string;
  depth: number;
  type?: string;
}

const resourceSteps = fc.tuple(ns, typeName, name, fc.array(fc.tuple(typeName, name), { maxLength: 3 }));

const scopeArb: fc.Arbitrary<Gen> = fc.oneof(
  fc.constant<Gen>({ id: '/', level: 'root', depth: 1 }),
  fc.tuple(randomCase('managementGroups'), name).map(([kw, n]) => ({ id: `/providers/Microsoft.Management/${kw}/${n}`, level: 'managementGroup', depth: 2 })),
  fc
    .tuple(randomCase('subscriptions'), fc.uuid(), fc.option(fc.tuple(randomCase('resourceGroups'), name, fc.option(resourceSteps, { nil: undefined })), { nil: undefined }))
    .map(([subKw, sub, rest]): Gen => {
      let id = `/${subKw}/${sub}`;
      if (rest === undefined) return { id, level: 'subscription', depth: 2 };
      const [rgKw, rg, res] = rest;
      id += `/${rgKw}/${rg}`;
      if (res === undefined) return { id, level: 'resourceGroup', depth: 3 };
      const [n, t, rn, children] = res;
      id += `/providers/${n}/${t}/${rn}`;
      for (const [ct, cn] of children) id += `/${ct}/${cn}`;
      return { id, level: 'resource', depth: 4 + children.length, type: [n, t, ...children.map((c) => c[0])].join('/') };
    }),
);

describe('parseScope: properties', () => {
  it('format(parse(x)) === x and parse is idempotent', () => {
    fc.assert(
      fc.property(scopeArb, (g) => {
        const s = parseScope(g.id);
        expect(s.id).toBe(g.id);
        expect(parseScope(s.id).key).toBe(s.key);
        expect(parseScope(`${g.id}${g.id === '/' ? '' : '/'}`).id).toBe(g.id);
        expect(s.level).toBe(g.level);
        if (g.type !== undefined) expect(s.resourceType).toBe(g.type);
      }),
      { numRuns: 500 },
    );
  });

  it('keys are case-insensitive and ancestors are ancestors', () => {
    fc.assert(
      fc.property(scopeArb, (g) => {
        const s = parseScope(g.id);
        expect(parseScope(g.id.toUpperCase()).key).toBe(s.key);
        const anc = s.ancestors();
        expect(anc.length).toBe(g.depth);
        expect(anc[0]!.key).toBe(s.key);
        expect(anc[anc.length - 1]!.id).toBe('/');
        for (const a of anc) expect(isAncestorOrSelf(a, s)).toBe(true);
        for (let i = 1; i < anc.length; i++) expect(isAncestorOrSelf(anc[i - 1]!, anc[i]!)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
