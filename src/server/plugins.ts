import type { KeylessPlugin } from './plugin.js';
import { keyVaultPlugin } from '../keyvault/plugin.js';
import { blobPlugin } from '../blob/plugin.js';

/** The surfaces beyond ARM, login and IMDS, in mount order. One line each. */
export const plugins: KeylessPlugin[] = [keyVaultPlugin, blobPlugin];
