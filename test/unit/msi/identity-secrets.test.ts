import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentitySecrets, SITE_HASH, SITE_SEALED, newSiteSecret, sameSecret, secretHash } from '../../../src/msi/identity-secrets.js';
import { Store } from '../../../src/store/index.js';
import type { StoredResource } from '../../../src/resources/index.js';

/** A real AEAD sealer (AES-GCM with the aad bound), standing in for the keyring. */
function testSealer() {
  const key = randomBytes(32);
  return {
    seal(p: Buffer | string, aad: string) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad));
      const body = Buffer.concat([c.update(p), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
    },
    open(s: string, aad: string) {
      const b = Buffer.from(s, 'base64');
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12)).setAAD(Buffer.from(aad));
      d.setAuthTag(b.subarray(12, 28));
      return Buffer.concat([d.update(b.subarray(28)), d.final()]);
    },
  };
}

const site = (key: string, internal: Record<string, unknown>) => ({ key, internal }) as unknown as StoredResource;

describe('identity-endpoint secrets', () => {
  let store: Store;
  const sealer = testSealer();
  beforeAll(async () => {
    store = await Store.open({ memory: true });
  });
  afterAll(async () => store?.close());

  it('a site secret is 128 random bits, stored sealed (bound to the site) and hashed, never in the clear', async () => {
    const { secret, internal } = newSiteSecret(sealer, '/subscriptions/s/resourcegroups/g/providers/microsoft.web/sites/a');
    expect(secret).toMatch(/^[0-9A-F]{32}$/);
    expect(JSON.stringify(internal)).not.toContain(secret);
    expect(internal[SITE_HASH]).toBe(secretHash(secret));
    const secrets = await IdentitySecrets.open(store, sealer);
    expect(secrets.siteSecret(site('/subscriptions/s/resourcegroups/g/providers/microsoft.web/sites/a', internal))).toBe(secret);
    // The seal names its site: moved onto another resource it does not open.
    expect(() => secrets.siteSecret(site('/subscriptions/s/resourcegroups/g/providers/microsoft.web/sites/b', internal))).toThrow();
    expect(secrets.siteSecret(site('x', {}))).toBeUndefined();
    expect(newSiteSecret(sealer, 'k').secret).not.toBe(secret);
    expect(internal[SITE_SEALED]).toBeTypeOf('string');
  });

  it('a VM secret is derived: stable for the VM and its address, different for another VM or a new address', async () => {
    const a = await IdentitySecrets.open(store, sealer);
    const again = await IdentitySecrets.open(store, sealer);
    const s = a.vmSecret('/subscriptions/s/resourcegroups/g/providers/microsoft.compute/virtualmachines/vm1', '127.77.0.1');
    expect(s).toMatch(/^[0-9A-F]{32}$/);
    // Same server key (created once, kept sealed in the store): same secret after a restart.
    expect(again.vmSecret('/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1', '127.77.0.1')).toBe(s);
    expect(a.vmSecret('/subscriptions/s/resourcegroups/g/providers/microsoft.compute/virtualmachines/vm2', '127.77.0.1')).not.toBe(s);
    expect(a.vmSecret('/subscriptions/s/resourcegroups/g/providers/microsoft.compute/virtualmachines/vm1', '127.77.0.2')).not.toBe(s);
  });

  it('compares secrets in constant time, whatever their lengths', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('a', 'a much longer secret')).toBe(false);
    expect(sameSecret(undefined, 'x')).toBe(false);
    expect(sameSecret('', '')).toBe(true);
  });
});
