import { describe, expect, it } from 'vitest';
import { serializeKvError } from '../../../src/keyvault/errors.js';
import { forbiddenByPolicy, forbiddenByRbac } from '../../../src/keyvault/forbidden.js';

const caller = { appId: 'cccccccc-0000-4000-8000-000000000003', objectId: 'aaaaaaaa-0000-4000-8000-000000000001', tenantId: '11111111-1111-4111-8111-111111111111' };

describe('Key Vault 403 bodies', () => {
  it('ForbiddenByRbac follows the service template line by line, resource lower-cased', () => {
    const e = forbiddenByRbac({
      caller,
      action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      resource: '/subscriptions/S/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/KV1/secrets/Db',
      vaultName: 'KV1',
      location: 'westeurope',
      summary: 'denied: no role assignment',
    });
    expect(e.status).toBe(403);
    expect(serializeKvError(e)).toEqual({
      error: {
        code: 'Forbidden',
        message:
          'Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n' +
          `Caller: appid=${caller.appId};oid=${caller.objectId};iss=https://sts.windows.net/${caller.tenantId}/\r\n` +
          "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\r\n" +
          "Resource: '/subscriptions/s/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv1/secrets/db'\r\n" +
          'Assignment: (not found)\r\nDenyAssignmentId: null\r\n' +
          "DecisionReason: 'DeniedWithNoValidRBAC' \r\n" +
          'Vault: KV1;location=westeurope\r\n',
        innererror: { code: 'ForbiddenByRbac' },
      },
    });
    // The engine's reason travels beside the body (x-keyless-authz), never inside it.
    expect(e.extra['summary']).toBe('denied: no role assignment');
  });

  it('ForbiddenByPolicy names the permission that is missing', () => {
    const e = forbiddenByPolicy({ caller, kind: 'secrets', permission: 'get', vaultName: 'kv1', location: 'westeurope' });
    expect(serializeKvError(e)).toEqual({
      error: {
        code: 'Forbidden',
        message: `The user, group or application 'appid=${caller.appId};oid=${caller.objectId};iss=https://sts.windows.net/${caller.tenantId}/' does not have secrets get permission on key vault 'kv1;location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
        innererror: { code: 'ForbiddenByPolicy' },
      },
    });
  });
});
