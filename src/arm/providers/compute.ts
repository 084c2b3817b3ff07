import { randomUUID } from 'node:crypto';
import type { Tx } from '../../store/index.js';
import type { ProviderHandler } from '../context.js';
import { trackedHandlers } from './tracked.js';

export interface ComputeOptions {
  /** Allocates the VM's IMDS loopback address (caller binding) inside the create transaction. */
  allocateImdsAddress(tx: Tx): Promise<string>;
}

/** Microsoft.Compute/virtualMachines: just enough of a VM to host identities and answer IMDS. */
export function computeProvider(opts: ComputeOptions): ProviderHandler {
  return trackedHandlers({
    type: 'Microsoft.Compute/virtualMachines',
    nameRule: /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/,
    nameHint: 'Virtual machine names must be 1-64 characters: letters, digits, periods, underscores and hyphens, starting with a letter or digit.',
    supportsIdentity: true,
    computeProperties(_input, current) {
      return {
        vmId: (current?.body.properties?.['vmId'] as string | undefined) ?? randomUUID(),
        provisioningState: 'Succeeded',
      };
    },
    async onCreate(tx, internal) {
      internal.imdsAddress = await opts.allocateImdsAddress(tx);
    },
  });
}
