import { describe, expect, it } from 'vitest';
import {
  buildChallenge,
  challengeResource,
  jsAcceptsResource,
  parseChallengeLikeJs,
  parseChallengeLikePython,
  pythonAcceptsResource,
} from '../../../src/keyvault/challenge.js';

const TENANT = '9d6f4fcc-0eb8-44da-9926-161fdba45764';

describe('Key Vault challenge', () => {
  it("has Azure's shape: quoted values separated by ', '", () => {
    expect(buildChallenge({ authorization: `https://login.windows.net/${TENANT}`, resource: 'https://vault.azure.net' })).toBe(
      `Bearer authorization="https://login.windows.net/${TENANT}", resource="https://vault.azure.net"`,
    );
  });

  it.each([
    ['a non-443 port', 'https://kv1.vault.keyless.localhost:8443/secrets/s/', '8443'],
    ['the default port', 'https://kv1.vault.keyless.localhost/secrets/s/', undefined],
  ])('round-trips through both SDK parsers and passes both domain checks on %s', (_name, url, port) => {
    const header = buildChallenge({ authorization: `https://localhost:8443/${TENANT}`, resource: challengeResource('keyless.localhost', port) });
    const js = parseChallengeLikeJs(header);
    expect(js['tenantId']).toBe(TENANT);
    expect(js['resource']).toBe(challengeResource('keyless.localhost', port));
    const py = parseChallengeLikePython(header);
    expect(py['authorization']).toBe(`https://localhost:8443/${TENANT}`);
    expect(py['resource']).toBe(js['resource']);
    expect(jsAcceptsResource(url, js['resource']!)).toBe(true);
    expect(pythonAcceptsResource(url, py['resource']!)).toBe(true);
  });

  it('the domain checks reject the public resource for a local vault (why the resource names the local suffix)', () => {
    expect(jsAcceptsResource('https://kv1.vault.keyless.localhost:8443/', 'https://vault.azure.net')).toBe(false);
    // Python compares host:port, so a port-less resource fails for a vault on a non-443 port.
    expect(pythonAcceptsResource('https://kv1.vault.keyless.localhost:8443/', 'https://vault.keyless.localhost')).toBe(false);
    expect(jsAcceptsResource('https://kv1.vault.keyless.localhost:8443/', 'https://vault.keyless.localhost')).toBe(true);
  });

  it('refuses values the Python parser would split apart', () => {
    expect(() => buildChallenge({ authorization: 'https://h/t?x=1', resource: 'https://vault.x' })).toThrow();
    expect(() => buildChallenge({ authorization: 'https://h/t', resource: 'https://vault.x, y' })).toThrow();
  });
});
