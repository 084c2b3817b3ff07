import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { KeylessMetrics } from '../../../src/server/metrics.js';
import { withRedaction } from '../../../src/server/logging.js';
import type { AccessControl } from '../../../src/core/access.js';

function capture() {
  const lines: any[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, done) => (c.toString().split('\n').filter(Boolean).forEach((l) => lines.push(JSON.parse(l))), done()) });
  return { lines, log: pino({ level: 'info' }, sink) };
}

describe('KeylessMetrics', () => {
  it('uses its own registry: two instances do not share counters', async () => {
    const a = new KeylessMetrics();
    const b = new KeylessMetrics();
    a.signIn({ endpoint: 'imds', kind: 'managedIdentity', success: true, cached: true });
    expect(await a.registry.metrics()).toContain('keyless_tokens_issued_total{endpoint="imds",kind="managedIdentity",result="success"} 1');
    expect(await a.registry.metrics()).toContain('keyless_token_cache_hits_total 1');
    expect(await b.registry.metrics()).not.toContain('endpoint="imds"');
  });

  it('counts decisions through a wrapped AccessControl, passing results through unchanged', async () => {
    const m = new KeylessMetrics();
    const inner: AccessControl = { mode: 'enforce', check: (c) => ({ granted: c.action === 'ok', allowed: c.action === 'ok', mode: 'enforce', conditionInvolved: false, summary: '', explanation: null }), visibleSubscriptions: () => 'all' };
    const counted = m.countingAccess(inner, 'arm');
    expect(counted.check({ principalId: 'p', action: 'ok', isDataAction: false, scope: '/' }).allowed).toBe(true);
    expect(counted.check({ principalId: 'p', action: 'no', isDataAction: false, scope: '/' }).allowed).toBe(false);
    expect(counted.mode).toBe('enforce');
    const text = await m.registry.metrics();
    expect(text).toContain('keyless_authz_decisions_total{surface="arm",result="allowed"} 1');
    expect(text).toContain('keyless_authz_decisions_total{surface="arm",result="denied"} 1');
  });

  it('instruments a handler: histogram, one log line with the request id, no query string', async () => {
    const m = new KeylessMetrics();
    const { lines, log } = capture();
    const server = http.createServer(
      m.instrumentAll(
        {
          own: (_q: http.IncomingMessage, s: http.ServerResponse) => {
            s.writeHead(201, { 'x-ms-request-id': 'surface-id' });
            s.end();
          },
          plain: async (_q: http.IncomingMessage, s: http.ServerResponse) => {
            s.end('x');
          },
          broken: () => {
            throw new Error('boom');
          },
        },
        log,
      ).own!,
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const get = (p: string) => new Promise<http.IncomingMessage>((resolve) => http.get(`http://127.0.0.1:${port}${p}`, (res) => (res.resume(), res.on('end', () => resolve(res)))));
    const res = await get('/x?sig=SECRET');
    server.close();
    expect(res.headers['x-ms-request-id']).toBe('surface-id');
    await new Promise((r) => setTimeout(r, 10));
    expect(lines).toEqual([expect.objectContaining({ msg: 'request', reqId: 'surface-id', surface: 'own', method: 'GET', path: '/x', status: 201 })]);
    expect(JSON.stringify(lines)).not.toContain('SECRET');
    expect(await m.registry.metrics()).toContain('keyless_http_request_duration_seconds_count{surface="own",method="GET",status="201"} 1');
  });

  it('a handler that throws gets a 500 and an error line, not a hung socket', async () => {
    const m = new KeylessMetrics();
    const { lines, log } = capture();
    const server = http.createServer(m.instrument('x', () => { throw new Error('boom'); }, log));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const status = await new Promise<number>((resolve) => http.get(`http://127.0.0.1:${port}/`, (res) => (res.resume(), resolve(res.statusCode ?? 0))));
    server.close();
    expect(status).toBe(500);
    expect(lines.some((l) => l.msg === 'unhandled error in handler')).toBe(true);
    expect(KeylessMetrics.isMetricsRequest({ method: 'GET', url: '/metrics?x=1' } as http.IncomingMessage)).toBe(true);
    expect(KeylessMetrics.isMetricsRequest({ method: 'POST', url: '/metrics' } as http.IncomingMessage)).toBe(false);
  });
});

describe('log redaction', () => {
  it('censors credentials by key at the first three levels', () => {
    const { lines, log } = capture();
    withRedaction(log).info({ authorization: 'Bearer a', req: { headers: { authorization: 'Bearer b', cookie: 'c' } }, body: { client_secret: 's', access_token: 't' }, q: { sig: 'x' }, fine: 'ok' }, 'm');
    expect(lines[0]).toMatchObject({ authorization: '[redacted]', req: { headers: { authorization: '[redacted]', cookie: '[redacted]' } }, body: { client_secret: '[redacted]', access_token: '[redacted]' }, q: { sig: '[redacted]' }, fine: 'ok' });
  });
});
