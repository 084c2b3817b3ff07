import { randomUUID } from 'node:crypto';
import type { KeylessError } from '../core/errors.js';

/** Entra's error body: msal throws on `error`, and people read `error_description` in logs. */
export function entraErrorBody(e: KeylessError, correlationId: string, now: Date) {
  const traceId = randomUUID();
  const ts = now.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const code = typeof e.extra['aadstsCode'] === 'number' ? e.extra['aadstsCode'] : undefined;
  return {
    error: e.code,
    error_description: `${e.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${ts}`,
    error_codes: code === undefined ? [] : [code],
    timestamp: ts,
    trace_id: traceId,
    correlation_id: correlationId,
    ...(code === undefined ? {} : { error_uri: `https://login.microsoftonline.com/error?code=${code}` }),
  };
}
