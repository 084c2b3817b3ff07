import type { Logger } from 'pino';

/** Field names whose values never reach a log line, at any of the first three levels of a log object. */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'client_secret',
  'clientSecret',
  'client_assertion',
  'clientAssertion',
  'access_token',
  'accessToken',
  'refresh_token',
  'id_token',
  'token',
  'sig',
  'password',
  'secret',
];

/** pino `redact` paths: `authorization`, `*.authorization`, `*.*.authorization` … */
export const LOG_REDACT_PATHS: string[] = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

/**
 * The server's logger with redaction applied, whatever logger the caller handed in: request headers, OAuth form
 * fields and SAS signatures are censored by key. (Messages themselves never quote them: surfaces log paths
 * without query strings.)
 */
export function withRedaction(log: Logger): Logger {
  return log.child({}, { redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } });
}
