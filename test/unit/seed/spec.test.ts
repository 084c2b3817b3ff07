import { describe, expect, it } from 'vitest';
import { parseEnvironment, SpecError } from '../../../src/seed/index.js';

describe('declarative environment files', () => {
  it('reads groups, identities and VMs with inherited locations', () => {
    const spec = parseEnvironment(`
location: westeurope
resourceGroups:
  app-rg:
    userAssignedIdentities:
      app-id: {}
    virtualMachines:
      vm1:
        identity: { systemAssigned: true, userAssigned: [app-id] }
  other:
    location: northeurope
`);
    expect(spec.resourceGroups.map((g) => [g.name, g.location])).toEqual([
      ['app-rg', 'westeurope'],
      ['other', 'northeurope'],
    ]);
    expect(spec.resourceGroups[0]!.virtualMachines[0]).toMatchObject({ name: 'vm1', systemAssigned: true, userAssigned: ['app-id'], location: 'westeurope' });
  });

  it.each([
    ['resourceGroups: [a, b]', /must be a mapping/],
    ['resourceGroups:\n  g:\n    virtualMachine: {}', /unknown key 'virtualMachine'/],
    ['resourceGroups:\n  g:\n    virtualMachines:\n      v:\n        identity: { systemAssigned: yes please }', /true or false/],
    ['resourceGroups:\n  g:\n    virtualMachines:\n      v:\n        identity: { userAssigned: app-id }', /list of identity names/],
    ['a: [', /not valid YAML/],
  ])('says what is wrong: %s', (text, msg) => {
    expect(() => parseEnvironment(text, 'env.yaml')).toThrow(SpecError);
    expect(() => parseEnvironment(text, 'env.yaml')).toThrow(msg);
  });
});
