import fs from 'node:fs';
import YAML from 'yaml';
import type { AuthzMode } from '../core/access.js';

export interface KeylessConfig {
  /** SQLite file, CA, keys and the admin credential live here. */
  dataDir: string;
  /** postgres://… selects the scale-out store. */
  databaseUrl: string | undefined;
  /** Keep the SQLite store in memory (tests, throwaway runs); the CA and keys still go to dataDir. */
  memory: boolean;
  /** Where the local CA and server certificate live (default <dataDir>/tls); share it to keep one CA trusted. */
  tlsDir: string | undefined;
  /** Master key file (default <dataDir>/master.key). Replicas of one store must share it (or KEYLESS_MASTER_KEY). */
  masterKeyFile: string | undefined;
  /** Address the HTTPS listener binds (ARM, login, Key Vault, Blob, portal). */
  host: string;
  port: number;
  /** Port of every VM's IMDS listener, each on its own 127.77.x.y address; 0 = ephemeral. */
  imdsPort: number;
  /**
   * Enforce Azure IMDS's per-VM rate limits (20 token requests/s and 5 concurrent; 5/s for the rest) with 429 +
   * Retry-After. Off by default: test suites ask for tokens much faster than a VM may (docs/fault-injection.md).
   */
  imdsThrottle: boolean;
  /** Port of the App Service identity endpoint (127.0.0.1:<msiPort>/msi/token) that web apps' secrets bind to; 0 = ephemeral. */
  msiPort: number;
  /** Host name put in URLs Keyless hands out (endpoints, discovery, vault URIs). */
  publicHost: string;
  /** DNS suffix for host-routed names: <vault>.vault.<suffix>, <account>.blob.<suffix>, management.<suffix>. */
  dnsSuffix: string;
  authzMode: AuthzMode;
  /**
   * Fidelity option: role assignment, custom role and deny assignment changes reach decisions only this many
   * seconds after they are written, as Azure's propagation makes them (0: on the next request).
   */
  authzPropagationDelaySec: number;
  /** Managed-identity token lifetime (Azure: about 24 h). */
  tokenLifetimeSec: number;
  /** client_credentials token lifetime (Azure: 60–90 min). */
  appTokenLifetimeSec: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Audit trail (src/audit): days events are kept before the periodic purge; 0 keeps them forever. */
  auditRetentionDays: number;
}

export const DEFAULTS: KeylessConfig = {
  dataDir: '.keyless',
  databaseUrl: undefined,
  memory: false,
  tlsDir: undefined,
  masterKeyFile: undefined,
  host: '127.0.0.1',
  port: 8443,
  imdsPort: 50342,
  imdsThrottle: false,
  msiPort: 50343,
  publicHost: 'localhost',
  dnsSuffix: 'keyless.localhost',
  authzMode: 'enforce',
  authzPropagationDelaySec: 0,
  tokenLifetimeSec: 86_400,
  appTokenLifetimeSec: 3_599,
  logLevel: 'info',
  auditRetentionDays: 30,
};

const ENV: Record<keyof KeylessConfig, string> = {
  dataDir: 'KEYLESS_DATA_DIR',
  databaseUrl: 'KEYLESS_DATABASE_URL',
  memory: 'KEYLESS_MEMORY',
  tlsDir: 'KEYLESS_TLS_DIR',
  masterKeyFile: 'KEYLESS_MASTER_KEY_FILE',
  host: 'KEYLESS_HOST',
  port: 'KEYLESS_PORT',
  imdsPort: 'KEYLESS_IMDS_PORT',
  imdsThrottle: 'KEYLESS_IMDS_THROTTLE',
  msiPort: 'KEYLESS_MSI_PORT',
  publicHost: 'KEYLESS_PUBLIC_HOST',
  dnsSuffix: 'KEYLESS_DNS_SUFFIX',
  authzMode: 'KEYLESS_AUTHZ',
  authzPropagationDelaySec: 'KEYLESS_AUTHZ_PROPAGATION_DELAY',
  tokenLifetimeSec: 'KEYLESS_TOKEN_LIFETIME',
  appTokenLifetimeSec: 'KEYLESS_APP_TOKEN_LIFETIME',
  logLevel: 'KEYLESS_LOG_LEVEL',
  auditRetentionDays: 'KEYLESS_AUDIT_RETENTION_DAYS',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Flags beat environment beats config file beats defaults; every value is validated, unknown keys refused. */
export function resolveConfig(input: {
  flags?: Partial<Record<keyof KeylessConfig, unknown>>;
  env?: NodeJS.ProcessEnv;
  configFile?: string | undefined;
}): KeylessConfig {
  const env = input.env ?? process.env;
  const fileValues: Record<string, unknown> = {};
  const file = input.configFile ?? env['KEYLESS_CONFIG'];
  if (file) {
    let parsed: unknown;
    try {
      parsed = YAML.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) throw new ConfigError(`config file ${file} must hold a mapping`);
    for (const [k, v] of Object.entries((parsed ?? {}) as Record<string, unknown>)) {
      if (!(k in DEFAULTS)) throw new ConfigError(`unknown setting '${k}' in ${file} (known: ${Object.keys(DEFAULTS).join(', ')})`);
      fileValues[k] = v;
    }
  }
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof KeylessConfig)[]) {
    const fromFlag = input.flags?.[key];
    const fromEnv = env[ENV[key]];
    const raw = fromFlag !== undefined ? fromFlag : fromEnv !== undefined && fromEnv !== '' ? fromEnv : fileValues[key];
    if (raw !== undefined) out[key] = coerce(key, raw);
  }
  return out as unknown as KeylessConfig;
}

function coerce(key: keyof KeylessConfig, raw: unknown): unknown {
  const s = typeof raw === 'string' ? raw.trim() : raw;
  switch (key) {
    case 'port':
    case 'imdsPort':
    case 'msiPort': {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${key} must be a port number (0-65535), got '${String(raw)}'`);
      return n;
    }
    case 'tokenLifetimeSec':
    case 'appTokenLifetimeSec': {
      const n = Number(s);
      // Under 5 minutes msal treats a token as already expired; over 7 days is no longer a managed identity.
      if (!Number.isInteger(n) || n < 600 || n > 7 * 86_400) throw new ConfigError(`${key} must be whole seconds between 600 and 604800, got '${String(raw)}'`);
      return n;
    }
    case 'authzPropagationDelaySec': {
      const n = Number(s);
      // Azure documents minutes for assignments and hours for group-based managed identities (authorization.md §7).
      if (s === '' || !Number.isInteger(n) || n < 0 || n > 86_400) throw new ConfigError(`authzPropagationDelaySec must be whole seconds between 0 and 86400, got '${String(raw)}'`);
      return n;
    }
    case 'auditRetentionDays': {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0 || n > 3650) throw new ConfigError(`auditRetentionDays must be whole days between 0 (keep forever) and 3650, got '${String(raw)}'`);
      return n;
    }
    case 'memory':
    case 'imdsThrottle':
      if (typeof s === 'boolean') return s;
      if (s === 'true' || s === '1') return true;
      if (s === 'false' || s === '0') return false;
      throw new ConfigError(`${key} must be true or false, got '${String(raw)}'`);
    case 'authzMode':
      if (s === 'enforce' || s === 'audit' || s === 'off') return s;
      throw new ConfigError(`authorization mode must be one of enforce, audit, off — got '${String(raw)}'`);
    case 'logLevel':
      if (['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(String(s))) return s;
      throw new ConfigError(`log level must be one of fatal, error, warn, info, debug, trace, silent — got '${String(raw)}'`);
    case 'dnsSuffix':
      if (typeof s !== 'string' || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(s)) {
        throw new ConfigError(`dnsSuffix must be a DNS name, got '${String(raw)}'`);
      }
      return s.toLowerCase();
    default:
      if (typeof s !== 'string' || s === '') throw new ConfigError(`${key} must be a non-empty string`);
      return s;
  }
}
