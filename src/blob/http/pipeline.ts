import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AccessControl } from '../../core/access.js';
import type { Clock } from '../../core/clock.js';
import { isKeylessError, type KeylessError } from '../../core/errors.js';
import { authenticate, type AuthenticationDeps } from '../auth/authenticate.js';
import { authorizeBlob } from '../authorize.js';
import type { AccountRegistry } from '../domain/accounts.js';
import type { BlobService } from '../domain/service.js';
import { authorizationPermissionMismatch, internalError, isStorageError, resourceNotFound, storageError } from '../errors.js';
import { identifyOperation } from '../operations.js';
import { Exchange } from './exchange.js';
import { handlers, type HandlerDeps } from './handlers.js';
import { parseTarget } from './target.js';
import type { DataAccessEvent } from '../../core/data-access.js';

/** What the blob surface reports per decision; the plugin adds `surface: 'blob'`. */
export type DataAccessRecord = Omit<DataAccessEvent, 'surface'>;

export interface BlobSurfaceDeps {
  dnsSuffix: string;
  clock: Clock;
  log: Logger;
  accounts: AccountRegistry;
  blobs: BlobService;
  access: AccessControl;
  auth: AuthenticationDeps;
  limits: HandlerDeps['limits'];
  record(e: DataAccessRecord): void;
}

/**
 * The Blob data plane as a plain node:http handler. Not fastify: every content type is a blob body (no parser
 * should touch it), bodies and downloads are sized and streamed by hand, and Storage's wire details (reason
 * phrases carrying the error message, HEAD errors without bodies) are easier to keep exact at this level.
 *
 * Each request runs the architecture's pipeline top to bottom, in `handle`:
 * route (account) → 1. authenticate → operation → 2. authorize → 3. handle → 5. serialize, with 4. audit once
 * the status is known.
 */
export function createBlobHandler(deps: BlobSurfaceDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const handlerDeps: HandlerDeps = { blobs: deps.blobs, limits: deps.limits };

  async function handle(ex: Exchange): Promise<void> {
    const target = (ex.target = parseTarget(ex.req, deps.dnsSuffix));
    const account = await deps.accounts.get(target.account);
    if (!account) throw resourceNotFound();
    ex.account = account;

    ex.principal = await authenticate(ex.req, target, account, deps.auth);

    // Which operation this is matters from here on (permissions); an unknown one is refused only to callers
    // who proved who they are.
    const op = (ex.op = identifyOperation(ex.req.method ?? 'GET', target.level, target.query, ex.req.headers));

    // Create-only permissions (SAS `c`, RBAC `add/action`) depend on whether the blob exists.
    const { container, blob } = target;
    ex.decision = await authorizeBlob(deps.access, ex.principal, op, account, {
      container,
      blob,
      prefix: op.name === 'ListBlobs' ? target.query.get('prefix') : undefined,
      exists: () => (container !== undefined && blob !== undefined ? deps.blobs.blobExists(account.name, container, blob) : Promise.resolve(true)),
    });
    if (!ex.decision.allowed) throw ex.decision.error ?? authorizationPermissionMismatch();

    await handlers[op.name](ex, handlerDeps);
  }

  function audit(ex: Exchange): void {
    const d = ex.decision;
    if (!d) return;
    const caller = ex.principal?.kind === 'bearer' ? ex.principal.caller : undefined;
    deps.record({
      principalId: caller?.objectId,
      appId: caller?.appId,
      via: d.via,
      action: d.action,
      scope: d.scope,
      allowed: d.allowed,
      status: ex.res.statusCode,
      summary: d.summary,
      explanation: d.explanation,
      ...(d.auditOnly ? { auditOnly: true } : {}),
    });
  }

  function fail(ex: Exchange, err: unknown): void {
    const e = toStorageError(err);
    // Only the path: the query may hold a SAS signature.
    const where = { surface: 'blob', method: ex.req.method, path: ex.target?.rawPath ?? (ex.req.url ?? '').split('?')[0], code: e.code, requestId: ex.requestId };
    if (e.status >= 500) deps.log.error({ ...where, detail: e.detail }, 'internal error');
    else deps.log.debug({ ...where, detail: e.detail }, 'request refused');
    if (ex.committed) {
      // Headers (and maybe bytes) are out: the only honest signal left is a broken connection.
      ex.res.destroy(err instanceof Error ? err : undefined);
      return;
    }
    ex.sendError(e);
  }

  return (req, res) => {
    const ex = new Exchange(req, res, deps.clock.now());
    handle(ex)
      .catch((err: unknown) => fail(ex, err))
      .catch((err: unknown) => {
        deps.log.error({ surface: 'blob', err: String(err) }, 'failed to send error');
        res.destroy();
      })
      .finally(() => audit(ex));
  };
}

/** Client mistakes keep their Storage code; anything else is a 500 InternalError whose detail stays in the log. */
function toStorageError(err: unknown): KeylessError {
  if (isStorageError(err)) return err;
  if (isKeylessError(err)) {
    if (err.status < 500) return storageError(err.status, err.code, err.message, { headers: err.headers, ...(err.detail ? { detail: err.detail } : {}) });
    return internalError(err.detail ?? err.message);
  }
  return internalError(err instanceof Error ? (err.stack ?? err.message) : String(err));
}
