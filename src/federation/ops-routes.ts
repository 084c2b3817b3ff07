import type { IncomingMessage } from 'node:http';
import type { AccessControl } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import { KeylessError } from '../core/errors.js';
import type { ResourceService } from '../resources/index.js';
import type { OpsRoute } from '../server/ops.js';
import { FIC_TYPE_KEY, ficFromDocument } from './fic-rules.js';
import type { WorkloadIssuer } from './workload-issuer.js';

const UAI_TYPE_KEY = 'microsoft.managedidentity/userassignedidentities';
/** Using an identity is what Managed Identity Operator grants: the action ARM checks when one is attached to a VM. */
export const ASSIGN_ACTION = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';
const MAX_BODY = 16 * 1024;

export interface WorkloadOpsDeps {
  issuer: WorkloadIssuer;
  resources: ResourceService;
  access: AccessControl;
  tenantId: string;
  /** What a workload needs besides the token file: AZURE_AUTHORITY_HOST and the CA files. */
  environment: Record<string, string>;
}

/**
 * The ops surface's share of workload identity:
 * - `GET {issuer}/.well-known/openid-configuration` and `GET {issuer}/openid/v1/jwks`, public like any OIDC issuer's;
 * - `POST /keyless/v1/workload-identity/token`, what `keyless run --workload-identity` calls: a short-lived token
 *   from Keyless's issuer for a subject, plus the environment that makes the SDKs exchange it for the identity.
 */
export function workloadOpsRoute(deps: WorkloadOpsDeps): OpsRoute {
  const issuerPath = new URL(deps.issuer.url).pathname.toLowerCase();
  return async (req, ctx) => {
    if (req.method === 'GET' && ctx.path === `${issuerPath}/.well-known/openid-configuration`) {
      return { status: 200, body: deps.issuer.discovery(), headers: { 'Cache-Control': 'max-age=300, public' } };
    }
    if (req.method === 'GET' && ctx.path === `${issuerPath}/openid/v1/jwks`) {
      return { status: 200, body: deps.issuer.jwks(), headers: { 'Cache-Control': 'max-age=300, public' } };
    }
    if (ctx.path === '/keyless/v1/workload-identity/token') {
      if (req.method !== 'POST') throw new KeylessError(405, 'MethodNotAllowed', 'Use POST.');
      const caller = await ctx.authenticate();
      return { status: 200, body: await issueForIdentity(deps, caller, await readJson(req)) };
    }
    return undefined;
  };
}

async function issueForIdentity(deps: WorkloadOpsDeps, caller: Caller, body: Record<string, unknown>): Promise<unknown> {
  const identityId = body['identity'];
  const subject = body['subject'];
  const audience = body['audience'];
  const lifetime = body['lifetimeSeconds'];
  if (typeof identityId !== 'string' || !identityId.startsWith('/subscriptions/')) {
    throw new KeylessError(400, 'BadRequest', "'identity' must be the resource id of a user-assigned identity.");
  }
  if (typeof subject !== 'string') throw new KeylessError(400, 'BadRequest', "'subject' is required.");
  if (audience !== undefined && typeof audience !== 'string') throw new KeylessError(400, 'BadRequest', "'audience' must be a string.");
  if (lifetime !== undefined && typeof lifetime !== 'number') throw new KeylessError(400, 'BadRequest', "'lifetimeSeconds' must be a number.");

  const identity = await deps.resources.get(identityId);
  if (!identity || identity.typeKey !== UAI_TYPE_KEY) {
    throw new KeylessError(404, 'ResourceNotFound', `The user-assigned identity '${identityId}' was not found.`);
  }
  // The token is a bearer credential for every identity that trusts this issuer and subject, not only the one
  // named: the caller must be allowed to use each of them.
  const trusting = new Set([identity.id]);
  for (const doc of await deps.resources.list({ typeKey: FIC_TYPE_KEY })) {
    const fic = ficFromDocument(doc.body);
    if (fic && fic.properties.issuer === deps.issuer.url && fic.properties.subject === subject && doc.parentKey) {
      const parent = await deps.resources.get(doc.parentKey);
      if (parent) trusting.add(parent.id);
    }
  }
  for (const scope of trusting) {
    const d = deps.access.check({ principalId: caller.objectId, action: ASSIGN_ACTION, isDataAction: false, scope });
    if (!d.allowed) {
      throw new KeylessError(
        403,
        'AuthorizationFailed',
        `The client '${caller.clientName}' with object id '${caller.objectId}' does not have authorization to perform action '${ASSIGN_ACTION}' over scope '${scope}' (a token for subject '${subject}' would let it act as that identity): ${d.summary}`,
      );
    }
  }
  const t = deps.issuer.mint({ subject, audience, lifetimeSec: lifetime });
  const props = identity.body.properties ?? {};
  return {
    token: t.token,
    issuer: t.issuer,
    subject: t.subject,
    audience: t.audience,
    expiresOn: t.expiresOn,
    identity: { id: identity.id, clientId: props['clientId'], principalId: props['principalId'], tenantId: deps.tenantId },
    environment: { ...deps.environment, AZURE_CLIENT_ID: String(props['clientId'] ?? ''), AZURE_TENANT_ID: deps.tenantId },
  };
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new KeylessError(413, 'RequestEntityTooLarge', `The request body exceeds ${MAX_BODY} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new KeylessError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized: a JSON object was expected.'));
      }
    });
    req.on('error', reject);
  });
}
