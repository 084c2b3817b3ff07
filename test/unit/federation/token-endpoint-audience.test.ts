import { describe, expect, it } from 'vitest';
import { TokenEndpointAudience } from '../../../src/federation/token-endpoint-audience.js';

const T = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const a = new TokenEndpointAudience({ origins: ['https://localhost:8443', 'https://127.0.0.1:8443'], tenants: [T, 'keyless.localhost'] });
const posted = `https://localhost:8443/${T}/oauth2/v2.0/token`;

describe('certificate assertion audience: a token endpoint of this server', () => {
  it.each([
    posted,
    `https://localhost:8443/${T}/oauth2/token`,
    `https://127.0.0.1:8443/${T.toUpperCase()}/oauth2/v2.0/token`,
    'https://localhost:8443/keyless.localhost/oauth2/v2.0/token',
    'https://localhost:8443/organizations/oauth2/v2.0/token',
    'https://localhost:8443/adfs/oauth2/token',
    `${posted}/`,
  ])('accepts %s', (aud) => expect(a.accepts([aud], posted)).toBe(true));

  it.each([
    `https://login.microsoftonline.com/${T}/oauth2/v2.0/token`,
    `https://localhost:9443/${T}/oauth2/v2.0/token`,
    `https://localhost:8443/${T}/oauth2/v2.0/authorize`,
    `https://localhost:8443/${T}/oauth2/v2.0/token?x=1`,
    `https://localhost:8443/other-tenant/oauth2/v2.0/token`,
    'not a url',
  ])('refuses %s', (aud) => expect(a.accepts([aud], posted)).toBe(false));

  it('accepts when any one of several audiences names the endpoint', () => {
    expect(a.accepts(['https://x.example.com', posted], posted)).toBe(true);
  });

  it('the URL actually posted to is always accepted, whatever host the client dialled', () => {
    const other = `https://login.keyless.localhost:8443/${T}/oauth2/v2.0/token`;
    expect(a.accepts([other], other)).toBe(true);
  });
});
