import { describe, expect, it } from 'vitest';
import { desiredIdentity, identityTypeString, parseIdentityType, type DesiredIdentity } from '../../../src/resources/index.js';
import { KeylessError } from '../../../src/core/errors.js';

const U1 = '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u1';
const U2 = '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u2';
const none: DesiredIdentity = { system: false, userAssigned: new Map() };
const both: DesiredIdentity = { system: true, userAssigned: new Map([[U1.toLowerCase(), U1]]) };

describe('the identity property (ARM PUT/PATCH semantics)', () => {
  it('parses every spelling of the type, case- and space-insensitively', () => {
    expect(parseIdentityType('SystemAssigned, UserAssigned')).toEqual({ system: true, user: true });
    expect(parseIdentityType('systemassigned,userassigned')).toEqual({ system: true, user: true });
    expect(parseIdentityType('None')).toEqual({ system: false, user: false });
    for (const bad of ['', 'Both', 'None, SystemAssigned', 42]) expect(() => parseIdentityType(bad)).toThrow(KeylessError);
  });

  it('PUT replaces: no identity means None', () => {
    expect(desiredIdentity(both, undefined, 'put')).toEqual(none);
  });

  it('PATCH without identity keeps it', () => {
    expect(desiredIdentity(both, undefined, 'patch')).toEqual(both);
  });

  it('PATCH with UserAssigned in the type but no map keeps the attached identities (az relies on this)', () => {
    const d = desiredIdentity(both, { type: 'SystemAssigned, UserAssigned' }, 'patch');
    expect([...d.userAssigned.values()]).toEqual([U1]);
  });

  it('PATCH merges the map; null detaches', () => {
    const added = desiredIdentity(both, { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [U2]: {} } }, 'patch');
    expect([...added.userAssigned.values()].sort()).toEqual([U1, U2]);
    const removed = desiredIdentity(both, { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [U1]: null } }, 'patch');
    expect(removed.userAssigned.size).toBe(0);
    expect(identityTypeString(removed)).toBe('SystemAssigned');
  });

  it('type SystemAssigned alone drops every user-assigned identity; None drops everything', () => {
    expect(desiredIdentity(both, { type: 'SystemAssigned' }, 'patch')).toEqual({ system: true, userAssigned: new Map() });
    expect(desiredIdentity(both, { type: 'None' }, 'patch')).toEqual(none);
  });

  it('refuses malformed identity ids, non-object values, and UserAssigned with an empty map on PUT', () => {
    expect(() => desiredIdentity(none, { type: 'UserAssigned', userAssignedIdentities: { '/not/an/id': {} } }, 'put')).toThrow(/Invalid user assigned identity/);
    expect(() => desiredIdentity(none, { type: 'UserAssigned', userAssignedIdentities: { [U1]: 'yes' } }, 'put')).toThrow(KeylessError);
    expect(() => desiredIdentity(none, { type: 'UserAssigned', userAssignedIdentities: {} }, 'put')).toThrow(/should not be empty/);
    expect(() => desiredIdentity(none, 'SystemAssigned', 'put')).toThrow(KeylessError);
  });

  it('renders the type Compute uses, with the space', () => {
    expect(identityTypeString(both)).toBe('SystemAssigned, UserAssigned');
    expect(identityTypeString(none)).toBe('None');
  });
});
