/**
 * Key Vault's response headers besides the request id and the body's type and length, as both the full pipeline
 * (app.ts) and the in-memory get (fast-get.ts) send them. The caller's x-ms-client-request-id is echoed.
 */
export function kvResponseHeaders(location: string | undefined, clientRequestId: unknown): [string, string][] {
  const h: [string, string][] = [['cache-control', 'no-cache']];
  if (location) h.push(['x-ms-keyvault-region', location]);
  h.push(['x-ms-keyvault-service-version', 'keyless']);
  if (typeof clientRequestId === 'string') h.push(['x-ms-client-request-id', clientRequestId]);
  return h;
}
