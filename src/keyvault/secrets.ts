import { timeOrderedGuid } from '../core/ids.js';
import type { Clock } from '../core/clock.js';
import type { Sealer } from '../server/plugin.js';
import type { Store, Tx } from '../store/index.js';
import {
  badParameter,
  corruptBackup,
  deletedSecretNotFound,
  kvError,
  purgeNotAllowed,
  secretDeletedButRecoverable,
  secretNotFound,
} from './errors.js';
import { heads, versions, type SecretHeadRow, type SecretVersionRow } from './repository.js';
import { LatestSecretCache, secretChange, type OpenSecret } from './secret-cache.js';
import type { VaultInfo } from './vault-info.js';

/** A secret version's metadata; times are epoch seconds as on the wire. */
export interface SecretVersionView {
  name: string;
  version: string;
  contentType: string | undefined;
  tags: Record<string, string> | undefined;
  enabled: boolean;
  nbf: number | undefined;
  exp: number | undefined;
  created: number;
  updated: number;
}

export interface DeletedView {
  secret: SecretVersionView;
  deletedDate: number;
  scheduledPurgeDate: number;
}

export interface SecretInput {
  value: string;
  contentType?: string | undefined;
  tags?: Record<string, string> | undefined;
  enabled?: boolean | undefined;
  nbf?: number | undefined;
  exp?: number | undefined;
}

export interface SecretPatch {
  contentType?: string | null | undefined;
  tags?: Record<string, string> | null | undefined;
  enabled?: boolean | undefined;
  nbf?: number | null | undefined;
  exp?: number | null | undefined;
}

/** Azure's limit on a secret value (25 KB). */
export const MAX_SECRET_VALUE = 25 * 1024;
const BACKUP_PREFIX = 'KeylessKeyVaultSecretBackupV1.';
const DAY_MS = 86_400_000;

/**
 * Secrets with versions, soft delete and backups. Values are sealed at rest with AAD binding vault, name
 * and version, so a sealed value copied to another row does not open. Names compare case-insensitively.
 */
export class SecretService {
  private readonly latest: LatestSecretCache;

  constructor(
    private readonly store: Store,
    private readonly sealer: Sealer,
    private readonly clock: Clock,
  ) {
    this.latest = new LatestSecretCache(store);
  }

  async set(vault: VaultInfo, name: string, input: SecretInput): Promise<{ view: SecretVersionView; value: string }> {
    checkValue(input.value);
    const nameKey = name.toLowerCase();
    const now = this.clock.now();
    // 32 hex digits like Azure's, but time-ordered: a random version id is a random insert into the versions' key
    // index, one more page to write back per new version once the index outgrows the cache (bench/NOTES.md).
    const version = timeOrderedGuid(now).replace(/-/g, '');
    return this.store.transaction(async (tx, changed) => {
      const head = await this.currentHead(tx, vault, nameKey);
      if (head && head.deleted_at !== null) throw secretDeletedButRecoverable(head.name);
      changed(secretChange(vault.nameKey, nameKey));
      const row: SecretVersionRow = {
        vault_key: vault.nameKey,
        name_key: nameKey,
        version,
        sealed_value: this.sealer.seal(input.value, valueAad(vault.nameKey, nameKey, version)),
        content_type: input.contentType ?? null,
        tags: input.tags ? JSON.stringify(input.tags) : null,
        enabled: input.enabled === false ? 0 : 1,
        nbf: input.nbf ?? null,
        exp: input.exp ?? null,
        created_at: now,
        updated_at: now,
        seq: await versions.nextSeq(tx, vault.nameKey, nameKey),
      };
      await versions.insert(tx, row);
      if (head) await heads.update(tx, vault.nameKey, nameKey, { latest_version: version });
      else await heads.insert(tx, { vault_key: vault.nameKey, name_key: nameKey, name, latest_version: version, deleted_at: null, scheduled_purge_at: null, created_at: now });
      return { view: toView(head?.name ?? name, row), value: input.value };
    });
  }

  /** The latest version if it is in the cache (no query, no open); undefined otherwise (then use `get`). */
  peekLatest(vault: VaultInfo, name: string): OpenSecret | undefined {
    return this.latest.get(vault.nameKey, name.toLowerCase());
  }

  /** The latest version (no `version`) or a given one, with its value opened. Disabled-ness is the caller's call. */
  async get(vault: VaultInfo, name: string, version?: string): Promise<OpenSecret> {
    // Only the latest is cached: that is what applications read on every start and refresh.
    if (version) return this.open(vault, name, version);
    const nameKey = name.toLowerCase();
    const hit = this.latest.get(vault.nameKey, nameKey);
    if (hit) return hit;
    const generation = this.latest.generation();
    const opened = await this.open(vault, name, undefined);
    this.latest.set(generation, vault.nameKey, nameKey, opened);
    return opened;
  }

  private async open(vault: VaultInfo, name: string, version: string | undefined): Promise<OpenSecret> {
    const { head, row } = await this.live(this.store.db, vault, name, version);
    const value = this.sealer.open(row.sealed_value, valueAad(vault.nameKey, row.name_key, row.version)).toString('utf8');
    // Frozen because a cached view is shared by every request that reads it.
    const view = toView(head.name, row);
    if (view.tags) Object.freeze(view.tags);
    return { view: Object.freeze(view), value };
  }

  async metadata(vault: VaultInfo, name: string, version?: string): Promise<SecretVersionView> {
    const { head, row } = await this.live(this.store.db, vault, name, version);
    return toView(head.name, row);
  }

  async update(vault: VaultInfo, name: string, version: string | undefined, patch: SecretPatch): Promise<SecretVersionView> {
    return this.store.transaction(async (tx, changed) => {
      const { head, row } = await this.live(tx, vault, name, version);
      changed(secretChange(vault.nameKey, row.name_key));
      const set: Parameters<typeof versions.update>[4] = { updated_at: this.clock.now() };
      if (patch.contentType !== undefined) set.content_type = patch.contentType;
      if (patch.tags !== undefined) set.tags = patch.tags === null ? null : JSON.stringify(patch.tags);
      if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
      if (patch.nbf !== undefined) set.nbf = patch.nbf;
      if (patch.exp !== undefined) set.exp = patch.exp;
      await versions.update(tx, vault.nameKey, row.name_key, row.version, set);
      return toView(head.name, { ...row, ...set });
    });
  }

  async list(vault: VaultInfo, after: string | undefined, size: number): Promise<{ items: SecretVersionView[]; next: string | undefined }> {
    const rows = await heads.page(this.store.db, vault.nameKey, false, after, size + 1);
    return pageOf(rows, size, (r) => toView(r.name, r.latest), (r) => r.name_key);
  }

  async listVersions(vault: VaultInfo, name: string, after: string | undefined, size: number): Promise<{ items: SecretVersionView[]; next: string | undefined }> {
    const nameKey = name.toLowerCase();
    const head = await heads.get(this.store.db, vault.nameKey, nameKey);
    // Key Vault answers an empty list, not 404, for a name it does not hold.
    if (!head || head.deleted_at !== null) return { items: [], next: undefined };
    const afterSeq = after === undefined ? undefined : Number(after);
    if (afterSeq !== undefined && !Number.isInteger(afterSeq)) throw badParameter(`Invalid value for $skiptoken.`);
    const rows = await versions.page(this.store.db, vault.nameKey, nameKey, afterSeq, size + 1);
    return pageOf(rows, size, (r) => toView(head.name, r), (r) => String(r.seq));
  }

  async delete(vault: VaultInfo, name: string): Promise<DeletedView> {
    const now = this.clock.now();
    return this.store.transaction(async (tx, changed) => {
      const { head, row } = await this.live(tx, vault, name, undefined);
      changed(secretChange(vault.nameKey, head.name_key));
      const purgeAt = now + vault.softDeleteDays * DAY_MS;
      await heads.update(tx, vault.nameKey, head.name_key, { deleted_at: now, scheduled_purge_at: purgeAt });
      return { secret: toView(head.name, row), deletedDate: sec(now), scheduledPurgeDate: sec(purgeAt) };
    });
  }

  async getDeleted(vault: VaultInfo, name: string): Promise<DeletedView> {
    const { head, row } = await this.deleted(this.store.db, vault, name);
    return deletedView(head, row);
  }

  async listDeleted(vault: VaultInfo, after: string | undefined, size: number): Promise<{ items: DeletedView[]; next: string | undefined }> {
    const now = this.clock.now();
    const rows = (await heads.page(this.store.db, vault.nameKey, true, after, size + 1)).filter((r) => (r.scheduled_purge_at ?? 0) > now);
    return pageOf(rows, size, (r) => deletedView(r, r.latest), (r) => r.name_key);
  }

  async recover(vault: VaultInfo, name: string): Promise<SecretVersionView> {
    return this.store.transaction(async (tx, changed) => {
      const { head, row } = await this.deleted(tx, vault, name);
      changed(secretChange(vault.nameKey, head.name_key));
      await heads.update(tx, vault.nameKey, head.name_key, { deleted_at: null, scheduled_purge_at: null });
      return toView(head.name, row);
    });
  }

  async purge(vault: VaultInfo, name: string): Promise<void> {
    if (vault.purgeProtection) {
      // Still a 404 for a name that is not in the recycle bin, as for any vault.
      await this.deleted(this.store.db, vault, name);
      throw purgeNotAllowed();
    }
    await this.store.transaction(async (tx, changed) => {
      const { head } = await this.deleted(tx, vault, name);
      changed(secretChange(vault.nameKey, head.name_key));
      await heads.deleteOne(tx, vault.nameKey, head.name_key);
    });
  }

  /** An opaque blob holding every version, sealed; it opens only in a vault of the same subscription. */
  async backup(vault: VaultInfo, name: string): Promise<string> {
    const { head } = await this.live(this.store.db, vault, name, undefined);
    const rows = await versions.all(this.store.db, vault.nameKey, head.name_key);
    const doc: BackupDocument = {
      v: 1,
      name: head.name,
      latest: head.latest_version,
      versions: rows.map((r) => ({
        version: r.version,
        value: this.sealer.open(r.sealed_value, valueAad(vault.nameKey, r.name_key, r.version)).toString('base64'),
        contentType: r.content_type,
        tags: r.tags,
        enabled: r.enabled === 1,
        nbf: r.nbf,
        exp: r.exp,
        created: r.created_at,
        updated: r.updated_at,
        seq: r.seq,
      })),
    };
    const sealed = this.sealer.seal(JSON.stringify(doc), backupAad(vault.subscriptionId));
    return Buffer.from(BACKUP_PREFIX + sealed, 'utf8').toString('base64url');
  }

  async restore(vault: VaultInfo, blob: string): Promise<SecretVersionView> {
    const doc = this.openBackup(vault, blob);
    const nameKey = doc.name.toLowerCase();
    return this.store.transaction(async (tx, changed) => {
      const head = await this.currentHead(tx, vault, nameKey);
      if (head && head.deleted_at !== null) throw secretDeletedButRecoverable(head.name);
      if (head) throw kvError(409, 'Conflict', `Secret ${head.name} already exists.`);
      let latest: SecretVersionRow | undefined;
      for (const v of doc.versions) {
        const row: SecretVersionRow = {
          vault_key: vault.nameKey,
          name_key: nameKey,
          version: v.version,
          sealed_value: this.sealer.seal(Buffer.from(v.value, 'base64'), valueAad(vault.nameKey, nameKey, v.version)),
          content_type: v.contentType,
          tags: v.tags,
          enabled: v.enabled ? 1 : 0,
          nbf: v.nbf,
          exp: v.exp,
          created_at: v.created,
          updated_at: v.updated,
          seq: v.seq,
        };
        await versions.insert(tx, row);
        if (v.version === doc.latest) latest = row;
      }
      if (!latest) throw corruptBackup();
      changed(secretChange(vault.nameKey, nameKey));
      await heads.insert(tx, { vault_key: vault.nameKey, name_key: nameKey, name: doc.name, latest_version: doc.latest, deleted_at: null, scheduled_purge_at: null, created_at: this.clock.now() });
      return toView(doc.name, latest);
    });
  }

  /** Drops soft-deleted secrets past their scheduled purge date. */
  async sweep(): Promise<number> {
    const expired = await heads.expired(this.store.db, this.clock.now());
    for (const e of expired)
      await this.store.transaction((tx, changed) => {
        changed(secretChange(e.vault_key, e.name_key));
        return heads.deleteOne(tx, e.vault_key, e.name_key);
      });
    return expired.length;
  }

  private openBackup(vault: VaultInfo, blob: string): BackupDocument {
    let text: string;
    try {
      text = Buffer.from(blob, 'base64url').toString('utf8');
      if (!text.startsWith(BACKUP_PREFIX)) throw corruptBackup();
      const doc = JSON.parse(this.sealer.open(text.slice(BACKUP_PREFIX.length), backupAad(vault.subscriptionId)).toString('utf8')) as BackupDocument;
      if (doc.v !== 1 || typeof doc.name !== 'string' || !Array.isArray(doc.versions)) throw corruptBackup();
      return doc;
    } catch {
      throw corruptBackup();
    }
  }

  /** The name's row, after dropping a soft-deleted one whose retention ran out (the sweep may not have yet). */
  private async currentHead(tx: Tx, vault: VaultInfo, nameKey: string): Promise<SecretHeadRow | undefined> {
    const head = await heads.get(tx, vault.nameKey, nameKey);
    if (head && head.deleted_at !== null && (head.scheduled_purge_at ?? 0) <= this.clock.now()) {
      await heads.deleteOne(tx, vault.nameKey, nameKey);
      return undefined;
    }
    return head;
  }

  private async live(q: Store['db'] | Tx, vault: VaultInfo, name: string, version: string | undefined): Promise<{ head: SecretHeadRow; row: SecretVersionRow }> {
    const nameKey = name.toLowerCase();
    const head = await heads.get(q, vault.nameKey, nameKey);
    if (!head || head.deleted_at !== null) throw secretNotFound(name, version);
    const row = await versions.get(q, vault.nameKey, nameKey, version ? version.toLowerCase() : head.latest_version);
    if (!row) throw secretNotFound(name, version);
    return { head, row };
  }

  private async deleted(q: Store['db'] | Tx, vault: VaultInfo, name: string): Promise<{ head: SecretHeadRow; row: SecretVersionRow }> {
    const nameKey = name.toLowerCase();
    const head = await heads.get(q, vault.nameKey, nameKey);
    if (!head || head.deleted_at === null || (head.scheduled_purge_at ?? 0) <= this.clock.now()) throw deletedSecretNotFound(name);
    const row = await versions.get(q, vault.nameKey, nameKey, head.latest_version);
    if (!row) throw deletedSecretNotFound(name);
    return { head, row };
  }
}

interface BackupDocument {
  v: 1;
  name: string;
  latest: string;
  versions: {
    version: string;
    value: string;
    contentType: string | null;
    tags: string | null;
    enabled: boolean;
    nbf: number | null;
    exp: number | null;
    created: number;
    updated: number;
    seq: number;
  }[];
}

const valueAad = (vaultKey: string, nameKey: string, version: string): string => `keyvault/secret/${vaultKey}/${nameKey}/${version}`;
const backupAad = (subscriptionId: string): string => `keyvault/secret-backup/v1/${subscriptionId.toLowerCase()}`;
const sec = (ms: number): number => Math.floor(ms / 1000);

function checkValue(value: string): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE) throw badParameter(`The secret value exceeds the maximum allowed size of ${MAX_SECRET_VALUE} bytes.`);
}

function toView(name: string, r: Pick<SecretVersionRow, 'version' | 'content_type' | 'tags' | 'enabled' | 'nbf' | 'exp' | 'created_at' | 'updated_at'>): SecretVersionView {
  return {
    name,
    version: r.version,
    contentType: r.content_type ?? undefined,
    tags: r.tags ? (JSON.parse(r.tags) as Record<string, string>) : undefined,
    enabled: r.enabled === 1,
    nbf: r.nbf ?? undefined,
    exp: r.exp ?? undefined,
    created: sec(r.created_at),
    updated: sec(r.updated_at),
  };
}

function deletedView(head: SecretHeadRow, row: SecretVersionRow): DeletedView {
  return { secret: toView(head.name, row), deletedDate: sec(head.deleted_at ?? 0), scheduledPurgeDate: sec(head.scheduled_purge_at ?? 0) };
}

function pageOf<R, T>(rows: R[], size: number, view: (r: R) => T, key: (r: R) => string): { items: T[]; next: string | undefined } {
  const items = rows.slice(0, size);
  return { items: items.map(view), next: rows.length > size && items.length > 0 ? key(items[items.length - 1]!) : undefined };
}

