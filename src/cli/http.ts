import https from 'node:https';

export interface JsonResponse {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

/** A small HTTPS JSON client that trusts Keyless's CA (Node's fetch cannot take a CA without undici). */
export function requestJson(
  method: string,
  url: string,
  opts: { ca: string; headers?: Record<string, string>; body?: string | undefined },
): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca: opts.ca, headers: { Accept: 'application/json', ...(opts.headers ?? {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text for the error message
        }
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
