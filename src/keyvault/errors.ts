import { KeylessError } from '../core/errors.js';

/**
 * Key Vault's error envelope: `{"error":{"code","message","innererror":{"code"}?}}`. Messages follow the
 * ones the service is seen to return (SDK test recordings, client logs); see docs/deviations/keyvault.md.
 */
export const kvError = (status: number, code: string, message: string, inner?: string, opts: { detail?: string; headers?: Record<string, string> } = {}): KeylessError =>
  new KeylessError(status, code, message, {
    ...(opts.detail !== undefined ? { detail: opts.detail } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
    extra: inner ? { innererror: inner } : {},
  });

export function serializeKvError(e: KeylessError): { error: { code: string; message: string; innererror?: { code: string } } } {
  const inner = e.extra['innererror'];
  return { error: { code: e.code, message: e.message, ...(typeof inner === 'string' ? { innererror: { code: inner } } : {}) } };
}

const HELP_NOT_FOUND = 'For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182';

export const badParameter = (message: string): KeylessError => kvError(400, 'BadParameter', message);

export const secretNotFound = (name: string, version?: string): KeylessError =>
  kvError(
    404,
    'SecretNotFound',
    `A secret with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. ${HELP_NOT_FOUND}`,
  );

export const deletedSecretNotFound = (name: string): KeylessError => kvError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);

export const secretDisabled = (): KeylessError => kvError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');

export const secretDeletedButRecoverable = (name: string): KeylessError =>
  kvError(
    409,
    'Conflict',
    `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
    'ObjectIsDeletedButRecoverable',
  );

export const purgeNotAllowed = (): KeylessError =>
  kvError(403, 'Forbidden', 'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.', 'PurgeProtectionEnabled');

export const invalidSecretName = (name: string): KeylessError => badParameter(`The request URI contains an invalid name: ${name}`);

export const corruptBackup = (): KeylessError => badParameter('Backup blob contains invalid or corrupt version.');

export const missingApiVersion = (): KeylessError => badParameter('The api-version query parameter is missing. Please add an api-version parameter, for example ?api-version=7.4.');
