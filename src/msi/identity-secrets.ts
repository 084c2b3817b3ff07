import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StoredResource } from '../resources/index.js';
import { repos, type Store } from '../store/index.js';

/** Seals secrets at rest (the keyring); declared here so msi does not depend on the server's wiring. */
export interface SecretSealer {
  seal(plaintext: Buffer | string, aad: string): string;
  open(sealed: string, aad: string): Buffer;
}

const KEY_NAME = 'msi.identitySecretKey';

/**
 * The secrets an identity endpoint checks to know who is calling: App Service's `X-IDENTITY-HEADER`
 * (and the 2017 `secret`), and the IDENTITY_HEADER a VM's own listener expects.
 *
 * A site's secret is random, generated when the site is created, and stored sealed (to hand it to
 * `keyless run --app`) and hashed (to find the site from a request without opening every seal).
 * A VM's is derived from a sealed server key, the VM and its IMDS address: the address already binds
 * the caller, so nothing per VM needs storing, and a VM recreated under the same name (new address)
 * gets a new secret.
 */
export class IdentitySecrets {
  private constructor(
    private readonly key: Buffer,
    private readonly sealer: SecretSealer,
  ) {}

  /** Loads the server key, creating it on first start (safe when several replicas start at once). */
  static async open(store: Store, sealer: SecretSealer): Promise<IdentitySecrets> {
    const sealed = await repos.meta.setIfAbsent(store.db, KEY_NAME, sealer.seal(randomBytes(32), KEY_NAME));
    return new IdentitySecrets(sealer.open(sealed, KEY_NAME), sealer);
  }

  vmSecret(hostKey: string, imdsAddress: string): string {
    return createHmac('sha256', this.key).update(`vm|${hostKey.toLowerCase()}|${imdsAddress}`).digest('hex').slice(0, 32).toUpperCase();
  }

  /** The plaintext of a site's secret, or undefined for a site written before it had one. */
  siteSecret(site: StoredResource): string | undefined {
    const sealed = site.internal[SITE_SEALED];
    return typeof sealed === 'string' ? this.sealer.open(sealed, siteAad(site.key)).toString('utf8') : undefined;
  }
}

/** Internal (never on the wire) fields of a Microsoft.Web/sites resource. */
export const SITE_SEALED = 'identityHeaderSealed';
export const SITE_HASH = 'identityHeaderHash';

const siteAad = (key: string) => `msi.identityHeader:${key.toLowerCase()}`;

/** A new site secret: 128 random bits as 32 upper-case hex digits, the shape App Service's MSI_SECRET has. */
export function newSiteSecret(sealer: SecretSealer, siteKey: string): { secret: string; internal: Record<string, string> } {
  const secret = randomBytes(16).toString('hex').toUpperCase();
  return { secret, internal: { [SITE_SEALED]: sealer.seal(secret, siteAad(siteKey)), [SITE_HASH]: secretHash(secret) } };
}

export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with the expected one (lengths may differ). */
export function sameSecret(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
