import type { ArmDeps, ArmRequest, ArmResponse, ProviderHandler } from '../context.js';
import { armError, resourceNotFound } from '../errors.js';
import { repos, type Tx } from '../../store/index.js';
import type { StoredResource } from '../../resources/index.js';
import { checkAgainstSiblings, FIC_TYPE, FIC_TYPE_KEY, ficFromDocument, parseFicProperties, validateFicName, type FicRecord } from '../../federation/fic-rules.js';
import { requireGroup } from './resources.js';

const UAI_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const UAI_TYPE_KEY = UAI_TYPE.toLowerCase();

/**
 * `…/userAssignedIdentities/{identity}/federatedIdentityCredentials/{name}`: child documents of the identity,
 * so deleting the identity deletes them (ResourceService cascades). The token endpoint reads them when a
 * federated assertion is presented (src/federation).
 */
export function federatedCredentialsProvider(): ProviderHandler {
  return {
    type: FIC_TYPE,
    async get(req) {
      const { group, parent, name } = await locate(req);
      const r = await req.deps.resources.get(req.route.id);
      if (!r || r.typeKey !== FIC_TYPE_KEY) throw notFound(parent.name, name, group.name);
      return { status: 200, body: r.body };
    },
    put: (req) => write(req),
    async delete(req) {
      await locate(req);
      const r = await req.deps.resources.delete(req.route.id);
      return { status: r ? 200 : 204 };
    },
    async list(req) {
      const { parent } = await locate(req);
      return req.deps.resources.list({ parentKey: parent.key, typeKey: FIC_TYPE_KEY });
    },
  };
}

async function write(req: ArmRequest): Promise<ArmResponse> {
  const { route, deps } = req;
  const name = route.name!;
  validateFicName(name);
  const { parent } = await locate(req);
  const properties = parseFicProperties(req.body);
  const { resource, created } = await deps.resources.upsert(route.id, async (tx) => {
    // Re-read the parent and its credentials inside the write, locked on PostgreSQL, so two concurrent PUTs cannot
    // both pass the 20-credential or issuer+subject rules, and a credential cannot outlive a concurrent delete.
    await lockParent(deps, tx, parent.key);
    const current = await deps.resources.get(parent.id, tx);
    if (!current || current.typeKey !== UAI_TYPE_KEY) throw parentNotFound(parent.name);
    const rows = await repos.resources.list(tx, { parentKey: parent.key, typeKey: FIC_TYPE_KEY });
    const siblings = rows.map((r) => ficFromDocument(JSON.parse(r.body) as { name?: unknown })).filter((f): f is FicRecord => f !== undefined);
    checkAgainstSiblings(siblings, name, properties);
    return { body: { id: route.id, name, type: FIC_TYPE, properties: { ...properties } }, internal: {} };
  });
  return { status: created ? 201 : 200, body: resource.body };
}

/** The resource group and the identity the route hangs under; ARM's 404s when either is missing. */
async function locate(req: ArmRequest): Promise<{ group: StoredResource; parent: StoredResource; name: string }> {
  const { route, deps } = req;
  const group = await requireGroup(deps, route.subscriptionId, route.group);
  // Item: …/{identity}/federatedIdentityCredentials/{name}; collection: …/{identity}/federatedIdentityCredentials.
  const segments = route.id.split('/');
  const parentId = segments.slice(0, route.name === undefined ? -1 : -2).join('/');
  const parentName = parentId.split('/').pop() ?? '';
  const parent = await deps.resources.get(parentId);
  if (!parent || parent.typeKey !== UAI_TYPE_KEY) throw parentNotFound(parentName);
  return { group, parent, name: route.name ?? '' };
}

async function lockParent(deps: ArmDeps, tx: Tx, parentKey: string): Promise<void> {
  // SQLite runs one write transaction at a time already; FOR UPDATE is PostgreSQL syntax.
  if (deps.store.dialect === 'postgres') await tx.selectFrom('resources').select('key').where('key', '=', parentKey).forUpdate().execute();
}

const parentNotFound = (identity: string) =>
  armError(404, 'ParentResourceNotFound', `Can not perform requested operation on nested resource. Parent resource '${identity}' not found.`);

const notFound = (identity: string, name: string, group: string) => resourceNotFound(UAI_TYPE, `${identity}/federatedIdentityCredentials/${name}`, group);
