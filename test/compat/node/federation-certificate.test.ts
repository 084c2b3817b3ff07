import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startTestKeyless } from '../../support/keyless.js';
import { lastJson, runChild } from '../../support/child.js';
import { issueCertificate, thumbprints, type IssuedCertificate } from '../../../src/pki/index.js';
import type { StartedKeyless } from '../../../src/index.js';

const APP = path.join(import.meta.dirname, 'apps', 'certificate-token.mjs');

/** ClientCertificateCredential (@azure/identity 4.13.1 over msal-node) against a certificate registered in Keyless. */
describe('official clients: certificate credentials', () => {
  let k: StartedKeyless;
  let app: { clientId: string; objectId: string };
  let dir: string;
  let cert: IssuedCertificate;

  const pemFile = (c: IssuedCertificate, name: string) => {
    const f = path.join(dir, `${name}.pem`);
    fs.writeFileSync(f, c.combinedPem, { mode: 0o600 });
    return f;
  };
  const run = async (clientId: string, file: string, scopes: string[]) =>
    lastJson((await runChild(process.execPath, [APP, k.tenantId, clientId, file, k.endpoints.authorityHost, ...scopes], {})).stdout);

  beforeAll(async () => {
    k = await startTestKeyless();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-cert-test-'));
    app = await k.createApplication('cert-client');
    cert = await issueCertificate({ subjectCn: 'cert-client' });
    await k.addApplicationCertificate(app.clientId, cert.certPem);
  });
  afterAll(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await k?.stop();
  });

  it('gets tokens for two resources with one credential (msal-node re-sends its cached assertion)', async () => {
    const r = await run(app.clientId, pemFile(cert, 'good'), ['https://vault.azure.net/.default', `${k.endpoints.armAudience}.default`]);
    expect(r.ok, r.message).toBe(true);
    const jwks = createRemoteJWKSet(new URL(k.endpoints.jwksUri));
    const { payload } = await jwtVerify(r.tokens[0], jwks, { issuer: k.endpoints.issuer, audience: 'https://vault.azure.net' });
    expect(payload['oid']).toBe(app.objectId);
    expect(payload['appid']).toBe(app.clientId);
    expect(payload['appidacr']).toBe('2');
    expect(String(decodeJwt(r.tokens[1])['aud']).replace(/\/$/, '')).toBe(k.endpoints.armAudience.replace(/\/$/, ''));
  });

  it('an unregistered certificate fails with AADSTS700027 and its thumbprint', async () => {
    const stranger = await issueCertificate({ subjectCn: 'stranger' });
    const r = await run(app.clientId, pemFile(stranger, 'stranger'), ['https://vault.azure.net/.default']);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('AADSTS700027');
    // azure-identity 4.13 signs PS256 with x5t#S256, so the thumbprint named is the certificate's SHA-256.
    const sha256Hex = Buffer.from(thumbprints(stranger.certPem).x5tS256, 'base64url').toString('hex').toUpperCase();
    expect([stranger.thumbprintHex, sha256Hex].some((t) => r.message.includes(`Thumbprint of key used by client: '${t}'`))).toBe(true);
  });
});
