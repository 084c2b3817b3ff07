import { describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createDispatcher, type Surface } from '../../../src/server/dispatch.js';

function route(host: string, url: string): Surface | 'none' {
  let hit: Surface | 'none' = 'none';
  const mk = (s: Surface) => () => (hit = s);
  const d = createDispatcher({
    dnsSuffix: 'keyless.localhost',
    handlers: { arm: mk('arm'), login: mk('login'), keyvault: mk('keyvault'), blob: mk('blob'), ops: mk('ops'), portal: mk('portal') },
  });
  d({ headers: { host }, url } as IncomingMessage, {} as ServerResponse);
  return hit;
}

describe('surface dispatch by host and path', () => {
  it.each([
    ['myvault.vault.keyless.localhost:8443', '/secrets/x', 'keyvault'],
    ['acct.blob.keyless.localhost', '/c/b', 'blob'],
    ['management.keyless.localhost:8443', '/subscriptions', 'arm'],
    ['login.keyless.localhost', '/t/oauth2/v2.0/token', 'login'],
    ['localhost:8443', '/subscriptions/s', 'arm'],
    ['localhost:8443', '//metadata/endpoints', 'arm'],
    ['localhost:8443', '/0b1e3c2a-1111-4222-8333-444455556666/oauth2/v2.0/token', 'login'],
    ['localhost:8443', '/adfs/oauth2/token', 'login'],
    ['localhost:8443', '/not-a-tenant/v2.0/.well-known/openid-configuration', 'login'],
    ['localhost:8443', '/health', 'ops'],
    ['127.0.0.1:8443', '/myaccount/container/blob.txt', 'blob'],
  ])('%s%s → %s', (host, url, expected) => expect(route(host, url)).toBe(expected));
});
