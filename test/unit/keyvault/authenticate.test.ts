import { describe, expect, it } from 'vitest';
import { KeylessError } from '../../../src/core/errors.js';
import { authenticate } from '../../../src/keyvault/authenticate.js';
import { serializeKvError } from '../../../src/keyvault/errors.js';

const TENANT = '9d6f4fcc-0eb8-44da-9926-161fdba45764';
const RESOURCE = 'https://vault.keyless.localhost:8443';
const jwt = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

function deps(fail?: string) {
  return {
    authority: `https://localhost:8443/${TENANT}`,
    issuers: [`https://sts.windows.net/${TENANT}/`],
    async verifyBearer(_token: string, audiences: string[]) {
      if (fail) throw new KeylessError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', { extra: { reason: fail }, detail: 'why' });
      expect(audiences).toContain('https://vault.azure.net');
      return { objectId: 'oid-1', appId: 'app-1', tenantId: TENANT, via: 'bearer', clientName: 'app-1' };
    },
  };
}

async function refusal(p: Promise<unknown>) {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x as KeylessError,
  );
  expect(e).toBeInstanceOf(KeylessError);
  expect(e!.status).toBe(401);
  expect(e!.headers['WWW-Authenticate']).toBe(`Bearer authorization="https://localhost:8443/${TENANT}", resource="${RESOURCE}"`);
  return serializeKvError(e!).error;
}

describe('Key Vault authentication', () => {
  it('passes a verified caller through', async () => {
    const c = await authenticate(deps(), 'Bearer abc', RESOURCE, ['https://vault.azure.net']);
    expect(c.objectId).toBe('oid-1');
  });

  it.each([
    [undefined, 'AKV10000: Request is missing a Bearer or PoP token.'],
    ['Basic dXNlcg==', 'AKV10000: Request is missing a Bearer or PoP token.'],
    ['Bearer', 'AKV10000: Request is missing a Bearer or PoP token.'],
  ])('challenges %j', async (header, message) => {
    expect(await refusal(authenticate(deps(), header, RESOURCE, []))).toEqual({ code: 'Unauthorized', message });
  });

  it.each([
    ['aud', 'AKV10022: Invalid audience. Expected https://vault.azure.net, found: https://management.azure.com/.'],
    ['iss', `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${TENANT}/, found https://sts.windows.net/other/.`],
    ['exp', "[TokenExpired] Error validating token: 'S2S12086'."],
    ['kid', 'AKV10046: Unable to resolve the key used for signature validation.'],
  ])('words a %s failure as Key Vault does', async (reason, message) => {
    const token = jwt({ aud: 'https://management.azure.com/', iss: 'https://sts.windows.net/other/' });
    expect(await refusal(authenticate(deps(reason), `Bearer ${token}`, RESOURCE, []))).toEqual({ code: 'Unauthorized', message });
  });

  it('never echoes more than a bounded slice of a claim', async () => {
    const token = jwt({ aud: 'x'.repeat(5000) });
    const e = await refusal(authenticate(deps('aud'), `Bearer ${token}`, RESOURCE, []));
    expect(e.message.length).toBeLessThan(400);
  });
});
