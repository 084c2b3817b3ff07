import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { constants, createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/** Signs a compact JWS by hand, so tests can make every kind of wrong assertion. */
export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject | string): string {
  const k = typeof key === 'string' ? createPrivateKey(key) : key;
  const input = `${b64(header)}.${b64(payload)}`;
  const alg = String(header['alg']);
  let sig: Buffer;
  if (alg === 'ES256') sig = sign('sha256', Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'PS256') sig = sign('sha256', Buffer.from(input), { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  else sig = sign('sha256', Buffer.from(input), k);
  return `${input}.${sig.toString('base64url')}`;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export const nowSec = (): number => Math.floor(Date.now() / 1000);

export interface TestIssuerKey {
  kid: string;
  alg: 'RS256' | 'PS256' | 'ES256';
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

export function makeKey(alg: TestIssuerKey['alg'], kid: string = randomUUID()): TestIssuerKey {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, alg, privateKey: pair.privateKey, publicJwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg } };
}

export interface TestOidcIssuer {
  url: string;
  keys: TestIssuerKey[];
  /** Number of discovery + JWKS requests served. */
  requests: { discovery: number; jwks: number };
  /** When set, every request gets this status. */
  failWith: number | undefined;
  token(claims: Record<string, unknown>, opts?: { key?: TestIssuerKey; header?: Record<string, unknown> }): string;
  close(): Promise<void>;
}

/**
 * A small external OIDC issuer over HTTPS (the run's test CA signs its certificate, and workers trust that CA
 * through NODE_EXTRA_CA_CERTS), like an AKS cluster's or GitHub's: discovery document plus JWKS.
 */
export async function startOidcIssuer(keys: TestIssuerKey[], opts: { extraJwks?: Record<string, unknown>[] } = {}): Promise<TestOidcIssuer> {
  const tlsDir = process.env['KEYLESS_TEST_TLS_DIR']!;
  const server = https.createServer({ cert: fs.readFileSync(path.join(tlsDir, 'server.crt')), key: fs.readFileSync(path.join(tlsDir, 'server.key')) });
  const state: TestOidcIssuer = {
    url: '',
    keys,
    requests: { discovery: 0, jwks: 0 },
    failWith: undefined,
    token(claims, o = {}) {
      const key = o.key ?? state.keys[0]!;
      const now = nowSec();
      return signJwt(
        { alg: key.alg, kid: key.kid, typ: 'JWT', ...o.header },
        { iss: state.url, aud: ['api://AzureADTokenExchange'], iat: now, nbf: now, exp: now + 600, ...claims },
        key.privateKey,
      );
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  server.on('request', (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (state.failWith) return send(state.failWith, { error: 'down' });
    if (req.url === '/ext/.well-known/openid-configuration') {
      state.requests.discovery++;
      return send(200, { issuer: state.url, jwks_uri: `${state.url}/keys`, response_types_supported: ['id_token'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'] });
    }
    if (req.url === '/ext/keys') {
      state.requests.jwks++;
      return send(200, { keys: [...(opts.extraJwks ?? []), ...state.keys.map((k) => k.publicJwk)] });
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.url = `https://localhost:${(server.address() as AddressInfo).port}/ext`;
  return state;
}
