import type { KeylessError } from '../core/errors.js';
import { aadsts } from '../signin/errors.js';

/**
 * Entra's refusals of client assertions, worded as Entra words them (docs/deviations/federation.md lists which
 * texts were observed in real responses and which are reconstructed). `detail` never holds the assertion itself.
 */

const WIF_DOC = 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation';
const CERT_DOC = 'https://learn.microsoft.com/entra/identity-platform/certificate-credentials';

export const malformedAssertion = (detail: string): KeylessError => aadsts(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.', detail);

export const unsupportedAlgorithm = (alg: unknown, supported: readonly string[]): KeylessError =>
  aadsts(
    401,
    'invalid_client',
    5002738,
    `Invalid JWT token. '${typeof alg === 'string' ? alg : String(alg)}' is not a supported signature algorithm. Supported signing algorithms are: '${supported.join(',')}'`,
  );

/** The identity has no federated credential at all (Entra's original, all-in-one wording). */
export const noFederatedRecord = (iss: string, sub: string, aud: string[]): KeylessError =>
  aadsts(
    400,
    'invalid_request',
    70021,
    `No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${aud.join(',')}'. ${WIF_DOC}`,
  );

const mismatch = (code: number, what: string, value: string): KeylessError =>
  aadsts(
    401,
    'invalid_client',
    code,
    `No matching federated identity record found for presented assertion ${what} '${value}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${WIF_DOC}`,
  );

export const noRecordForIssuer = (iss: string): KeylessError => mismatch(700211, 'issuer', iss);
export const noRecordForAudience = (aud: string[]): KeylessError => mismatch(700212, 'audience', aud.join(','));
export const noRecordForSubject = (sub: string): KeylessError => mismatch(700213, 'subject', sub);

export const federatedKeyNotFound = (kid: string, issuer: string): KeylessError =>
  aadsts(
    401,
    'invalid_client',
    7000272,
    `The certificate with identifier ${kid} used to sign the federated credential could not be found in the metadata of identity provider ${issuer}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.`,
  );

export const federatedBadSignature = (): KeylessError =>
  aadsts(401, 'invalid_client', 7000274, 'Client assertion contains an invalid signature. [Reason - Key was found, but use of the key to verify the signature failed.]');

export const issuerMetadataUnavailable = (issuer: string, detail: string): KeylessError =>
  aadsts(400, 'invalid_request', 50166, `Request to External OIDC endpoint failed. Issuer: '${issuer}'.`, detail);

/** .NET's round-trip format ("o"), which Entra prints: seven fractional digits. */
const dotnetTime = (epochMs: number): string => {
  const d = new Date(epochMs);
  // A claim beyond JavaScript's date range is the client's mistake; print it rather than fail with a 500.
  return Number.isNaN(d.getTime()) ? String(epochMs / 1000) : d.toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
};

export const notInValidTimeRange = (nowMs: number, nbf: number | undefined, exp: number | undefined): KeylessError =>
  aadsts(
    401,
    'invalid_client',
    700024,
    `Client assertion is not within its valid time range. Current time: ${dotnetTime(nowMs)}, assertion valid from ${nbf === undefined ? 'unspecified' : dotnetTime(nbf * 1000)}, expiry time of assertion ${exp === undefined ? 'unspecified' : dotnetTime(exp * 1000)}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .`,
  );

export const clientIdMismatch = (): KeylessError =>
  aadsts(401, 'invalid_client', 700021, `Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at ${CERT_DOC}.`);

export const audienceMismatch = (): KeylessError =>
  aadsts(401, 'invalid_client', 700023, `Client assertion audience claim does not match Realm issuer. Review the documentation at ${CERT_DOC}.`);

/** Entra's key date format: `Start=12/05/2023 17:16:57`. */
const keyDate = (ms: number): string => {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
};

const graphHint = (appId: string): string =>
  `Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${appId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments if you are not using a global cloud.`;

export const certificateNotRegistered = (thumbprintHex: string, appId: string): KeylessError =>
  aadsts(
    401,
    'invalid_client',
    700027,
    `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprintHex}', ${graphHint(appId)}]`,
  );

export const certificateBadSignature = (thumbprintHex: string, appId: string, key: { startAt: number; endAt: number }): KeylessError =>
  aadsts(
    401,
    'invalid_client',
    700027,
    `Client assertion contains an invalid signature. [Reason - Key was found, but use of the key to verify the signature failed., Thumbprint of key used by client: '${thumbprintHex}', Found key 'Start=${keyDate(key.startAt)}, End=${keyDate(key.endAt)}', ${graphHint(appId)}]`,
  );

export const certificateExpired = (thumbprintHex: string, appId: string, key: { startAt: number; endAt: number }): KeylessError =>
  aadsts(
    401,
    'invalid_client',
    700027,
    `Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${thumbprintHex}', Found key 'Start=${keyDate(key.startAt)}, End=${keyDate(key.endAt)}', ${graphHint(appId)}]`,
  );

/** No Entra code is known for a reused jti (Entra itself accepts msal's reuse); 50027 keeps it a client error. */
export const assertionReplayed = (): KeylessError =>
  aadsts(401, 'invalid_client', 50027, 'JWT token is invalid or malformed. The client assertion reuses a jti (JWT ID) that was already used.');

export const applicationNotFound = (clientId: string, tenantId: string): KeylessError =>
  aadsts(
    400,
    'unauthorized_client',
    700016,
    `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  );
