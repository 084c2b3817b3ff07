import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KeylessError } from '../core/errors.js';
import { serializeArmError } from '../arm/errors.js';
import { errorXml } from '../blob/xml.js';
import { serializeKvError } from '../keyvault/errors.js';
import { entraErrorBody } from '../login/errors.js';
import { appServiceErrorBody } from '../msi/appservice-wire.js';
import { imdsErrorBody } from '../msi/wire.js';
import type { Fault, FaultSurface } from './registry.js';

/**
 * An injected error answered the way the surface answers its own errors, so a client's error handling and
 * retry policy see what the real service would send: IMDS `{error,error_description}`, App Service
 * `{statusCode,message,correlationId}`, Entra's AADSTS-style body, ARM / Key Vault `{error:{code,message}}`,
 * Storage XML with `x-ms-error-code`. `x-keyless-fault` names the fault, for whoever reads the trace.
 */
export function writeFaultResponse(surface: FaultSurface, req: IncomingMessage, res: ServerResponse, f: Fault, now: number): void {
  const status = f.status!;
  const e = new KeylessError(status, codeFor(surface, status), f.message ?? defaultMessage(surface, status, f.id));
  const headers: Record<string, string> = { 'x-keyless-fault': f.id };
  if (f.retryAfter !== undefined) headers['Retry-After'] = String(f.retryAfter);
  let type = 'application/json; charset=utf-8';
  let body: string;
  switch (surface) {
    case 'imds':
      body = JSON.stringify(imdsErrorBody(e));
      headers['Server'] = 'IMDS/150.870.65.1854';
      break;
    case 'appservice':
      // Cloud Shell (POST /msi/token) answers in IMDS's shape; App Service in its own.
      if (req.method === 'POST') body = JSON.stringify(imdsErrorBody(e));
      else {
        const correlationId = randomUUID();
        headers['X-CORRELATION-ID'] = correlationId;
        body = JSON.stringify(appServiceErrorBody(e, correlationId));
      }
      break;
    case 'login': {
      const correlationId = headerValue(req, 'client-request-id') ?? randomUUID();
      headers['client-request-id'] = correlationId;
      headers['Cache-Control'] = 'no-store';
      body = JSON.stringify(entraErrorBody(e, correlationId, new Date(now)));
      break;
    }
    case 'arm':
      body = JSON.stringify(serializeArmError(e));
      break;
    case 'keyvault':
      // Key Vault answers carry an id the surface itself sets (the request-log wrapper does not for this surface).
      headers['x-ms-request-id'] = randomUUID();
      body = JSON.stringify(serializeKvError(e));
      break;
    case 'blob': {
      const requestId = randomUUID();
      headers['x-ms-request-id'] = requestId;
      headers['x-ms-error-code'] = e.code;
      headers['x-ms-version'] = headerValue(req, 'x-ms-version') ?? '2025-01-05';
      type = 'application/xml';
      body = errorXml(e.code, e.message, [], requestId, now);
      break;
    }
  }
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': String(bytes.length) });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

const GENERIC: Record<number, [oauth: string, azure: string, storage: string]> = {
  400: ['invalid_request', 'BadRequest', 'InvalidInput'],
  401: ['unauthorized_client', 'Unauthorized', 'NoAuthenticationInformation'],
  403: ['access_denied', 'Forbidden', 'AuthorizationFailure'],
  404: ['not_found', 'NotFound', 'ResourceNotFound'],
  408: ['request_timeout', 'RequestTimeout', 'OperationTimedOut'],
  409: ['conflict', 'Conflict', 'OperationNotAllowedInCurrentState'],
  410: ['gone', 'Gone', 'ResourceNotFound'],
  429: ['too_many_requests', 'TooManyRequests', 'ServerBusy'],
  500: ['unknown', 'InternalServerError', 'InternalError'],
  502: ['bad_gateway', 'BadGateway', 'InternalError'],
  503: ['service_unavailable', 'ServiceUnavailable', 'ServerBusy'],
  504: ['gateway_timeout', 'GatewayTimeout', 'OperationTimedOut'],
};

function codeFor(surface: FaultSurface, status: number): string {
  const row = GENERIC[status] ?? (status >= 500 ? GENERIC[500]! : GENERIC[400]!);
  switch (surface) {
    case 'imds':
    case 'appservice':
      return row[0];
    case 'login':
      // Entra's OAuth vocabulary: a 429 or 5xx is temporarily_unavailable, which msal treats as retryable.
      return status === 429 || status >= 500 ? 'temporarily_unavailable' : 'invalid_request';
    case 'keyvault':
      return status === 429 ? 'Throttled' : row[1];
    case 'arm':
      return row[1];
    case 'blob':
      return row[2];
  }
}

function defaultMessage(surface: FaultSurface, status: number, id: string): string {
  const what =
    surface === 'imds' && status === 410
      ? 'IMDS is being updated; retry (it becomes available within 70 seconds).'
      : status === 429
        ? 'Too many requests; retry after the Retry-After interval.'
        : status >= 500
          ? 'The service is temporarily unavailable; retry.'
          : 'The request failed.';
  return `${what} (injected by Keyless fault ${id})`;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
