import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { writeFaultResponse } from '../../../src/faults/render.js';
import type { Fault, FaultSurface } from '../../../src/faults/index.js';

function answer(surface: FaultSurface, fault: Partial<Fault>, req: Partial<IncomingMessage> = {}) {
  const out: { status?: number; headers?: Record<string, string>; body?: string } = {};
  const res = {
    writeHead(status: number, headers: Record<string, string>) {
      out.status = status;
      out.headers = headers;
    },
    end(b?: Buffer) {
      out.body = b?.toString('utf8');
    },
  } as unknown as ServerResponse;
  const f: Fault = { id: 'f7', surface, createdAt: 0, expiresAt: 1, applied: 1, status: 503, ...fault };
  writeFaultResponse(surface, { method: 'GET', headers: {}, ...req } as IncomingMessage, res, f, Date.UTC(2026, 0, 1));
  return { ...out, json: () => JSON.parse(out.body!) };
}

describe('injected errors in each surface’s own format', () => {
  it('IMDS: {error,error_description} and its Server header', () => {
    const r = answer('imds', { status: 410 });
    expect(r.status).toBe(410);
    expect(r.json()).toEqual({ error: 'gone', error_description: 'IMDS is being updated; retry (it becomes available within 70 seconds). (injected by Keyless fault f7)' });
    expect(r.headers!['Server']).toMatch(/^IMDS\//);
    expect(r.headers!['x-keyless-fault']).toBe('f7');
  });

  it('App Service: {statusCode,message,correlationId}; Cloud Shell (POST) answers as IMDS does', () => {
    const r = answer('appservice', { status: 500, message: 'boom' });
    expect(r.json()).toEqual({ statusCode: 500, message: 'boom', correlationId: r.headers!['X-CORRELATION-ID'] });
    expect(answer('appservice', { status: 500 }, { method: 'POST' }).json()).toMatchObject({ error: 'unknown' });
  });

  it('login: Entra’s body, echoing client-request-id; 429 and 5xx are temporarily_unavailable', () => {
    const r = answer('login', { status: 429, retryAfter: 3 }, { headers: { 'client-request-id': 'abc' } });
    expect(r.headers!['Retry-After']).toBe('3');
    expect(r.json()).toMatchObject({ error: 'temporarily_unavailable', correlation_id: 'abc', timestamp: '2026-01-01 00:00:00Z' });
  });

  it('Key Vault and ARM: {error:{code,message}} with their codes', () => {
    expect(answer('keyvault', { status: 429 }).json().error.code).toBe('Throttled');
    expect(answer('keyvault', { status: 503 }).json().error.code).toBe('ServiceUnavailable');
    expect(answer('arm', { status: 429 }).json().error.code).toBe('TooManyRequests');
    expect(answer('arm', { status: 418 }).json().error.code).toBe('BadRequest');
  });

  it('Blob: Storage XML and x-ms-error-code; HEAD gets no body', () => {
    const r = answer('blob', { status: 500 });
    expect(r.headers!['x-ms-error-code']).toBe('InternalError');
    expect(r.headers!['Content-Type']).toBe('application/xml');
    expect(r.body).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?><Error><Code>InternalError<\/Code><Message>The service is temporarily unavailable; retry\. \(injected by Keyless fault f7\)\nRequestId:/);
    expect(answer('blob', { status: 500 }, { method: 'HEAD' }).body).toBeUndefined();
  });
});
