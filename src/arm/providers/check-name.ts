import type { ArmRequest, ProviderHandler } from '../context.js';
import { invalidRequestContent } from '../errors.js';
import { checkObject } from './validate.js';

/**
 * `POST /subscriptions/{s}/providers/{ns}/checkNameAvailability` for the providers whose names are global
 * (vaults, storage accounts): asks whether any subscription already uses the name.
 */
export function checkNameAvailabilityProviders(): ProviderHandler[] {
  const spec = [
    { ns: 'Microsoft.KeyVault', type: 'microsoft.keyvault/vaults', shape: 'keyvault' as const },
    { ns: 'Microsoft.Storage', type: 'microsoft.storage/storageaccounts', shape: 'storage' as const },
  ];
  return spec.map(({ ns, type, shape }) => ({
    type: `${ns}/checkNameAvailability`,
    // Only asks whether a name is taken; any signed-in caller may, as in Azure.
    authorizesItself: true,
    async post(req: ArmRequest) {
      const body = checkObject(req.body);
      const name = body['name'];
      if (typeof name !== 'string' || name === '') throw invalidRequestContent("The 'name' property is required.");
      const all = await req.deps.resources.list({ typeKey: type });
      const taken = all.some((r) => r.name.toLowerCase() === name.toLowerCase());
      if (shape === 'keyvault') {
        return { status: 200, body: taken ? { nameAvailable: false, reason: 'AlreadyExists', message: `The vault name '${name}' is already in use.` } : { nameAvailable: true } };
      }
      return {
        status: 200,
        body: taken ? { nameAvailable: false, reason: 'AlreadyExists', message: `The storage account named ${name} is already taken.` } : { nameAvailable: true },
      };
    },
  }));
}
