import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { KeylessError } from '../core/errors.js';
import type { Directory, Principal } from '../directory/index.js';
import type { Store, Tx, Change } from '../store/index.js';
import { repos } from '../store/index.js';
import type { ResourceRow } from '../store/index.js';
import { type DesiredIdentity, identityTypeString } from './identity-property.js';
import { parseResourceId } from './resource-id.js';
import type { ArmDocument, IdentityDocument, ResourceInternal, StoredResource } from './types.js';

const UAI_TYPE = 'microsoft.managedidentity/userassignedidentities';

const fromRow = (r: ResourceRow): StoredResource => ({
  key: r.key,
  id: r.id,
  typeKey: r.type_key,
  subscriptionId: r.subscription_id,
  groupKey: r.group_key,
  parentKey: r.parent_key,
  name: r.name,
  body: JSON.parse(r.body) as ArmDocument,
  internal: JSON.parse(r.internal) as ResourceInternal,
  etag: r.etag,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const newEtag = (): string => `"${randomBytes(8).toString('hex')}"`;

export interface ResourceEvents {
  /** Called inside the delete transaction for each resource removed (cascade included). */
  onDelete?(tx: Tx, changed: (c: Change) => void, r: StoredResource): Promise<void>;
}

/**
 * ARM resources as documents, and the managed-identity lifecycle they carry: a system-assigned identity is
 * born and dies with its host; a user-assigned identity is its own resource and only referenced by hosts.
 */
export class ResourceService {
  private readonly deleteHooks: NonNullable<ResourceEvents['onDelete']>[] = [];

  constructor(
    private readonly store: Store,
    private readonly directory: Directory,
    private readonly clock: Clock,
  ) {}

  onDelete(hook: NonNullable<ResourceEvents['onDelete']>): void {
    this.deleteHooks.push(hook);
  }

  async get(id: string, tx?: Tx): Promise<StoredResource | undefined> {
    const row = await repos.resources.get(tx ?? this.store.db, id.toLowerCase());
    return row ? fromRow(row) : undefined;
  }

  async list(filter: { subscriptionId?: string; groupKey?: string; typeKey?: string; parentKey?: string }): Promise<StoredResource[]> {
    return (await repos.resources.list(this.store.db, filter)).map(fromRow);
  }

  /** Writes a resource document; `mutate` runs inside the transaction with the current state. */
  async upsert(
    id: string,
    mutate: (tx: Tx, changed: (c: Change) => void, current: StoredResource | undefined) => Promise<{ body: ArmDocument; internal: ResourceInternal }>,
  ): Promise<{ resource: StoredResource; created: boolean }> {
    const parts = parseResourceId(id);
    if (!parts) throw new KeylessError(400, 'InvalidResourceId', `The resource id '${id}' is invalid.`);
    return this.store.transaction(async (tx, changed) => {
      const current = await this.get(id, tx);
      const { body, internal } = await mutate(tx, changed, current);
      const now = this.clock.now();
      const row: ResourceRow = {
        key: parts.key,
        id: current?.id && current.id.toLowerCase() === id.toLowerCase() ? preferNewCasing(current.id, id) : id,
        type_key: parts.typeKey,
        subscription_id: parts.subscriptionId,
        group_key: parts.groupKey,
        parent_key: parts.parentId?.toLowerCase() ?? null,
        name: parts.name,
        body: JSON.stringify(body),
        internal: JSON.stringify(internal),
        etag: newEtag(),
        created_at: current?.createdAt ?? now,
        updated_at: now,
      };
      await repos.resources.put(tx, row);
      changed({ topic: 'resource', key: parts.key });
      return { resource: fromRow(row), created: !current };
    });
  }

  /** Deletes a resource and everything under it (children, and for a group every contained resource). */
  async delete(id: string): Promise<StoredResource | undefined> {
    return this.store.transaction(async (tx, changed) => {
      const target = await this.get(id, tx);
      if (!target) return undefined;
      const victims = [...(await repos.resources.descendants(tx, target.key)).map(fromRow), target];
      // Children first, so hooks never see a child whose parent is already gone.
      victims.sort((a, b) => b.key.length - a.key.length);
      for (const r of victims) {
        await repos.resources.delete(tx, r.key);
        changed({ topic: 'resource', key: r.key });
        if (r.internal.systemPrincipalId) await this.directory.deletePrincipal(tx, changed, r.internal.systemPrincipalId);
        if (r.typeKey === UAI_TYPE) {
          const pid = r.body.properties?.['principalId'];
          if (typeof pid === 'string') await this.directory.deletePrincipal(tx, changed, pid);
        }
        for (const hook of this.deleteHooks) await hook(tx, changed, r);
      }
      return target;
    });
  }

  /**
   * Applies a desired identity to a host resource inside its write transaction: creates or deletes the
   * system-assigned principal, checks every user-assigned identity exists, and renders the wire `identity`.
   */
  async applyIdentity(
    tx: Tx,
    changed: (c: Change) => void,
    host: { id: string; tenantId: string; name: string; current: StoredResource | undefined; internal: ResourceInternal },
    desired: DesiredIdentity,
  ): Promise<{ identity: IdentityDocument | undefined; internal: ResourceInternal }> {
    const internal: ResourceInternal = { ...host.internal };
    // Only the transaction's own connection may be used here: SQLite has one, and a second query would wait on it.
    if (desired.system && !internal.systemPrincipalId) {
      const created: Principal = await this.directory.createManagedIdentity(tx, changed, {
        kind: 'SystemAssigned',
        tenantId: host.tenantId,
        resourceId: host.id,
        displayName: host.name,
      });
      internal.systemPrincipalId = created.objectId;
    }
    if (!desired.system && internal.systemPrincipalId) {
      await this.directory.deletePrincipal(tx, changed, internal.systemPrincipalId);
      delete internal.systemPrincipalId;
    }
    const userAssigned: Record<string, { principalId: string; clientId: string }> = {};
    const attached: Record<string, string> = {};
    for (const [key, displayId] of desired.userAssigned) {
      const uai = await this.get(key, tx);
      const props = uai?.body.properties;
      if (!uai || uai.typeKey !== UAI_TYPE || typeof props?.['principalId'] !== 'string') {
        // An identity that vanished after it was attached stays listed, as in Azure; a new one must exist.
        const previously = host.current?.internal.userAssigned?.[key];
        if (previously && host.current?.body.identity?.userAssignedIdentities) {
          const old = Object.entries(host.current.body.identity.userAssignedIdentities).find(([k]) => k.toLowerCase() === key);
          if (old) {
            userAssigned[old[0]] = old[1];
            attached[key] = old[0];
            continue;
          }
        }
        throw new KeylessError(
          400,
          'FailedIdentityOperation',
          `Identity operation for resource '${host.id}' failed with error 'Resource '${displayId}' was not found.'.`,
        );
      }
      userAssigned[uai.id] = { principalId: props['principalId'] as string, clientId: props['clientId'] as string };
      attached[key] = uai.id;
    }
    internal.userAssigned = attached;
    const type = identityTypeString(desired);
    if (type === 'None') {
      delete internal.userAssigned;
      return { identity: host.current?.body.identity ? { type: 'None' } : undefined, internal };
    }
    const identity: IdentityDocument = { type };
    if (desired.system && internal.systemPrincipalId) {
      identity.principalId = internal.systemPrincipalId;
      identity.tenantId = host.tenantId;
    }
    if (desired.userAssigned.size > 0) identity.userAssignedIdentities = userAssigned;
    return { identity, internal };
  }

  /** The desired-identity view of what a resource currently has. */
  currentIdentity(r: StoredResource | undefined): DesiredIdentity {
    const user = new Map<string, string>();
    for (const [k, v] of Object.entries(r?.internal.userAssigned ?? {})) user.set(k, v);
    return { system: Boolean(r?.internal.systemPrincipalId), userAssigned: user };
  }
}

/** ARM keeps the most recently supplied casing of a name. */
const preferNewCasing = (_old: string, next: string): string => next;
