import type { Caller } from '../../core/caller.js';
import { KeylessError } from '../../core/errors.js';
import { repos } from '../../store/index.js';
import type { ArmDeps, ArmResponse } from '../context.js';
import { armError, invalidName, locationRequired, methodNotAllowed, resourceGroupNotFound, subscriptionNotFound } from '../errors.js';
import { demandAccess, type AuditOnlySink } from '../enforce.js';
import type { ArmRoute } from '../route.js';
import type { StoredResource } from '../../resources/index.js';
import { checkObject, optionalTags } from './validate.js';

const GROUP_TYPE = 'Microsoft.Resources/resourceGroups';
const GROUP_NAME = /^[-\w._()\p{L}\p{N}]{1,90}$/u;

/** Subscriptions, resource groups, and the cross-type listings: the Microsoft.Resources part of ARM. */
export async function handleCoreRoute(
  route: Exclude<ArmRoute, { kind: 'resource' }>,
  method: string,
  caller: Caller | undefined,
  query: Record<string, string>,
  deps: ArmDeps,
  body?: unknown,
  sink?: AuditOnlySink,
): Promise<ArmResponse> {
  const m = method.toUpperCase();
  switch (route.kind) {
    case 'metadataEndpoints':
      return { status: 200, body: metadataEndpoints(deps) };
    case 'tenants':
      return { status: 200, body: { value: [{ id: `/tenants/${deps.tenantId}`, tenantId: deps.tenantId, tenantCategory: 'Home', displayName: 'Keyless', defaultDomain: 'keyless.localhost' }] } };
    case 'subscriptions': {
      if (m !== 'GET') throw methodNotAllowed(m, '/subscriptions');
      const visible = deps.access.visibleSubscriptions(caller!.objectId);
      const subs = (await repos.subscriptions.list(deps.store.db)).filter((s) => visible === 'all' || visible.has(s.id));
      return { status: 200, body: { value: subs.map((s) => subscriptionBody(s, deps)) } };
    }
    case 'subscription': {
      const sub = await requireSubscription(deps, route.subscriptionId);
      demandAccess(deps.access, caller!, { action: 'Microsoft.Resources/subscriptions/read', scope: `/subscriptions/${sub.id}` }, sink);
      return { status: 200, body: subscriptionBody(sub, deps) };
    }
    case 'providers': {
      await requireSubscription(deps, route.subscriptionId);
      return { status: 200, body: { value: providersList(deps, route.subscriptionId) } };
    }
    case 'groups': {
      if (m !== 'GET') throw methodNotAllowed(m, route.kind);
      const sub = await requireSubscription(deps, route.subscriptionId);
      const groups = await deps.resources.list({ subscriptionId: sub.id, typeKey: GROUP_TYPE.toLowerCase() });
      return { status: 200, body: { value: readable(deps, caller!, groups, () => 'Microsoft.Resources/subscriptions/resourceGroups/read').map((g) => g.body) } };
    }
    case 'group':
      return handleGroup(route, m, caller!, deps, body, sink);
    case 'genericResources': {
      const sub = await requireSubscription(deps, route.subscriptionId);
      let groupKey: string | undefined;
      if (route.group) {
        const g = await deps.resources.get(`/subscriptions/${sub.id}/resourceGroups/${route.group}`);
        if (!g) throw resourceGroupNotFound(route.group);
        groupKey = g.groupKey ?? undefined;
      }
      const all = await deps.resources.list({ subscriptionId: sub.id, ...(groupKey ? { groupKey } : {}) });
      // Only top-level tracked resources appear here, as in ARM's generic resource list.
      const tracked = all.filter((r) => r.parentKey === null && r.typeKey !== GROUP_TYPE.toLowerCase());
      const filtered = filterByOData(tracked, query['$filter']);
      const items = readable(deps, caller!, filtered, (r) => `${r.body.type}/read`).map((r) => ({
        id: r.id,
        name: r.name,
        type: r.body.type,
        location: r.body.location,
        ...(r.body.tags ? { tags: r.body.tags } : {}),
        ...(r.body.identity ? { identity: r.body.identity } : {}),
      }));
      return { status: 200, body: { value: items } };
    }
  }
}

async function handleGroup(route: { subscriptionId: string; group: string; id: string }, m: string, caller: Caller, deps: ArmDeps, body: unknown, sink: AuditOnlySink | undefined): Promise<ArmResponse> {
  const sub = await requireSubscription(deps, route.subscriptionId);
  const id = `/subscriptions/${sub.id}/resourceGroups/${route.group}`;
  const action = { GET: 'read', HEAD: 'read', PUT: 'write', PATCH: 'write', DELETE: 'delete' }[m];
  if (!action) throw methodNotAllowed(m, id);
  demandAccess(deps.access, caller, { action: `Microsoft.Resources/subscriptions/resourceGroups/${action}`, scope: id }, sink);
  const existing = await deps.resources.get(id);
  switch (m) {
    case 'HEAD':
      return { status: existing ? 204 : 404 };
    case 'GET':
      if (!existing) throw resourceGroupNotFound(route.group);
      return { status: 200, body: existing.body };
    case 'DELETE': {
      if (!existing) throw resourceGroupNotFound(route.group);
      await deps.resources.delete(id);
      return { status: 200 };
    }
    case 'PUT':
    case 'PATCH': {
      if (!GROUP_NAME.test(route.group) || route.group.endsWith('.')) {
        throw invalidName('resource group', route.group, 'Resource group names only allow alphanumeric characters, periods, underscores, hyphens and parenthesis and cannot end in a period.');
      }
      const input = checkObject(body);
      if (m === 'PATCH' && !existing) throw resourceGroupNotFound(route.group);
      const location = m === 'PATCH' ? existing!.body.location : input['location'];
      if (typeof location !== 'string' || location.trim() === '') throw locationRequired();
      if (existing && existing.body.location && location.toLowerCase() !== existing.body.location.toLowerCase()) {
        throw armError(409, 'InvalidResourceGroupLocation', `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.body.location}'.`);
      }
      const tags = input['tags'] === undefined && m === 'PATCH' ? existing?.body.tags : optionalTags(input['tags']);
      const { resource, created } = await deps.resources.upsert(id, async () => ({
        body: {
          id,
          name: route.group,
          type: GROUP_TYPE,
          location: existing?.body.location ?? location,
          ...(typeof input['managedBy'] === 'string' ? { managedBy: input['managedBy'] } : {}),
          ...(tags ? { tags } : {}),
          properties: { provisioningState: 'Succeeded' },
        },
        internal: existing?.internal ?? {},
      }));
      return { status: created ? 201 : 200, body: resource.body };
    }
  }
  throw methodNotAllowed(m, id);
}

export async function requireSubscription(deps: ArmDeps, subscriptionId: string) {
  const sub = await repos.subscriptions.get(deps.store.db, subscriptionId);
  if (!sub) throw subscriptionNotFound(subscriptionId);
  return sub;
}

/** Resolves a resource group for a resource write or read; ARM answers ResourceGroupNotFound first. */
export async function requireGroup(deps: ArmDeps, subscriptionId: string | undefined, group: string | undefined): Promise<StoredResource> {
  if (!subscriptionId || !group) throw armError(400, 'InvalidResourceId', 'The resource id must include a subscription and a resource group.');
  await requireSubscription(deps, subscriptionId);
  const g = await deps.resources.get(`/subscriptions/${subscriptionId}/resourceGroups/${group}`);
  if (!g) throw resourceGroupNotFound(group);
  return g;
}

function readable(deps: ArmDeps, caller: Caller, items: StoredResource[], action: (r: StoredResource) => string): StoredResource[] {
  return items.filter((r) => deps.access.check({ principalId: caller.objectId, action: action(r), isDataAction: false, scope: r.id }).allowed);
}

/** The `$filter` forms clients send to the generic list: resourceType eq '…', name eq '…'. */
function filterByOData(items: StoredResource[], filter: string | undefined): StoredResource[] {
  if (!filter) return items;
  const clauses = filter.split(/\s+and\s+/i);
  return items.filter((r) =>
    clauses.every((c) => {
      const m = /^\s*(resourceType|name)\s+eq\s+'([^']*)'\s*$/i.exec(c);
      if (!m) throw new KeylessError(400, 'InvalidFilterInQueryString', `Invalid $filter '${filter}' specified in the query string.`);
      const value = m[2]!.toLowerCase();
      return m[1]!.toLowerCase() === 'name' ? r.name.toLowerCase() === value : r.typeKey === value;
    }),
  );
}

function subscriptionBody(s: { id: string; tenant_id: string; display_name: string; state: string }, _deps: ArmDeps) {
  return {
    id: `/subscriptions/${s.id}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: s.id,
    tenantId: s.tenant_id,
    displayName: s.display_name,
    state: s.state,
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
  };
}

function metadataEndpoints(deps: ArmDeps) {
  const e = deps.endpoints;
  // The Azure Stack style document az reads when a cloud is registered with only its ARM endpoint.
  return {
    galleryEndpoint: `${e.resourceManager}/`,
    graphEndpoint: `${e.resourceManager}/`,
    portalEndpoint: `${e.portal}/`,
    graphAudience: `${e.resourceManager}/`,
    authentication: { loginEndpoint: `${e.login}/adfs`, audiences: e.audiences, tenant: deps.tenantId, identityProvider: 'ADFS' },
    name: 'Keyless',
    resourceManager: `${e.resourceManager}/`,
    suffixes: { keyVaultDns: e.keyVaultDnsSuffix, storage: e.storageSuffix },
  };
}

function providersList(deps: ArmDeps, subscriptionId: string) {
  const byNs = new Map<string, string[]>();
  for (const p of deps.providers) {
    const [ns, ...rest] = p.type.split('/');
    byNs.set(ns!, [...(byNs.get(ns!) ?? []), rest.join('/')]);
  }
  return [...byNs].map(([ns, types]) => ({
    id: `/subscriptions/${subscriptionId}/providers/${ns}`,
    namespace: ns,
    registrationState: 'Registered',
    resourceTypes: types.map((t) => ({ resourceType: t, locations: [], apiVersions: [] })),
  }));
}
