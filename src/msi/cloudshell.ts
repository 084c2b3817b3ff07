import type { IncomingMessage, ServerResponse } from 'node:http';
import { KeylessError, isKeylessError } from '../core/errors.js';
import type { SignInService } from '../signin/index.js';
import { imdsErrorBody, imdsTokenBody } from './wire.js';

const MAX_BODY = 8 * 1024;

export interface CloudShellDeps {
  signin: Pick<SignInService, 'managedIdentityToken'>;
}

/**
 * Cloud Shell's identity protocol (`MSI_ENDPOINT` without a secret): `POST` with `Metadata: true` and a form
 * body `resource=…[&client_id|object_id|msi_res_id]`. What az 2.45 sends when MSI_ENDPOINT is set, and what
 * the JS and Python SDKs send in Cloud Shell mode. Served on a VM's own listener, so the address the request
 * arrived on binds the caller as it does for IMDS; the answers are IMDS's (JSON strings, IMDS error bodies).
 */
export function createCloudShellHandler(deps: CloudShellDeps) {
  return async function handle(req: IncomingMessage, res: ServerResponse, hostKey: string): Promise<void> {
    try {
      if (req.method !== 'POST') throw new KeylessError(405, 'invalid_request', `The ${req.method} method is not supported on this path`);
      if (req.headers['metadata'] !== 'true') throw new KeylessError(400, 'invalid_request', 'Required metadata header not specified');
      if (req.headers['x-forwarded-for'] !== undefined) {
        throw new KeylessError(400, 'invalid_request', 'Requests with the X-Forwarded-For header are not allowed', { detail: 'x-forwarded-for present' });
      }
      const form = singleValued(new URLSearchParams(await readBody(req)));
      const resource = form.get('resource');
      if (!resource) throw new KeylessError(400, 'invalid_request', "Required form field 'resource' is missing");
      const token = await deps.signin.managedIdentityToken({
        hostKey,
        resource,
        endpoint: 'cloudshell',
        selector: { clientId: form.get('client_id'), objectId: form.get('object_id'), resourceId: form.get('msi_res_id') ?? form.get('mi_res_id') },
        // az sends `-u <objectId>` as client_id here and cannot fall back to object_id on this path.
        rules: { clientIdMayBeObjectId: true },
      });
      send(res, 200, imdsTokenBody(token));
    } catch (e) {
      const err = isKeylessError(e) ? e : new KeylessError(500, 'unknown', 'An unexpected error occurred', { detail: String(e) });
      send(res, err.status, imdsErrorBody(err), err.headers);
    }
  };
}

/** The form body, refused over 8 KiB or when it is not a form (a JSON body would silently lose `resource`). */
async function readBody(req: IncomingMessage): Promise<string> {
  const type = String(req.headers['content-type'] ?? 'application/x-www-form-urlencoded').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new KeylessError(415, 'invalid_request', `Content type '${type}' is not supported; send a form (application/x-www-form-urlencoded)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new KeylessError(413, 'invalid_request', 'Request body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function singleValued(params: URLSearchParams): { get(name: string): string | undefined } {
  const seen = new Map<string, string>();
  for (const [k, v] of params) {
    const key = k.toLowerCase();
    if (seen.has(key)) throw new KeylessError(400, 'invalid_request', `Form field '${k}' was specified more than once`);
    seen.set(key, v);
  }
  return { get: (n) => seen.get(n) || undefined };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
