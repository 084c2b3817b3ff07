import { createHash, X509Certificate } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { newGuid } from '../core/ids.js';
import type { Store, Tx } from '../store/index.js';
import { repos } from '../store/index.js';
import type { PrincipalRow } from '../store/index.js';
import { generateClientSecret, hashSecret, secretHint, verifySecretHash } from './secrets.js';
import type { CertificateCredential, Principal, PrincipalKind } from './types.js';

const toPrincipal = (r: PrincipalRow): Principal => ({
  objectId: r.object_id,
  appId: r.app_id,
  tenantId: r.tenant_id,
  kind: r.kind,
  displayName: r.display_name,
  resourceId: r.resource_id,
  createdAt: r.created_at,
});

/**
 * Tenants' service principals and their credentials. Lookups are read-through cached; the cache entry is
 * dropped synchronously when the store publishes a change, so the next request after a delete sees it.
 */
export class Directory {
  private readonly byObjectId = new Map<string, Principal | null>();
  private readonly appToObject = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    store.onChange((c) => {
      if (c.topic === 'principal') this.forget(c.key);
      if (c.topic === 'all') {
        this.byObjectId.clear();
        this.appToObject.clear();
      }
    });
  }

  private forget(objectId: string): void {
    const p = this.byObjectId.get(objectId);
    if (p) this.appToObject.delete(p.appId);
    this.byObjectId.delete(objectId);
  }

  /** The principal if this replica has it in memory; undefined when deleted or not loaded (then use `get`). */
  peek(objectId: string): Principal | undefined {
    return this.byObjectId.get(objectId.toLowerCase()) ?? undefined;
  }

  async get(objectId: string): Promise<Principal | undefined> {
    const id = objectId.toLowerCase();
    const cached = this.byObjectId.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const row = await repos.principals.get(this.store.db, id);
    const p = row ? toPrincipal(row) : null;
    this.remember(id, p);
    return p ?? undefined;
  }

  async getByAppId(appId: string): Promise<Principal | undefined> {
    const id = appId.toLowerCase();
    const oid = this.appToObject.get(id);
    if (oid) return this.get(oid);
    const row = await repos.principals.byAppId(this.store.db, id);
    if (!row) return undefined;
    const p = toPrincipal(row);
    this.remember(p.objectId, p);
    return p;
  }

  private remember(objectId: string, p: Principal | null): void {
    // Bounded: negative entries for random ids must not grow without limit.
    if (this.byObjectId.size > 50_000) {
      this.byObjectId.clear();
      this.appToObject.clear();
    }
    this.byObjectId.set(objectId, p);
    if (p) this.appToObject.set(p.appId, p.objectId);
  }

  async list(): Promise<Principal[]> {
    return (await repos.principals.list(this.store.db)).map(toPrincipal);
  }

  async forResource(tx: Tx | undefined, resourceKey: string, kind?: PrincipalKind): Promise<Principal[]> {
    return (await repos.principals.byResource(tx ?? this.store.db, resourceKey, kind)).map(toPrincipal);
  }

  /** Creates the service principal behind a managed identity (inside the caller's transaction). */
  async createManagedIdentity(
    tx: Tx,
    changed: (c: { topic: 'principal'; key: string }) => void,
    input: { kind: 'SystemAssigned' | 'UserAssigned'; tenantId: string; resourceId: string; displayName: string },
  ): Promise<Principal> {
    const p: Principal = {
      objectId: newGuid(),
      appId: newGuid(),
      tenantId: input.tenantId,
      kind: input.kind,
      displayName: input.displayName,
      resourceId: input.resourceId,
      createdAt: this.clock.now(),
    };
    await repos.principals.insert(tx, toRow(p));
    changed({ topic: 'principal', key: p.objectId });
    return p;
  }

  async deletePrincipal(tx: Tx, changed: (c: { topic: 'principal'; key: string }) => void, objectId: string): Promise<void> {
    await repos.principals.delete(tx, objectId);
    changed({ topic: 'principal', key: objectId });
  }

  /** An application + service principal with one client secret; the plaintext is returned once. */
  async createApplication(input: { tenantId: string; displayName: string; appId?: string }): Promise<{ principal: Principal; secret: string }> {
    const p: Principal = {
      objectId: newGuid(),
      appId: input.appId ?? newGuid(),
      tenantId: input.tenantId,
      kind: 'Application',
      displayName: input.displayName,
      resourceId: null,
      createdAt: this.clock.now(),
    };
    const secret = await this.store.transaction(async (tx, changed) => {
      await repos.principals.insert(tx, toRow(p));
      changed({ topic: 'principal', key: p.objectId });
      return this.addSecretIn(tx, p.objectId, 'default');
    });
    return { principal: p, secret };
  }

  async addSecret(objectId: string, displayName = 'secret'): Promise<string> {
    return this.store.transaction((tx) => this.addSecretIn(tx, objectId, displayName));
  }

  private async addSecretIn(tx: Tx, objectId: string, displayName: string): Promise<string> {
    const secret = generateClientSecret();
    const now = this.clock.now();
    await repos.credentials.insert(tx, {
      id: newGuid(),
      object_id: objectId,
      kind: 'secret',
      display_name: displayName,
      secret_hash: hashSecret(secret),
      hint: secretHint(secret),
      thumbprint_sha1: null,
      thumbprint_sha256: null,
      cert_pem: null,
      start_at: now,
      end_at: now + 2 * 365 * 24 * 3600 * 1000,
      created_at: now,
    });
    return secret;
  }

  /**
   * Registers the public part of a certificate as a credential (an app's keyCredential). Thumbprints are upper-case
   * hex of the DER, SHA-1 as Azure shows it and SHA-256 for `x5t#S256`; registering the same certificate twice is a no-op.
   */
  async addCertificate(objectId: string, certPem: string, displayName?: string): Promise<CertificateCredential> {
    const cert = new X509Certificate(certPem);
    const sha1 = createHash('sha1').update(cert.raw).digest('hex').toUpperCase();
    const existing = (await this.certificates(objectId)).find((c) => c.thumbprintSha1 === sha1);
    if (existing) return existing;
    const row = {
      id: newGuid(),
      object_id: objectId.toLowerCase(),
      kind: 'certificate' as const,
      display_name: displayName ?? (/CN=([^\n,]+)/.exec(cert.subject)?.[1] ?? 'certificate'),
      secret_hash: null,
      hint: null,
      thumbprint_sha1: sha1,
      thumbprint_sha256: createHash('sha256').update(cert.raw).digest('hex').toUpperCase(),
      cert_pem: cert.toString(),
      start_at: Date.parse(cert.validFrom),
      end_at: Date.parse(cert.validTo),
      created_at: this.clock.now(),
    };
    await this.store.transaction(async (tx, changed) => {
      await repos.credentials.insert(tx, row);
      changed({ topic: 'credential', key: objectId.toLowerCase() });
    });
    return toCertificate(row);
  }

  /** A principal's certificate credentials (public parts only). */
  async certificates(objectId: string): Promise<CertificateCredential[]> {
    const creds = await repos.credentials.forPrincipal(this.store.db, objectId.toLowerCase());
    return creds.filter((c) => c.kind === 'certificate' && c.cert_pem && c.thumbprint_sha1).map(toCertificate);
  }

  /** Returns the application principal if `secret` is one of its current client secrets. */
  async verifyClientSecret(appId: string, secret: string): Promise<Principal | undefined> {
    const p = await this.getByAppId(appId);
    if (!p || p.kind !== 'Application') return undefined;
    const now = this.clock.now();
    const creds = await repos.credentials.forPrincipal(this.store.db, p.objectId);
    const ok = creds.some(
      (c) => c.kind === 'secret' && c.secret_hash && c.start_at <= now && now < c.end_at && verifySecretHash(secret, c.secret_hash),
    );
    return ok ? p : undefined;
  }
}

function toCertificate(c: {
  id: string;
  object_id: string;
  display_name: string;
  thumbprint_sha1: string | null;
  thumbprint_sha256: string | null;
  cert_pem: string | null;
  start_at: number;
  end_at: number;
}): CertificateCredential {
  return {
    id: c.id,
    objectId: c.object_id,
    displayName: c.display_name,
    thumbprintSha1: c.thumbprint_sha1 ?? '',
    thumbprintSha256: c.thumbprint_sha256 ?? '',
    certPem: c.cert_pem ?? '',
    startAt: c.start_at,
    endAt: c.end_at,
  };
}

function toRow(p: Principal): PrincipalRow {
  return {
    object_id: p.objectId,
    app_id: p.appId,
    tenant_id: p.tenantId,
    kind: p.kind,
    display_name: p.displayName,
    resource_id: p.resourceId,
    resource_key: p.resourceId?.toLowerCase() ?? null,
    created_at: p.createdAt,
  };
}
