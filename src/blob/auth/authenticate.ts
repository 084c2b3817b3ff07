import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Caller } from '../../core/caller.js';
import { isKeylessError } from '../../core/errors.js';
import type { StorageAccount } from '../domain/accounts.js';
import {
  authenticationFailed,
  invalidAuthenticationInfo,
  keyBasedAuthenticationNotPermitted,
  malformedAuthorizationHeader,
  noAuthenticationInformation,
  resourceNotFound,
} from '../errors.js';
import type { BlobTarget } from '../http/target.js';
import { parseSas, verifySas, type SasParams } from './sas.js';
import { parseSharedKeyAuthorization, verifySharedKey } from './shared-key.js';

/** Who a Blob request is from, as established by step 1 of the pipeline. */
export type BlobPrincipal =
  | { kind: 'bearer'; caller: Caller }
  | { kind: 'sharedKey'; keyName: string }
  | { kind: 'sas'; sas: SasParams; keyName: string };

export interface AuthenticationDeps {
  verifyBearer(token: string, audiences: string[]): Promise<Caller>;
  /** `Bearer authorization_uri=… resource_id=…`, unquoted and space-separated (protocols.md §4.3). */
  challenge: string;
  dnsSuffix: string;
  port: number;
  now(): number;
}

/** Storage rejects Shared Key requests whose x-ms-date/Date is further than this from its clock. */
const MAX_DATE_SKEW_MS = 15 * 60 * 1000;

export const STORAGE_RESOURCE = 'https://storage.azure.com';

/** Token audiences a Blob account accepts: the Storage resource, or the account's own URL. */
export function bearerAudiences(account: string, dnsSuffix: string, port: number): string[] {
  const host = `${account}.blob.${dnsSuffix}`;
  return [STORAGE_RESOURCE, `https://${host}`, `https://${host}:${port}`, `https://${account}.blob.core.windows.net`];
}

export function storageChallenge(loginBase: string, tenantId: string): string {
  return `Bearer authorization_uri=${loginBase}/${tenantId}/oauth2/authorize resource_id=${STORAGE_RESOURCE}`;
}

const TOKEN_DETAIL: Record<string, string> = {
  exp: 'Lifetime validation failed. The token is expired.',
  nbf: 'Lifetime validation failed. The token is not yet valid.',
  aud: 'Audience validation failed. Audience did not match.',
  iss: 'Issuer validation failed. Issuer did not match.',
  tid: 'Issuer validation failed. Issuer did not match.',
  sig: 'Signature validation failed. Signature is invalid.',
  kid: 'Signature validation failed. Unable to match key.',
};

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Step 1: Bearer, then Shared Key (both in `Authorization`), then a SAS in the query. No credential at all is
 * 401 NoAuthenticationInformation with the challenge that tells clients where to get a token (service
 * versions from 2019-12-12; older requests get the 404 they always got).
 */
export async function authenticate(req: IncomingMessage, target: BlobTarget, account: StorageAccount, deps: AuthenticationDeps): Promise<BlobPrincipal> {
  const authorization = header(req, 'authorization');
  if (authorization !== undefined && authorization.trim() !== '') {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (bearer) return { kind: 'bearer', caller: await bearerCaller(req, bearer[1]!, account, deps) };
    const sk = parseSharedKeyAuthorization(authorization);
    if (!sk) throw malformedAuthorizationHeader();
    if (!account.allowSharedKeyAccess) throw keyBasedAuthenticationNotPermitted();
    if (sk.account.toLowerCase() !== account.name) {
      throw authenticationFailed(`The account name '${sk.account}' in the Authorization header does not match the account '${account.name}' being accessed.`);
    }
    checkDate(req, deps.now());
    const verdict = verifySharedKey({ method: req.method ?? 'GET', rawPath: target.rawPath, rawQuery: target.rawQuery, headers: req.headers }, sk, account.keys);
    if (!verdict.ok) {
      throw authenticationFailed(
        `The MAC signature found in the HTTP request '${sk.signature}' is not the same as any computed signature. Server used following string to sign: '${verdict.stringToSign}'.`,
      );
    }
    return { kind: 'sharedKey', keyName: verdict.keyName };
  }
  const sas = parseSas(target.query);
  if (sas) {
    if (!account.allowSharedKeyAccess) throw keyBasedAuthenticationNotPermitted();
    const { keyName } = verifySas(sas, { account: account.name, container: target.container, blob: target.blob }, account.keys, {
      nowMs: deps.now(),
      remoteAddress: req.socket.remoteAddress,
      protocol: isTls(req) ? 'https' : 'http',
    });
    return { kind: 'sas', sas, keyName };
  }
  // Before service version 2019-12-12 a private resource simply did not exist for an anonymous caller; curl
  // (no x-ms-version at all) still sees that.
  const version = header(req, 'x-ms-version');
  if (version === undefined || version < '2019-12-12') throw resourceNotFound();
  throw noAuthenticationInformation(deps.challenge);
}

const isTls = (req: IncomingMessage): boolean => Boolean((req.socket as TLSSocket).encrypted);

async function bearerCaller(req: IncomingMessage, token: string, account: StorageAccount, deps: AuthenticationDeps): Promise<Caller> {
  // Tokens are bearer secrets: Storage never accepts one over plain HTTP.
  if (!isTls(req)) throw authenticationFailed('Authentication scheme Bearer is not allowed with HTTP.');
  try {
    return await deps.verifyBearer(token, bearerAudiences(account.name, deps.dnsSuffix, deps.port));
  } catch (e) {
    const reason = isKeylessError(e) ? String(e.extra['reason'] ?? '') : '';
    throw invalidAuthenticationInfo(TOKEN_DETAIL[reason] ?? 'Bearer token validation failed. The token is malformed or not issued by this server.', deps.challenge);
  }
}

function checkDate(req: IncomingMessage, now: number): void {
  const value = header(req, 'x-ms-date') ?? header(req, 'date');
  if (value === undefined || value === '') throw authenticationFailed('Request date header not specified.');
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw authenticationFailed(`The date header '${value}' is not in a valid format.`);
  if (t < now - MAX_DATE_SKEW_MS) throw authenticationFailed(`Request date header too old: '${value}'`);
  if (t > now + MAX_DATE_SKEW_MS) throw authenticationFailed(`Request date header too far in the future: '${value}'`);
}
