import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SignInService } from '../signin/index.js';
import { createAppServiceHandler, MSI_TOKEN_PATH } from './appservice.js';
import { createCloudShellHandler } from './cloudshell.js';
import { sameSecret } from './identity-secrets.js';
import { canonicalPath } from './imds.js';
import { imdsErrorBody } from './wire.js';
import { KeylessError } from '../core/errors.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface VmMsiDeps {
  signin: Pick<SignInService, 'managedIdentityToken'>;
  /** Which VM a listener address belongs to (the IMDS caller binding). */
  hostFor(localAddress: string, localPort: number): string | undefined;
  /** The VM's IDENTITY_HEADER / MSI_SECRET (identity-secrets.ts). */
  vmSecret(hostKey: string, localAddress: string): string;
}

/**
 * A VM's own listener also serves `/msi/token`, so a process run as the VM can reach its identities through
 * the environment variables az and the SDKs read besides IMDS's (docs/identity-endpoints.md):
 *   POST            → Cloud Shell (MSI_ENDPOINT; az 2.45, SDK Cloud Shell mode)
 *   GET 2019-08-01  → App Service (IDENTITY_ENDPOINT + IDENTITY_HEADER; the SDKs' first choice)
 *   GET 2017-09-01  → App Service 2017 / Azure ML (MSI_ENDPOINT + MSI_SECRET)
 * The address binds the caller to the VM; the GET forms also need the VM's secret, as App Service does.
 * Every other path goes to IMDS.
 */
export function withVmMsiEndpoint(imds: Handler, deps: VmMsiDeps): Handler {
  const cloudShell = createCloudShellHandler(deps);
  const appService = createAppServiceHandler({
    signin: deps.signin,
    async bind(req, presented) {
      const address = localAddress(req);
      const hostKey = deps.hostFor(address, req.socket.localPort ?? 0);
      if (!hostKey || !sameSecret(presented.secret, deps.vmSecret(hostKey, address))) return undefined;
      return { hostKey };
    },
  });
  return (req, res) => {
    if (!isMsiTokenRequest(req.url)) return imds(req, res);
    if (req.method === 'POST') {
      const hostKey = deps.hostFor(localAddress(req), req.socket.localPort ?? 0);
      if (!hostKey) return sendImdsError(res, new KeylessError(400, 'invalid_request', 'Identity not found'));
      return cloudShell(req, res, hostKey);
    }
    return appService(req, res);
  };
}

/** Every IMDS request passes here: the cheap test rules most of them out before the exact one. */
export function isMsiTokenRequest(url: string | undefined): boolean {
  const u = url ?? '/';
  // Case-insensitive 'msi' anywhere: the exact test below runs only for URLs that could match.
  if (!/msi/i.test(u)) return false;
  const q = u.indexOf('?');
  const path = q < 0 ? u : u.slice(0, q);
  return MSI_TOKEN_TAIL.test(path) && canonicalPath(path) === MSI_TOKEN_PATH;
}
const MSI_TOKEN_TAIL = /\/msi\/token\/?$/i;

function localAddress(req: IncomingMessage): string {
  const a = req.socket.localAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function sendImdsError(res: ServerResponse, e: KeylessError): void {
  const text = JSON.stringify(imdsErrorBody(e));
  res.writeHead(e.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
