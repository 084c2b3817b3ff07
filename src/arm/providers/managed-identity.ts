import type { ArmRequest, ArmResponse, ProviderHandler } from '../context.js';
import { invalidName, locationRequired, resourceNotFound } from '../errors.js';
import { requireGroup } from './resources.js';
import { resourceHandlers } from './resource-handlers.js';
import { checkObject, optionalTags } from './validate.js';

const TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/;

/**
 * User-assigned identities: a standalone resource backed by its own service principal, created with the
 * resource and deleted only with it. principalId/clientId never change for the life of the resource.
 */
export function managedIdentityProvider(): ProviderHandler {
  return {
    type: TYPE,
    ...resourceHandlers(TYPE),
    put: (req) => write(req, 'put'),
    patch: (req) => write(req, 'patch'),
  };
}

async function write(req: ArmRequest, mode: 'put' | 'patch'): Promise<ArmResponse> {
  const { route, deps } = req;
  const name = route.name!;
  if (!NAME.test(name)) {
    throw invalidName('user assigned identity', name, 'The name must be 3-128 characters, start with a letter or digit, and contain only letters, digits, hyphens and underscores.');
  }
  const group = await requireGroup(deps, route.subscriptionId, route.group);
  const input = checkObject(req.body);
  const current = await deps.resources.get(route.id);
  if (mode === 'patch' && !current) throw resourceNotFound(TYPE, name, group.name);
  const location = current?.body.location ?? input['location'];
  if (typeof location !== 'string' || !location.trim()) throw locationRequired();
  const tags = input['tags'] === undefined && current ? current.body.tags : optionalTags(input['tags']);

  const { resource, created } = await deps.resources.upsert(route.id, async (tx, changed, cur) => {
    let props = cur?.body.properties;
    if (!props) {
      const p = await deps.directory.createManagedIdentity(tx, changed, {
        kind: 'UserAssigned',
        tenantId: deps.tenantId,
        resourceId: route.id,
        displayName: name,
      });
      props = { isolationScope: 'None', tenantId: deps.tenantId, principalId: p.objectId, clientId: p.appId };
    }
    return {
      body: { id: route.id, name, type: TYPE, location, ...(tags ? { tags } : {}), properties: props },
      internal: cur?.internal ?? {},
    };
  });
  return { status: created ? 201 : 200, body: resource.body };
}
