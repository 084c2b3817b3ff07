import type { ArmDocument, StoredResource } from '../../resources/index.js';
import type { Tx } from '../../store/index.js';
import { AccessPolicyError, mergeAccessPolicies, parseAccessPolicies, type AccessPolicyEntry } from '../../keyvault/access-policy.js';
import { isValidVaultName, vaultBaseUrl, vaultNameRule } from '../../keyvault/names.js';
import { resourceHandlers } from './resource-handlers.js';
import type { ArmRequest, ArmResponse, ProviderHandler } from '../context.js';
import { armError, invalidRequestContent, locationRequired, resourceNotFound } from '../errors.js';
import { requireGroup, requireSubscription } from './resources.js';
import { checkObject, optionalObject, optionalTags } from './validate.js';

const VAULTS = 'Microsoft.KeyVault/vaults';
const ACCESS_POLICIES = 'Microsoft.KeyVault/vaults/accessPolicies';
const DELETED_VAULTS = 'Microsoft.KeyVault/deletedVaults';
const LOCATION_DELETED_VAULTS = 'Microsoft.KeyVault/locations/deletedVaults';
/** From this api-version on, a vault created without `enableRbacAuthorization` uses RBAC (authorization.md §5). */
const RBAC_DEFAULT_FROM = '2026-02-01';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface DeletedVaultRecord {
  name: string;
  vaultId: string;
  subscriptionId: string;
  location: string;
  document: Record<string, unknown> & { properties?: Record<string, unknown>; tags?: Record<string, string> };
  deletedAt: number;
  scheduledPurgeAt: number;
  purgeProtection: boolean;
}

/** What the provider needs from Key Vault's domain (implemented by keyvault/VaultLifecycle). */
export interface KeyVaultArmPort {
  dnsSuffix: string;
  /** The HTTPS port vault URIs name (omitted from the URI when 443). */
  port: number;
  liveVaultId(name: string): Promise<string | undefined>;
  getDeleted(name: string): Promise<DeletedVaultRecord | undefined>;
  listDeleted(subscriptionId: string): Promise<DeletedVaultRecord[]>;
  forgetDeleted(tx: Tx, name: string): Promise<void>;
  purge(name: string): Promise<void>;
}

/**
 * Microsoft.KeyVault on ARM: vaults (PUT/PATCH/GET/DELETE/list), `accessPolicies/{add|replace|remove}`, and
 * soft-deleted vaults (list, get, purge). The pipeline has already authorized the primary action.
 */
export function keyVaultArmProviders(port: KeyVaultArmPort): ProviderHandler[] {
  const render = (r: StoredResource | ArmDocument): ArmDocument => {
    const body = 'body' in r && 'typeKey' in r ? (r as StoredResource).body : (r as ArmDocument);
    // The URI is derived, not stored: it names the port this server listens on now.
    return { ...body, properties: { ...(body.properties ?? {}), vaultUri: `${vaultBaseUrl(body.name, port.dnsSuffix, port.port)}/` } };
  };

  const crud = resourceHandlers(VAULTS, (r) => render(r));
  const vaults: ProviderHandler = {
    type: VAULTS,
    get: crud.get,
    put: (req) => writeVault(req, 'put'),
    patch: (req) => writeVault(req, 'patch'),
    // Soft delete happens in the resource delete hook, so deleting the resource group keeps vaults too.
    delete: crud.delete,
    list: crud.list,
    render: (r) => render(r),
  };

  async function writeVault(req: ArmRequest, mode: 'put' | 'patch'): Promise<ArmResponse> {
    const { route, deps } = req;
    const name = route.name!;
    if (!isValidVaultName(name)) throw armError(400, 'VaultNameNotValid', vaultNameRule(name));
    const group = await requireGroup(deps, route.subscriptionId, route.group);
    const input = checkObject(req.body);
    const current = await deps.resources.get(route.id);
    if (mode === 'patch' && !current) throw resourceNotFound(VAULTS, name, group.name);
    const props = optionalObject(input['properties'], 'properties') ?? {};

    let recovering: DeletedVaultRecord | undefined;
    if (!current) {
      const elsewhere = await port.liveVaultId(name);
      if (elsewhere) {
        throw armError(409, 'VaultAlreadyExists', `The vault name '${name}' is already in use. Vault names are globally unique so it is possible that the name is already taken.`);
      }
      const deleted = await port.getDeleted(name);
      const createMode = String(props['createMode'] ?? 'default').toLowerCase();
      if (createMode === 'recover') {
        if (!deleted) throw armError(404, 'ResourceNotFound', `No soft-deleted vault named '${name}' was found to recover.`);
        recovering = deleted;
      } else if (deleted) {
        throw armError(409, 'ConflictError', 'Exist soft deleted vault with the same name. ');
      }
    }

    const base = recovering ? (recovering.document as ArmDocument) : current?.body;
    const location = current?.body.location ?? recovering?.location ?? input['location'];
    if (typeof location !== 'string' || !location.trim()) throw locationRequired();
    const tags = input['tags'] === undefined ? base?.tags : optionalTags(input['tags']);
    const before = base?.properties ?? {};
    const merged = recovering ? { ...before } : mode === 'patch' ? { ...before, ...props } : { ...props };
    delete merged['createMode'];
    const properties = validateProperties(merged, before, req, Boolean(current || recovering));

    if (current && Boolean(before['enableRbacAuthorization']) !== properties['enableRbacAuthorization']) {
      // Switching the permission model hands out data access, so Azure asks for the right to assign roles.
      req.authorize('Microsoft.Authorization/roleAssignments/write', route.id);
    }

    const { resource, created } = await deps.resources.upsert(route.id, async (tx, _changed, cur) => {
      if (recovering) await port.forgetDeleted(tx, name);
      const body: ArmDocument = {
        id: route.id,
        name,
        type: VAULTS,
        location: cur?.body.location ?? location,
        ...(tags ? { tags } : {}),
        properties,
      };
      return { body, internal: cur?.internal ?? {} };
    });
    return { status: created ? 201 : 200, body: render(resource) };
  }

  function validateProperties(p: Record<string, unknown>, before: Record<string, unknown>, req: ArmRequest, exists: boolean): Record<string, unknown> {
    const bad = (message: string) => armError(400, 'BadRequest', message);
    const tenantId = p['tenantId'];
    if (typeof tenantId !== 'string' || !GUID.test(tenantId)) throw bad("The parameter 'properties.tenantId' is required and must be a GUID.");
    if (tenantId.toLowerCase() !== req.deps.tenantId.toLowerCase()) {
      throw bad(`The tenant '${tenantId}' is not the tenant of this subscription ('${req.deps.tenantId}'); Keyless vaults authenticate callers of its own tenant only.`);
    }
    const sku = p['sku'];
    if (typeof sku !== 'object' || sku === null || Array.isArray(sku)) throw bad("The parameter 'properties.sku' is required.");
    const skuName = String((sku as Record<string, unknown>)['name'] ?? '').toLowerCase();
    const family = String((sku as Record<string, unknown>)['family'] ?? 'A');
    if (skuName !== 'standard' && skuName !== 'premium') throw bad(`The SKU name '${String((sku as Record<string, unknown>)['name'])}' is invalid. Allowed values are 'standard' and 'premium'.`);
    if (family !== 'A') throw bad(`The SKU family '${family}' is invalid. The only allowed value is 'A'.`);

    let accessPolicies: AccessPolicyEntry[];
    try {
      accessPolicies = parseAccessPolicies(p['accessPolicies']);
    } catch (e) {
      if (e instanceof AccessPolicyError) throw bad(e.message);
      throw e;
    }

    if (p['enableSoftDelete'] === false) {
      throw bad('Soft delete is always on for Key Vault and cannot be disabled; remove enableSoftDelete or set it to true.');
    }
    const retention = p['softDeleteRetentionInDays'] ?? before['softDeleteRetentionInDays'] ?? 90;
    if (typeof retention !== 'number' || !Number.isInteger(retention) || retention < 7 || retention > 90) {
      throw bad("The property 'softDeleteRetentionInDays' must be a whole number of days between 7 and 90.");
    }
    if (exists && before['softDeleteRetentionInDays'] !== undefined && retention !== before['softDeleteRetentionInDays']) {
      throw bad("The property 'softDeleteRetentionInDays' cannot be changed after the vault has been created.");
    }
    const purgeProtection = p['enablePurgeProtection'] ?? before['enablePurgeProtection'];
    if (before['enablePurgeProtection'] === true && purgeProtection === false) {
      throw bad('The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.');
    }
    let rbac = p['enableRbacAuthorization'];
    if (rbac === undefined || rbac === null) rbac = exists ? before['enableRbacAuthorization'] === true : req.apiVersion.slice(0, 10) >= RBAC_DEFAULT_FROM;
    if (typeof rbac !== 'boolean') throw bad("The property 'enableRbacAuthorization' must be a boolean.");

    const out: Record<string, unknown> = {
      ...p,
      tenantId,
      sku: { family: 'A', name: skuName },
      accessPolicies,
      enabledForDeployment: p['enabledForDeployment'] === true,
      enabledForDiskEncryption: p['enabledForDiskEncryption'] === true,
      enabledForTemplateDeployment: p['enabledForTemplateDeployment'] === true,
      enableSoftDelete: true,
      softDeleteRetentionInDays: retention,
      enableRbacAuthorization: rbac,
      ...(purgeProtection === true ? { enablePurgeProtection: true } : {}),
      publicNetworkAccess: typeof p['publicNetworkAccess'] === 'string' ? p['publicNetworkAccess'] : 'Enabled',
      provisioningState: 'Succeeded',
    };
    delete out['vaultUri'];
    return out;
  }

  /** `PUT …/vaults/{name}/accessPolicies/{add|replace|remove}` */
  const accessPolicies: ProviderHandler = {
    type: ACCESS_POLICIES,
    // Authorized against the vault, with the action Azure names for it.
    actionFor: () => 'Microsoft.KeyVault/vaults/accessPolicies/write',
    authorizationScope: (route) => vaultIdOf(route.id),
    async put(req) {
      const kind = (req.route.name ?? '').toLowerCase();
      if (kind !== 'add' && kind !== 'replace' && kind !== 'remove') {
        throw armError(400, 'BadRequest', `The access policy operation kind '${req.route.name ?? ''}' is invalid. Allowed values are 'add', 'replace' and 'remove'.`);
      }
      const vaultId = vaultIdOf(req.route.id);
      const vaultName = vaultId.split('/').pop()!;
      const g = await requireGroup(req.deps, req.route.subscriptionId, req.route.group);
      const current = await req.deps.resources.get(vaultId);
      if (!current || current.typeKey !== VAULTS.toLowerCase()) throw resourceNotFound(VAULTS, vaultName, g.name);
      if (current.body.properties?.['enableRbacAuthorization'] === true) {
        // Azure: with the RBAC permission model on, scripts that update access policies fail.
        throw armError(400, 'BadRequest', `Access policies of vault '${vaultName}' cannot be updated because it uses the Azure RBAC permission model (enableRbacAuthorization is true).`);
      }
      const input = checkObject(req.body);
      const props = optionalObject(input['properties'], 'properties');
      if (!props) throw invalidRequestContent("The 'properties' object with 'accessPolicies' is required.");
      let changes: AccessPolicyEntry[];
      try {
        changes = parseAccessPolicies(props['accessPolicies']);
      } catch (e) {
        if (e instanceof AccessPolicyError) throw armError(400, 'BadRequest', e.message);
        throw e;
      }
      const { resource } = await req.deps.resources.upsert(vaultId, async (_tx, _changed, cur) => {
        if (!cur) throw resourceNotFound(VAULTS, vaultName, g.name);
        const existing = parseAccessPolicies(cur.body.properties?.['accessPolicies']);
        let next: AccessPolicyEntry[];
        try {
          next = mergeAccessPolicies(existing, changes, kind);
        } catch (e) {
          if (e instanceof AccessPolicyError) throw armError(400, 'BadRequest', e.message);
          throw e;
        }
        return { body: { ...cur.body, properties: { ...(cur.body.properties ?? {}), accessPolicies: next } }, internal: cur.internal };
      });
      return {
        status: 200,
        body: {
          id: `${resource.id}/accessPolicies/${kind}`,
          name: kind,
          type: ACCESS_POLICIES,
          location: resource.body.location,
          properties: { accessPolicies: changes },
        },
      };
    },
  };

  /** `GET /subscriptions/{s}/providers/Microsoft.KeyVault/deletedVaults` */
  const deletedVaults: ProviderHandler = {
    type: DELETED_VAULTS,
    async list(req) {
      const sub = req.route.subscriptionId;
      if (!sub || req.route.group) return [];
      await requireSubscription(req.deps, sub);
      return (await port.listDeleted(sub)).map((d) => deletedBody(d));
    },
  };

  /** `GET …/locations/{loc}/deletedVaults/{name}`, `POST …/purge` */
  const locationDeletedVaults: ProviderHandler = {
    type: LOCATION_DELETED_VAULTS,
    async get(req) {
      return { status: 200, body: deletedBody(await requireDeleted(req)) };
    },
    actions: {
      async purge(req) {
        const d = await requireDeleted(req);
        if (d.purgeProtection) {
          throw armError(
            409,
            'Conflict',
            `The vault '${d.name}' has purge protection enabled and cannot be purged; it will be purged automatically on ${new Date(d.scheduledPurgeAt).toISOString()}.`,
          );
        }
        await port.purge(d.name);
        return { status: 200 };
      },
    },
  };

  async function requireDeleted(req: ArmRequest): Promise<DeletedVaultRecord> {
    const sub = req.route.subscriptionId ?? '';
    await requireSubscription(req.deps, sub);
    const location = (/\/locations\/([^/]+)\//i.exec(req.route.id)?.[1] ?? '').toLowerCase().replace(/\s+/g, '');
    const d = await port.getDeleted(req.route.name ?? '');
    if (!d || d.subscriptionId !== sub.toLowerCase() || d.location !== location) {
      throw armError(404, 'ResourceNotFound', `The Resource '${LOCATION_DELETED_VAULTS}/${req.route.name ?? ''}' was not found in location '${location}'.`);
    }
    return d;
  }

  return [vaults, accessPolicies, deletedVaults, locationDeletedVaults];
}

/** `…/vaults/{name}/accessPolicies/{kind}` → `…/vaults/{name}` */
function vaultIdOf(id: string): string {
  return id.replace(/\/accessPolicies\/[^/]+$/i, '');
}

function deletedBody(d: DeletedVaultRecord) {
  return {
    id: `/subscriptions/${d.subscriptionId}/providers/${LOCATION_DELETED_VAULTS.replace('/locations/', `/locations/${d.location}/`)}/${d.name}`,
    name: d.name,
    type: DELETED_VAULTS,
    properties: {
      vaultId: d.vaultId,
      location: d.location,
      deletionDate: new Date(d.deletedAt).toISOString(),
      scheduledPurgeDate: new Date(d.scheduledPurgeAt).toISOString(),
      tags: d.document.tags ?? {},
      purgeProtectionEnabled: d.purgeProtection,
    },
  };
}
