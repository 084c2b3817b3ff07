import type { KeylessPlugin } from './plugin.js';

/** The surfaces beyond ARM, login and IMDS, in mount order. One line each. */
export const plugins: KeylessPlugin[] = [];
