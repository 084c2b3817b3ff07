import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AccessControl } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import type { ShiftableClock } from '../core/clock.js';
import type { ProviderHandler } from '../arm/context.js';
import type { Directory } from '../directory/index.js';
import type { ResourceService } from '../resources/index.js';
import type { Store } from '../store/index.js';
import type { KeylessConfig } from './config.js';

/** Seals and opens secrets at rest (implemented by keyring/Keyring). */
export interface Sealer {
  seal(plaintext: Buffer | string, aad: string): string;
  open(sealed: string, aad: string): Buffer;
}

import type { DataAccessEvent } from '../core/data-access.js';

export type { DataAccessEvent };

/**
 * What a surface plugin gets from the server: the domain services, a bearer verifier, and places to
 * mount itself. Plugins (Key Vault, Blob, …) never import each other or the server's internals.
 */
export interface PluginContext {
  config: KeylessConfig;
  log: Logger;
  clock: ShiftableClock;
  store: Store;
  sealer: Sealer;
  directory: Directory;
  resources: ResourceService;
  access: AccessControl;
  tenantId: string;
  subscriptionId: string;
  /** https://<publicHost>:<port> */
  baseUrl: string;
  /** The bound HTTPS port. */
  port: number;
  /** Login endpoint for challenges: `${loginBase}/${tenantId}` is the authority. */
  loginBase: string;
  /** Verifies a Keyless-issued bearer token for one of `audiences` whose principal still exists; throws KeylessError(401) with extra.reason. */
  verifyBearer(token: string, audiences: string[]): Promise<Caller>;
  /**
   * `verifyBearer` without a promise for a token verified before: the caller when the cached verification still
   * holds (key published, policy met) and the principal is in memory; undefined otherwise, for `verifyBearer`.
   */
  cachedBearer(token: string, audiences: string[]): Caller | undefined;
  /** Adds an ARM resource provider (Microsoft.KeyVault/vaults …). */
  addArmProvider(p: ProviderHandler): void;
  /** Mounts the handler for a host-routed surface. */
  mountSurface(surface: 'keyvault' | 'blob', handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  /** Records a data-plane access decision (audit trail). */
  recordDataAccess(e: DataAccessEvent): void;
  /** Environment variables to add when a process runs as a VM (e.g. vault URLs). */
  addVmEnvironment(fn: () => Promise<Record<string, string>> | Record<string, string>): void;
}

export interface KeylessPlugin {
  name: string;
  setup(ctx: PluginContext): Promise<{ close?(): Promise<void> | void } | void>;
}
