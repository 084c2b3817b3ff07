import https from 'node:https';

export interface FetchJsonOptions {
  timeoutMs: number;
  maxBytes: number;
  /** Extra trusted CAs; when absent Node's store (plus NODE_EXTRA_CA_CERTS) is used. Verification is never off. */
  ca?: string | string[] | undefined;
}

export class FetchJsonError extends Error {
  override name = 'FetchJsonError';
}

/**
 * GETs a JSON document over HTTPS for issuer metadata: TLS verified, no redirects followed (the issuer names its
 * own URLs), a hard timeout for the whole exchange and a size cap, so a slow or huge response cannot hold a token
 * request or the process memory.
 */
export function fetchJson(url: string, opts: FetchJsonOptions): Promise<unknown> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(new FetchJsonError(`not a URL: ${url}`));
  }
  if (parsed.protocol !== 'https:') return Promise.reject(new FetchJsonError(`not https: ${url}`));
  return new Promise((resolve, reject) => {
    const req = https.request(
      parsed,
      { method: 'GET', headers: { Accept: 'application/json' }, rejectUnauthorized: true, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new FetchJsonError(`GET ${url}: HTTP ${res.statusCode ?? 0}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > opts.maxBytes) {
            req.destroy(new FetchJsonError(`GET ${url}: response larger than ${opts.maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            reject(new FetchJsonError(`GET ${url}: response is not JSON`));
          }
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new FetchJsonError(`GET ${url}: timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('error', (e) => reject(e instanceof FetchJsonError ? e : new FetchJsonError(`GET ${url}: ${e.message}`)));
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
}
