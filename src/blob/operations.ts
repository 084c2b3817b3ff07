import { invalidQueryParameterValue, invalidUri, missingRequiredHeader, notImplemented, unsupportedHttpVerb } from './errors.js';
import type { Query } from './query.js';

/**
 * Which Blob REST operation a request is, and what each operation needs from each kind of caller. One table,
 * read top to bottom: the RBAC action (authorization.md §3.2), and the SAS permission letters (Azure's "Create
 * an account SAS" / "Create a service SAS" permission tables).
 */
export type OperationName =
  | 'ListContainers'
  | 'GetServiceProperties'
  | 'GetAccountInformation'
  | 'CreateContainer'
  | 'DeleteContainer'
  | 'GetContainerProperties'
  | 'SetContainerMetadata'
  | 'ListBlobs'
  | 'PutBlob'
  | 'GetBlob'
  | 'GetBlobProperties'
  | 'DeleteBlob'
  | 'GetBlobMetadata'
  | 'SetBlobMetadata'
  | 'SetBlobProperties'
  | 'PutBlock'
  | 'PutBlockList'
  | 'GetBlockList';

export type Level = 'service' | 'container' | 'blob';

const CONTAINERS = 'Microsoft.Storage/storageAccounts/blobServices/containers';
const BLOBS = `${CONTAINERS}/blobs`;

export interface OperationSpec {
  name: OperationName;
  level: Level;
  /** Bearer callers: the action checked, at the container (or blob service) scope. */
  rbac: {
    action: string;
    dataAction: boolean;
    subOperation?: string;
    /** Creating a new blob is also allowed by `add/action` (Azure: "create only"). */
    createAlternative?: string;
  };
  /** Account SAS: the signed resource type and the permission letters, any one of which suffices. */
  accountSas: { resourceType: 's' | 'c' | 'o'; anyOf: string };
  /** Service SAS: letters any one of which suffices; undefined when a service SAS cannot authorize it. */
  serviceSas: { anyOf: string } | undefined;
  /** `c` (create) alone only authorizes creating: on an existing blob the caller needs `w`. */
  createOnly?: boolean;
}

const op = (spec: OperationSpec): OperationSpec => spec;

export const OPERATIONS: Record<OperationName, OperationSpec> = {
  ListContainers: op({ name: 'ListContainers', level: 'service', rbac: { action: `${CONTAINERS}/read`, dataAction: false }, accountSas: { resourceType: 's', anyOf: 'l' }, serviceSas: undefined }),
  GetServiceProperties: op({ name: 'GetServiceProperties', level: 'service', rbac: { action: 'Microsoft.Storage/storageAccounts/blobServices/read', dataAction: false }, accountSas: { resourceType: 's', anyOf: 'r' }, serviceSas: undefined }),
  GetAccountInformation: op({ name: 'GetAccountInformation', level: 'service', rbac: { action: `${BLOBS}/read`, dataAction: true }, accountSas: { resourceType: 's', anyOf: 'rwdlacup' }, serviceSas: { anyOf: 'racwdl' } }),
  CreateContainer: op({ name: 'CreateContainer', level: 'container', rbac: { action: `${CONTAINERS}/write`, dataAction: false }, accountSas: { resourceType: 'c', anyOf: 'cw' }, serviceSas: undefined }),
  DeleteContainer: op({ name: 'DeleteContainer', level: 'container', rbac: { action: `${CONTAINERS}/delete`, dataAction: false }, accountSas: { resourceType: 'c', anyOf: 'd' }, serviceSas: { anyOf: 'd' } }),
  GetContainerProperties: op({ name: 'GetContainerProperties', level: 'container', rbac: { action: `${CONTAINERS}/read`, dataAction: false }, accountSas: { resourceType: 'c', anyOf: 'r' }, serviceSas: { anyOf: 'r' } }),
  SetContainerMetadata: op({ name: 'SetContainerMetadata', level: 'container', rbac: { action: `${CONTAINERS}/write`, dataAction: false }, accountSas: { resourceType: 'c', anyOf: 'w' }, serviceSas: { anyOf: 'w' } }),
  ListBlobs: op({ name: 'ListBlobs', level: 'container', rbac: { action: `${BLOBS}/read`, dataAction: true, subOperation: 'Blob.List' }, accountSas: { resourceType: 'c', anyOf: 'l' }, serviceSas: { anyOf: 'l' } }),
  PutBlob: op({ name: 'PutBlob', level: 'blob', rbac: { action: `${BLOBS}/write`, dataAction: true, createAlternative: `${BLOBS}/add/action` }, accountSas: { resourceType: 'o', anyOf: 'cw' }, serviceSas: { anyOf: 'cw' }, createOnly: true}),
  GetBlob: op({ name: 'GetBlob', level: 'blob', rbac: { action: `${BLOBS}/read`, dataAction: true }, accountSas: { resourceType: 'o', anyOf: 'r' }, serviceSas: { anyOf: 'r' } }),
  GetBlobProperties: op({ name: 'GetBlobProperties', level: 'blob', rbac: { action: `${BLOBS}/read`, dataAction: true }, accountSas: { resourceType: 'o', anyOf: 'r' }, serviceSas: { anyOf: 'r' } }),
  GetBlobMetadata: op({ name: 'GetBlobMetadata', level: 'blob', rbac: { action: `${BLOBS}/read`, dataAction: true }, accountSas: { resourceType: 'o', anyOf: 'r' }, serviceSas: { anyOf: 'r' } }),
  DeleteBlob: op({ name: 'DeleteBlob', level: 'blob', rbac: { action: `${BLOBS}/delete`, dataAction: true }, accountSas: { resourceType: 'o', anyOf: 'd' }, serviceSas: { anyOf: 'd' } }),
  SetBlobMetadata: op({ name: 'SetBlobMetadata', level: 'blob', rbac: { action: `${BLOBS}/write`, dataAction: true }, accountSas: { resourceType: 'o', anyOf: 'w' }, serviceSas: { anyOf: 'w' } }),
  SetBlobProperties: op({ name: 'SetBlobProperties', level: 'blob', rbac: { action: `${BLOBS}/write`, dataAction: true }, accountSas: { resourceType: 'o', anyOf: 'w' }, serviceSas: { anyOf: 'w' } }),
  PutBlock: op({ name: 'PutBlock', level: 'blob', rbac: { action: `${BLOBS}/write`, dataAction: true, createAlternative: `${BLOBS}/add/action` }, accountSas: { resourceType: 'o', anyOf: 'cw' }, serviceSas: { anyOf: 'cw' }, createOnly: true}),
  PutBlockList: op({ name: 'PutBlockList', level: 'blob', rbac: { action: `${BLOBS}/write`, dataAction: true, createAlternative: `${BLOBS}/add/action` }, accountSas: { resourceType: 'o', anyOf: 'cw' }, serviceSas: { anyOf: 'cw' }, createOnly: true}),
  GetBlockList: op({ name: 'GetBlockList', level: 'blob', rbac: { action: `${BLOBS}/read`, dataAction: true }, accountSas: { resourceType: 'o', anyOf: 'r' }, serviceSas: { anyOf: 'r' } }),
};

type HeaderBag = Record<string, string | string[] | undefined>;

/**
 * Dispatch on verb, level and `restype`/`comp`, the way the service does. Anything Azure has but Keyless does
 * not (leases, snapshots, tags, page/append blobs, copy, ACLs …) is 501 NotImplemented rather than a silent
 * misread of the request.
 */
export function identifyOperation(method: string, level: Level, query: Query, headers: HeaderBag): OperationSpec {
  const m = method.toUpperCase();
  if (!['GET', 'HEAD', 'PUT', 'DELETE'].includes(m)) throw unsupportedHttpVerb(m);
  const restype = query.get('restype');
  const comp = query.get('comp');

  if (level === 'service') {
    if (comp === 'list' && m === 'GET') return OPERATIONS.ListContainers;
    if (restype === 'service' && comp === 'properties' && m === 'GET') return OPERATIONS.GetServiceProperties;
    if (restype === 'account' && comp === 'properties' && (m === 'GET' || m === 'HEAD')) return OPERATIONS.GetAccountInformation;
    if (comp !== undefined && ['stats', 'usercontext', 'blobs', 'userdelegationkey', 'batch', 'properties'].includes(comp)) throw notImplemented(`service comp=${comp}`);
    if (comp !== undefined) throw invalidQueryParameterValue('comp', comp);
    throw invalidQueryParameterValue('comp', '');
  }

  if (level === 'container') {
    if (restype !== 'container') {
      // `/{name}` without restype addresses a blob in the $root container, which Keyless does not have.
      if (restype !== undefined) throw invalidQueryParameterValue('restype', restype);
      throw invalidUri();
    }
    if (comp === undefined) {
      if (m === 'PUT') return OPERATIONS.CreateContainer;
      if (m === 'DELETE') return OPERATIONS.DeleteContainer;
      return OPERATIONS.GetContainerProperties;
    }
    if (comp === 'metadata') {
      if (m === 'PUT') return OPERATIONS.SetContainerMetadata;
      if (m === 'GET' || m === 'HEAD') return OPERATIONS.GetContainerProperties;
      throw unsupportedHttpVerb(m);
    }
    if (comp === 'list') {
      if (m === 'GET') return OPERATIONS.ListBlobs;
      throw unsupportedHttpVerb(m);
    }
    if (['acl', 'lease', 'undelete', 'rename', 'batch', 'blobs'].includes(comp)) throw notImplemented(`container comp=${comp}`);
    throw invalidQueryParameterValue('comp', comp);
  }

  // blob level
  if (query.has('snapshot') || query.has('versionid')) throw notImplemented('blob snapshots and versions');
  if (comp === undefined) {
    switch (m) {
      case 'GET':
        return OPERATIONS.GetBlob;
      case 'HEAD':
        return OPERATIONS.GetBlobProperties;
      case 'DELETE':
        return OPERATIONS.DeleteBlob;
      default: {
        if (headers['x-ms-copy-source'] !== undefined) throw notImplemented('copy blob');
        const type = headers['x-ms-blob-type'];
        const t = Array.isArray(type) ? type[0] : type;
        if (t === undefined || t === '') throw missingRequiredHeader('x-ms-blob-type');
        if (t === 'BlockBlob') return OPERATIONS.PutBlob;
        if (t === 'PageBlob' || t === 'AppendBlob') throw notImplemented(`${t} blobs`);
        throw invalidQueryParameterValue('x-ms-blob-type', t);
      }
    }
  }
  switch (comp) {
    case 'metadata':
      if (m === 'PUT') return OPERATIONS.SetBlobMetadata;
      if (m === 'GET' || m === 'HEAD') return OPERATIONS.GetBlobMetadata;
      throw unsupportedHttpVerb(m);
    case 'properties':
      if (m === 'PUT') return OPERATIONS.SetBlobProperties;
      throw unsupportedHttpVerb(m);
    case 'block':
      if (m === 'PUT') {
        if (headers['x-ms-copy-source'] !== undefined) throw notImplemented('put block from URL');
        return OPERATIONS.PutBlock;
      }
      throw unsupportedHttpVerb(m);
    case 'blocklist':
      if (m === 'PUT') return OPERATIONS.PutBlockList;
      if (m === 'GET') return OPERATIONS.GetBlockList;
      throw unsupportedHttpVerb(m);
    default:
      if (['lease', 'snapshot', 'tags', 'tier', 'copy', 'undelete', 'page', 'pagelist', 'appendblock', 'seal', 'query', 'immutabilityPolicies', 'legalhold', 'expiry'].includes(comp)) {
        throw notImplemented(`blob comp=${comp}`);
      }
      throw invalidQueryParameterValue('comp', comp);
  }
}
