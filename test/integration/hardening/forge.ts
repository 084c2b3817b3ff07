import path from 'node:path';
import { createHmac, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { Keyring, envMasterKeyProvider, fileMasterKeyProvider } from '../../../src/keyring/index.js';
import { dataKeyStore, signingKeyRepository } from '../../../src/server/persistence.js';
import { SigningKeys, type SigningKeyRecord } from '../../../src/tokens/index.js';
import type { StartedKeyless } from '../../../src/index.js';

export const enc = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

export const rs256 = (header: object, payload: object | string, key: KeyObject): string => {
  const input = `${enc(header)}.${typeof payload === 'string' ? Buffer.from(payload).toString('base64url') : enc(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
};

export const hs256 = (header: object, payload: object, secret: Buffer | string): string => {
  const input = `${enc(header)}.${enc(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

export const decode = (token: string, i: 0 | 1): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString('utf8')) as Record<string, unknown>;

export const attackerKey = (): { privateKey: KeyObject; publicKey: KeyObject } => generateKeyPairSync('rsa', { modulusLength: 2048 });

/**
 * The running server's signing keys, opened from its store and master key the way a second replica would. With
 * them a test signs tokens whose only fault is the one under test (wrong iss, future nbf …), so a rejection
 * proves the check and not a broken signature. Hold on to `active()` across a rotation to keep a retired key.
 */
export async function serverSigningKeys(k: StartedKeyless): Promise<{ kid: string; privateKey: KeyObject; publicPem: string }> {
  const provider = process.env['KEYLESS_MASTER_KEY'] ? envMasterKeyProvider('KEYLESS_MASTER_KEY') : fileMasterKeyProvider(k.config.masterKeyFile ?? path.join(k.dataDir, 'master.key'));
  const keyring = await Keyring.open(provider, dataKeyStore(k.store));
  const keys = await SigningKeys.open({
    repo: signingKeyRepository<SigningKeyRecord>(k.store),
    sealer: keyring,
    clock: k.clock,
    maxTokenLifetimeSec: Math.max(k.config.tokenLifetimeSec, k.config.appTokenLifetimeSec),
  });
  const active = keys.active();
  return { kid: active.kid, privateKey: active.privateKey, publicPem: createPublicKey(active.privateKey).export({ type: 'spki', format: 'pem' }).toString() };
}
