import { randomBytes } from 'node:crypto';

/**
 * Storage account keys: two 64-byte secrets per account (key1, key2), sealed at rest with the keyring and
 * bound (AAD) to the account and key name, so a sealed value copied to another account or slot will not open.
 */
export interface KeySealer {
  seal(plaintext: Buffer | string, aad: string): string;
  open(sealed: string, aad: string): Buffer;
}

export interface StoredAccountKey {
  keyName: string;
  sealed: string;
  creationTime: string;
}

export interface OpenAccountKey {
  keyName: string;
  value: Buffer;
  creationTime: string;
}

export const KEY_NAMES = ['key1', 'key2'] as const;
const KEY_BYTES = 64;

const aad = (accountId: string, keyName: string): string => `keyless/storage-account-key/v1|${accountId.toLowerCase()}|${keyName}`;

function sealNew(sealer: KeySealer, accountId: string, keyName: string, creationTime: string): StoredAccountKey {
  const value = randomBytes(KEY_BYTES);
  try {
    return { keyName, sealed: sealer.seal(value, aad(accountId, keyName)), creationTime };
  } finally {
    value.fill(0);
  }
}

export function createAccountKeys(sealer: KeySealer, accountId: string, creationTime: string): StoredAccountKey[] {
  return KEY_NAMES.map((n) => sealNew(sealer, accountId, n, creationTime));
}

/** A fresh secret for one slot; the other slot is untouched so clients on it keep working during rotation. */
export function regenerateAccountKey(sealer: KeySealer, accountId: string, keys: StoredAccountKey[], keyName: string, creationTime: string): StoredAccountKey[] {
  return keys.map((k) => (k.keyName === keyName ? sealNew(sealer, accountId, keyName, creationTime) : k));
}

export function openAccountKeys(sealer: KeySealer, accountId: string, keys: StoredAccountKey[]): OpenAccountKey[] {
  return keys.map((k) => ({ keyName: k.keyName, value: sealer.open(k.sealed, aad(accountId, k.keyName)), creationTime: k.creationTime }));
}

export function isStoredAccountKeys(v: unknown): v is StoredAccountKey[] {
  return Array.isArray(v) && v.every((k) => typeof k === 'object' && k !== null && typeof k.keyName === 'string' && typeof k.sealed === 'string');
}
