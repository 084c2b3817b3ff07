import { sql, type Selectable } from 'kysely';
import type { Db, Tx } from './store.js';
import type {
  CredentialTable,
  PrincipalTable,
  ResourceTable,
  RoleAssignmentTable,
  DenyAssignmentTable,
  RoleDefinitionTable,
  SubscriptionTable,
  TenantTable,
} from './schema.js';

/** Thin, typed statements. Domain modules call these through the interfaces they declare, never raw SQL. */
type Q = Db | Tx;

export type PrincipalRow = Selectable<PrincipalTable>;
export type CredentialRow = Selectable<CredentialTable>;
export type ResourceRow = Selectable<ResourceTable>;
export type RoleAssignmentRow = Selectable<RoleAssignmentTable>;
/** Where a paged read of role assignments stopped (the last row's write time and name). */
export type AssignmentPosition = Pick<RoleAssignmentRow, 'created_at' | 'name'>;
export type DenyAssignmentRow = Selectable<DenyAssignmentTable>;
export type RoleDefinitionRow = Selectable<RoleDefinitionTable>;
export type SubscriptionRow = Selectable<SubscriptionTable>;
export type TenantRow = Selectable<TenantTable>;

export const meta = {
  async get(q: Q, key: string): Promise<string | undefined> {
    const row = await q.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  },
  async set(q: Q, key: string, value: string): Promise<void> {
    await q
      .insertInto('meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  },
  /** Insert only if absent; returns the value that won (ours or a concurrent replica's). */
  async setIfAbsent(q: Q, key: string, value: string): Promise<string> {
    await q.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
    return (await meta.get(q, key)) ?? value;
  },
};

export const tenants = {
  async insert(q: Q, row: TenantRow): Promise<void> {
    await q.insertInto('tenants').values(row).onConflict((oc) => oc.column('id').doNothing()).execute();
  },
  async get(q: Q, id: string): Promise<TenantRow | undefined> {
    return q.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  },
};

export const subscriptions = {
  async insert(q: Q, row: SubscriptionRow): Promise<void> {
    await q.insertInto('subscriptions').values(row).onConflict((oc) => oc.column('id').doNothing()).execute();
  },
  async get(q: Q, id: string): Promise<SubscriptionRow | undefined> {
    return q.selectFrom('subscriptions').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
  },
  async list(q: Q): Promise<SubscriptionRow[]> {
    return q.selectFrom('subscriptions').selectAll().orderBy('created_at').execute();
  },
};

export const principals = {
  async insert(q: Q, row: PrincipalRow): Promise<void> {
    await q.insertInto('principals').values(row).execute();
  },
  async get(q: Q, objectId: string): Promise<PrincipalRow | undefined> {
    return q.selectFrom('principals').selectAll().where('object_id', '=', objectId.toLowerCase()).executeTakeFirst();
  },
  async byAppId(q: Q, appId: string): Promise<PrincipalRow | undefined> {
    return q.selectFrom('principals').selectAll().where('app_id', '=', appId.toLowerCase()).executeTakeFirst();
  },
  async byResource(q: Q, resourceKey: string, kind?: PrincipalRow['kind']): Promise<PrincipalRow[]> {
    let s = q.selectFrom('principals').selectAll().where('resource_key', '=', resourceKey);
    if (kind) s = s.where('kind', '=', kind);
    return s.execute();
  },
  async list(q: Q): Promise<PrincipalRow[]> {
    return q.selectFrom('principals').selectAll().orderBy('created_at').execute();
  },
  async delete(q: Q, objectId: string): Promise<void> {
    await q.deleteFrom('principals').where('object_id', '=', objectId).execute();
  },
};

export const credentials = {
  async insert(q: Q, row: CredentialRow): Promise<void> {
    await q.insertInto('credentials').values(row).execute();
  },
  async forPrincipal(q: Q, objectId: string): Promise<CredentialRow[]> {
    return q.selectFrom('credentials').selectAll().where('object_id', '=', objectId).execute();
  },
};

export const resources = {
  async get(q: Q, key: string): Promise<ResourceRow | undefined> {
    return q.selectFrom('resources').selectAll().where('key', '=', key).executeTakeFirst();
  },
  async put(q: Q, row: ResourceRow): Promise<void> {
    // created_at keeps its first value across re-PUTs, as ARM's systemData.createdAt does.
    const { key: _k, created_at: _c, ...rest } = row;
    await q.insertInto('resources').values(row).onConflict((oc) => oc.column('key').doUpdateSet(rest)).execute();
  },
  /** Compare-and-set on the ETag: the write wins only if nobody changed the row since `etag` was read. */
  async replaceIfEtag(q: Q, row: ResourceRow, etag: string): Promise<boolean> {
    const { key, created_at: _c, ...rest } = row;
    const r = await q.updateTable('resources').set(rest).where('key', '=', key).where('etag', '=', etag).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async delete(q: Q, key: string): Promise<boolean> {
    const r = await q.deleteFrom('resources').where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
  async list(q: Q, filter: { subscriptionId?: string; groupKey?: string; typeKey?: string; parentKey?: string }): Promise<ResourceRow[]> {
    let s = q.selectFrom('resources').selectAll();
    if (filter.subscriptionId) s = s.where('subscription_id', '=', filter.subscriptionId);
    if (filter.groupKey !== undefined) s = s.where('group_key', '=', filter.groupKey);
    if (filter.typeKey) s = s.where('type_key', '=', filter.typeKey);
    if (filter.parentKey) s = s.where('parent_key', '=', filter.parentKey);
    return s.orderBy('created_at').orderBy('key').execute();
  },
  /** Everything whose id lies under `prefixKey` (children, grandchildren), for cascading deletes. */
  async descendants(q: Q, prefixKey: string): Promise<ResourceRow[]> {
    const escaped = prefixKey.replace(/[\\%_]/g, (c) => '\\' + c);
    return q
      .selectFrom('resources')
      .selectAll()
      // ESCAPE is explicit: PostgreSQL defaults to backslash, SQLite has no default escape character.
      .where(sql<boolean>`key like ${`${escaped}/%`} escape '\\'`)
      .execute()
      .then((rows) => rows.filter((r) => r.key.startsWith(prefixKey + '/')));
  },
};

export const roleAssignments = {
  async insert(q: Q, row: RoleAssignmentRow): Promise<void> {
    await q.insertInto('role_assignments').values(row).execute();
  },
  async get(q: Q, name: string): Promise<RoleAssignmentRow | undefined> {
    return q.selectFrom('role_assignments').selectAll().where('name', '=', name.toLowerCase()).executeTakeFirst();
  },
  async find(q: Q, scopeKey: string, principalId: string, roleName: string): Promise<RoleAssignmentRow | undefined> {
    return q
      .selectFrom('role_assignments')
      .selectAll()
      .where('scope_key', '=', scopeKey)
      .where('principal_id', '=', principalId)
      .where('role_definition_name', '=', roleName)
      .executeTakeFirst();
  },
  async list(q: Q): Promise<RoleAssignmentRow[]> {
    return q.selectFrom('role_assignments').selectAll().orderBy('created_at').orderBy('name').execute();
  },
  /** Every name, without the bodies. */
  async names(q: Q): Promise<string[]> {
    return (await q.selectFrom('role_assignments').select('name').execute()).map((r) => r.name);
  },
  /**
   * Up to `limit` assignments in `list()` order (write order, then name), after the position `after` — a page
   * read from the (created_at, name) index, so reading them all never sorts or holds the whole table.
   */
  async page(q: Q, after: AssignmentPosition | undefined, limit: number): Promise<(AssignmentPosition & { body: string })[]> {
    let query = q.selectFrom('role_assignments').select(['created_at', 'name', 'body']);
    if (after) {
      query = query.where((eb) => eb.or([eb('created_at', '>', after.created_at), eb.and([eb('created_at', '=', after.created_at), eb('name', '>', after.name)])]));
    }
    return query.orderBy('created_at').orderBy('name').limit(limit).execute();
  },
  async delete(q: Q, name: string): Promise<boolean> {
    const r = await q.deleteFrom('role_assignments').where('name', '=', name.toLowerCase()).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
};

export const roleDefinitions = {
  async put(q: Q, row: RoleDefinitionRow): Promise<void> {
    await q
      .insertInto('role_definitions')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet({ body: row.body, updated_at: row.updated_at }))
      .execute();
  },
  async get(q: Q, name: string): Promise<RoleDefinitionRow | undefined> {
    return q.selectFrom('role_definitions').selectAll().where('name', '=', name.toLowerCase()).executeTakeFirst();
  },
  async list(q: Q): Promise<RoleDefinitionRow[]> {
    return q.selectFrom('role_definitions').selectAll().execute();
  },
  async delete(q: Q, name: string): Promise<boolean> {
    const r = await q.deleteFrom('role_definitions').where('name', '=', name.toLowerCase()).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
};

export const denyAssignments = {
  async put(q: Q, row: DenyAssignmentRow): Promise<void> {
    await q
      .insertInto('deny_assignments')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet({ body: row.body, scope_key: row.scope_key }))
      .execute();
  },
  async list(q: Q): Promise<DenyAssignmentRow[]> {
    return q.selectFrom('deny_assignments').selectAll().execute();
  },
  async delete(q: Q, name: string): Promise<boolean> {
    const r = await q.deleteFrom('deny_assignments').where('name', '=', name.toLowerCase()).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
};
