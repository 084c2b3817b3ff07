/**
 * The in-process API: start a real Keyless (HTTPS, IMDS listeners, signed tokens, SQLite store) on
 * ephemeral ports inside a test, use it, stop it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { resolveConfig, type KeylessConfig } from './server/config.js';
import { createKeylessServer, type KeylessServer } from './server/create-server.js';

export type { KeylessServer, KeylessEndpoints } from './server/create-server.js';
export type { KeylessConfig } from './server/config.js';
export type { AdminCredential } from './server/bootstrap.js';
export type { DenyAssignmentInput } from './authz/deny-assignments.js';
export type { DenyAssignment } from './authz/types.js';
export type { Fault, FaultInput, FaultSurface, FaultView, FaultRegistry } from './faults/index.js';

export interface StartOptions extends Partial<KeylessConfig> {
  /** Remove the data directory on stop() when Keyless created it (default true for temp dirs). */
  cleanup?: boolean;
}

export interface StartedKeyless extends KeylessServer {
  dataDir: string;
}

export async function startKeyless(options: StartOptions = {}): Promise<StartedKeyless> {
  const { cleanup, ...overrides } = options;
  const tempDir = overrides.dataDir ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-'));
  const config = resolveConfig({
    env: {},
    flags: { port: 0, imdsPort: 0, msiPort: 0, logLevel: 'silent', ...overrides, dataDir: overrides.dataDir ?? tempDir },
  });
  const server = await createKeylessServer(config, { logger: pino({ level: config.logLevel }) });
  const stop = server.stop;
  return {
    ...server,
    dataDir: config.dataDir,
    async stop() {
      await stop();
      if (tempDir && cleanup !== false) fs.rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

export { createKeylessServer, resolveConfig };
