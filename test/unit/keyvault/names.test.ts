import { describe, expect, it } from 'vitest';
import { hostPort, isValidSecretName, isValidVaultName, vaultBaseUrl, vaultEnvName, vaultNameFromHost } from '../../../src/keyvault/names.js';

describe('vault names', () => {
  it.each(['abc', 'my-vault', 'Vault1', 'a'.repeat(24), 'a1-b2-c3'])('accepts %s', (n) => expect(isValidVaultName(n)).toBe(true));
  it.each(['ab', 'a'.repeat(25), '1vault', '-vault', 'vault-', 'my--vault', 'my_vault', 'my.vault', 'vault '])('rejects %j', (n) =>
    expect(isValidVaultName(n)).toBe(false),
  );
});

describe('secret names', () => {
  it.each(['s', 'my-secret', 'ABC-123', 'a'.repeat(127)])('accepts %s', (n) => expect(isValidSecretName(n)).toBe(true));
  it.each(['', 'a'.repeat(128), 'my_secret', 'my.secret', 'sp ace', 'ü'])('rejects %j', (n) => expect(isValidSecretName(n)).toBe(false));
});

describe('vault hosts and URLs', () => {
  it('finds the vault in the Host header, with or without port and in any case', () => {
    expect(vaultNameFromHost('kv1.vault.keyless.localhost:8443', 'keyless.localhost')).toBe('kv1');
    expect(vaultNameFromHost('KV1.Vault.Keyless.Localhost', 'keyless.localhost')).toBe('kv1');
    expect(vaultNameFromHost('a.b.vault.keyless.localhost', 'keyless.localhost')).toBeUndefined();
    expect(vaultNameFromHost('vault.keyless.localhost', 'keyless.localhost')).toBeUndefined();
    expect(vaultNameFromHost('kv1.blob.keyless.localhost', 'keyless.localhost')).toBeUndefined();
    expect(vaultNameFromHost(undefined, 'keyless.localhost')).toBeUndefined();
  });

  it('names the port only when it is not 443', () => {
    expect(vaultBaseUrl('KV1', 'keyless.localhost', 8443)).toBe('https://kv1.vault.keyless.localhost:8443');
    expect(vaultBaseUrl('kv1', 'keyless.localhost', 443)).toBe('https://kv1.vault.keyless.localhost');
    expect(hostPort('x.vault.s:8443')).toBe('8443');
    expect(hostPort('x.vault.s')).toBeUndefined();
  });

  it('exports vault URLs under KEYLESS_VAULT_<NAME>_URL', () => {
    expect(vaultEnvName('my-app-kv')).toBe('KEYLESS_VAULT_MY_APP_KV_URL');
  });
});
