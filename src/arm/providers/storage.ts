import type { StoredResource } from '../../resources/index.js';
import type { ArmRequest, ArmResponse, ProviderHandler } from '../context.js';
import { armError, resourceNotFound } from '../errors.js';
import { requireGroup } from './resources.js';
import { trackedHandlers } from './tracked.js';
import { checkObject, optionalObject } from './validate.js';

/**
 * Microsoft.Storage: storage accounts (with their two keys), the blob service, and blob containers. Keys and
 * container rows belong to the Blob surface; ARM reaches them through the two ports below, so this provider
 * imports nothing from it.
 */
export interface StorageKeysPort {
  /** New key1/key2 for an account, sealed: an opaque value kept in the resource's internal state. */
  create(accountId: string, creationTime: string): unknown;
  regenerate(accountId: string, stored: unknown, keyName: string, creationTime: string): unknown;
  /** The keys in the clear, base64, for listKeys. */
  reveal(accountId: string, stored: unknown): { keyName: string; value: string; creationTime: string }[];
}

export interface ContainerView {
  name: string;
  etag: string;
  lastModified: number;
  metadata: Record<string, string>;
}

export interface StorageContainersPort {
  list(account: string): Promise<ContainerView[]>;
  get(account: string, name: string): Promise<ContainerView | undefined>;
  put(account: string, name: string, metadata: Record<string, string>): Promise<{ view: ContainerView; created: boolean }>;
  delete(account: string, name: string): Promise<boolean>;
}

export interface StorageProviderOptions {
  dnsSuffix: string;
  port: number;
  keys: StorageKeysPort;
  containers: StorageContainersPort;
  /** Wall clock for creationTime stamps. */
  now(): number;
}

export const STORAGE_ACCOUNT_TYPE = 'Microsoft.Storage/storageAccounts';
const BLOB_SERVICE_TYPE = 'Microsoft.Storage/storageAccounts/blobServices';
const CONTAINER_TYPE = 'Microsoft.Storage/storageAccounts/blobServices/containers';
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const CONTAINER_NAME = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/;
const KINDS = ['Storage', 'StorageV2', 'BlobStorage', 'FileStorage', 'BlockBlobStorage'];

/** `https://{account}.blob.{suffix}[:port]/` — the port is left out when it is 443, as clients compare URLs. */
export function blobEndpoint(account: string, dnsSuffix: string, port: number): string {
  return `https://${account}.blob.${dnsSuffix}${port === 443 ? '' : `:${port}`}/`;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function storageProviders(opts: StorageProviderOptions): ProviderHandler[] {
  return [accountProvider(opts), blobServiceProvider(), containerProvider(opts)];
}

function accountProvider(opts: StorageProviderOptions): ProviderHandler {
  // One timestamp per request, so the account's creationTime and its keys' creationTime agree.
  const stamps = new WeakMap<ArmRequest, string>();
  const stamp = (req: ArmRequest): string => {
    let s = stamps.get(req);
    if (s === undefined) stamps.set(req, (s = iso(opts.now())));
    return s;
  };
  const tracked = trackedHandlers({
    type: STORAGE_ACCOUNT_TYPE,
    nameRule: ACCOUNT_NAME,
    nameHint: 'Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.',
    supportsIdentity: true,
    computeProperties(input, current, _id, req) {
      const name = req.route.name!;
      const props = current?.body.properties ?? {};
      const created = (props['creationTime'] as string | undefined) ?? stamp(req);
      const location = current?.body.location ?? (checkObject(req.body)['location'] as string | undefined);
      return {
        provisioningState: 'Succeeded',
        creationTime: created,
        primaryEndpoints: { blob: blobEndpoint(name, opts.dnsSuffix, opts.port) },
        primaryLocation: location,
        statusOfPrimary: 'available',
        keyCreationTime: props['keyCreationTime'] ?? { key1: created, key2: created },
        encryption: {
          services: { blob: { enabled: true, keyType: 'Account', lastEnabledTime: created } },
          keySource: 'Microsoft.Storage',
        },
        accessTier: input['accessTier'] ?? 'Hot',
        supportsHttpsTrafficOnly: true,
        minimumTlsVersion: input['minimumTlsVersion'] ?? 'TLS1_2',
        // Keyless serves no anonymous reads: a container can never be public.
        allowBlobPublicAccess: false,
      };
    },
    async onCreate(tx, internal, req) {
      const name = req.route.name!;
      const taken = await tx
        .selectFrom('resources')
        .select('key')
        .where('type_key', '=', STORAGE_ACCOUNT_TYPE.toLowerCase())
        .where('name', '=', name)
        .executeTakeFirst();
      if (taken) throw armError(409, 'StorageAccountAlreadyTaken', `The storage account named ${name} is already taken.`);
      internal['storageKeys'] = opts.keys.create(req.route.id, stamp(req));
    },
  });

  async function account(req: ArmRequest): Promise<StoredResource> {
    const group = await requireGroup(req.deps, req.route.subscriptionId, req.route.group);
    const r = await req.deps.resources.get(req.route.id);
    if (!r || r.typeKey !== STORAGE_ACCOUNT_TYPE.toLowerCase()) throw resourceNotFound(STORAGE_ACCOUNT_TYPE, req.route.name!, group.name);
    return r;
  }

  const keysBody = (accountId: string, stored: unknown) => ({
    keys: opts.keys.reveal(accountId, stored).map((k) => ({ keyName: k.keyName, value: k.value, permissions: 'FULL', creationTime: k.creationTime })),
  });

  return {
    ...tracked,
    async put(req) {
      const name = req.route.name!;
      if (!ACCOUNT_NAME.test(name)) {
        throw armError(400, 'AccountNameInvalid', `${name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.`);
      }
      const input = checkObject(req.body);
      const kind = input['kind'] ?? 'StorageV2';
      if (typeof kind !== 'string' || !KINDS.includes(kind)) throw armError(400, 'InvalidRequestContent', `The value '${String(kind)}' is not a valid storage account kind.`);
      const sku = optionalObject(input['sku'], 'sku') ?? {};
      const skuName = typeof sku['name'] === 'string' ? sku['name'] : 'Standard_LRS';
      const body = { ...input, kind, sku: { name: skuName, tier: skuName.startsWith('Premium') ? 'Premium' : 'Standard' } };
      const res = await tracked.put({ ...req, body });
      // Storage answers a completed create with 200, never 201: the SDK inside Debian's az accepts only 200/202.
      return res.status === 201 ? { ...res, status: 200 } : res;
    },
    actions: {
      async listkeys(req) {
        const r = await account(req);
        return { status: 200, body: keysBody(r.id, r.internal['storageKeys']) };
      },
      async regeneratekey(req) {
        await account(req);
        const input = checkObject(req.body);
        const keyName = typeof input['keyName'] === 'string' ? input['keyName'].toLowerCase() : '';
        if (keyName !== 'key1' && keyName !== 'key2') {
          throw armError(400, 'InvalidValuesForRequestParameters', `Values for request parameters are invalid: keyName. '${String(input['keyName'] ?? '')}' is not key1 or key2.`);
        }
        const now = iso(opts.now());
        const { resource } = await req.deps.resources.upsert(req.route.id, async (_tx, _changed, cur) => {
          if (!cur) throw resourceNotFound(STORAGE_ACCOUNT_TYPE, req.route.name!, req.route.group ?? '');
          const props = cur.body.properties ?? {};
          return {
            body: { ...cur.body, properties: { ...props, keyCreationTime: { ...((props['keyCreationTime'] as object | undefined) ?? {}), [keyName]: now } } },
            internal: { ...cur.internal, storageKeys: opts.keys.regenerate(cur.id, cur.internal['storageKeys'], keyName, now) },
          };
        });
        return { status: 200, body: keysBody(resource.id, resource.internal['storageKeys']) };
      },
    },
  };
}

interface ContainerRoute {
  accountId: string;
  account: string;
  service: string;
}

/** `…/storageAccounts/{a}/blobServices/{svc}[/containers/{c}]` → its parts. */
function containerRoute(req: ArmRequest): ContainerRoute {
  const m = /^(.*\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+))\/blobServices\/([^/]+)/i.exec(req.route.id);
  if (!m) throw armError(400, 'InvalidResourceId', `The resource id '${req.route.id}' is invalid.`);
  return { accountId: m[1]!, account: m[2]!.toLowerCase(), service: m[3]! };
}

async function requireAccount(req: ArmRequest, r: ContainerRoute): Promise<void> {
  const group = await requireGroup(req.deps, req.route.subscriptionId, req.route.group);
  const acct = await req.deps.resources.get(r.accountId);
  if (!acct || acct.typeKey !== STORAGE_ACCOUNT_TYPE.toLowerCase()) throw resourceNotFound(STORAGE_ACCOUNT_TYPE, r.account, group.name);
  // There is one blob service per account, and it is called `default`.
  if (r.service.toLowerCase() !== 'default') throw resourceNotFound(BLOB_SERVICE_TYPE, r.service, group.name);
}

function blobServiceProvider(): ProviderHandler {
  const render = (accountId: string) => ({
    id: `${accountId}/blobServices/default`,
    name: 'default',
    type: BLOB_SERVICE_TYPE,
    properties: { cors: { corsRules: [] }, deleteRetentionPolicy: { enabled: false }, containerDeleteRetentionPolicy: { enabled: false }, isVersioningEnabled: false },
  });
  return {
    type: BLOB_SERVICE_TYPE,
    async get(req) {
      const r = containerRoute(req);
      await requireAccount(req, r);
      return { status: 200, body: render(r.accountId) };
    },
    async list(req) {
      const r = containerRoute({ ...req, route: { ...req.route, id: `${req.route.id}/default` } });
      await requireAccount(req, r);
      return [render(r.accountId)];
    },
  };
}

function containerProvider(opts: StorageProviderOptions): ProviderHandler {
  const render = (r: ContainerRoute, v: ContainerView) => ({
    id: `${r.accountId}/blobServices/default/containers/${v.name}`,
    name: v.name,
    type: CONTAINER_TYPE,
    etag: v.etag,
    properties: {
      publicAccess: 'None',
      leaseStatus: 'Unlocked',
      leaseState: 'Available',
      lastModifiedTime: iso(v.lastModified),
      ...(Object.keys(v.metadata).length > 0 ? { metadata: v.metadata } : {}),
      hasImmutabilityPolicy: false,
      hasLegalHold: false,
      defaultEncryptionScope: '$account-encryption-key',
      denyEncryptionScopeOverride: false,
      deleted: false,
      remainingRetentionDays: 0,
    },
  });
  const notFound = () => armError(404, 'ContainerNotFound', 'The specified container does not exist.');

  function parseInput(req: ArmRequest): Record<string, string> | undefined {
    const props = optionalObject(checkObject(req.body)['properties'], 'properties') ?? {};
    const access = props['publicAccess'];
    if (access !== undefined && access !== null && access !== 'None') throw armError(409, 'PublicAccessNotPermitted', 'Public access is not permitted on this storage account.');
    const md = optionalObject(props['metadata'], 'properties.metadata');
    if (md === undefined) return undefined;
    for (const [k, v] of Object.entries(md)) {
      if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw armError(400, 'InvalidRequestContent', `Metadata '${k}' is not a valid name/value pair.`);
    }
    return md as Record<string, string>;
  }

  async function write(req: ArmRequest, mode: 'put' | 'patch'): Promise<ArmResponse> {
    const r = containerRoute(req);
    await requireAccount(req, r);
    const name = req.route.name!;
    if (!CONTAINER_NAME.test(name)) {
      throw armError(400, 'ContainerOperationFailure', `The specified resource name contains invalid characters or is not 3-63 characters long: '${name}'.`);
    }
    const metadata = parseInput(req);
    const current = await opts.containers.get(r.account, name);
    if (mode === 'patch' && !current) throw notFound();
    const { view, created } = await opts.containers.put(r.account, name, metadata ?? current?.metadata ?? {});
    return { status: created ? 201 : 200, body: render(r, view) };
  }

  return {
    type: CONTAINER_TYPE,
    async get(req) {
      const r = containerRoute(req);
      await requireAccount(req, r);
      const v = await opts.containers.get(r.account, req.route.name!);
      if (!v) throw notFound();
      return { status: 200, body: render(r, v) };
    },
    put: (req) => write(req, 'put'),
    patch: (req) => write(req, 'patch'),
    async delete(req) {
      const r = containerRoute(req);
      await requireAccount(req, r);
      return { status: (await opts.containers.delete(r.account, req.route.name!)) ? 200 : 204 };
    },
    async list(req) {
      const r = containerRoute({ ...req, route: { ...req.route, id: req.route.id.replace(/\/containers$/i, '') } });
      await requireAccount(req, r);
      return (await opts.containers.list(r.account)).map((v) => render(r, v));
    },
  };
}
