import { armError } from '../arm/errors.js';
import type { KeylessError } from '../core/errors.js';

/**
 * Federated identity credentials (FICs) on user-assigned identities: the rules Azure's Microsoft.ManagedIdentity
 * enforces on PUT (protocols.md §2.11, authorization.md §6). Pure functions, so the table of cases is unit-tested
 * without a server.
 */

export const FIC_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials';
export const FIC_TYPE_KEY = FIC_TYPE.toLowerCase();
export const DEFAULT_FIC_AUDIENCE = 'api://AzureADTokenExchange';
export const MAX_FICS_PER_IDENTITY = 20;
const MAX_URL_CHARS = 600;
const MAX_CLAIM_CHARS = 600;
const NAME = /^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$/;

export interface FicProperties {
  issuer: string;
  subject: string;
  audiences: [string];
}

export interface FicRecord {
  name: string;
  properties: FicProperties;
}

const badRequest = (message: string): KeylessError => armError(400, 'BadRequest', message);

export function validateFicName(name: string): void {
  if (!NAME.test(name)) throw badRequest(`Federated Identity Credential name '${name}' is invalid.`);
}

/** The `properties` of a PUT body, normalised; throws ARM's BadRequest for anything Azure would refuse. */
export function parseFicProperties(body: unknown): FicProperties {
  const b = isObject(body) ? body : {};
  const props = b['properties'];
  if (!isObject(props) || Object.keys(props).length === 0) throw badRequest('Federated Identity Credential from HTTP body has empty properties');
  if (props['claimsMatchingExpression'] !== undefined && props['claimsMatchingExpression'] !== null) {
    throw badRequest("The request format was unexpected. Flexible federated identity credentials ('claimsMatchingExpression') are not supported; specify 'issuer' and 'subject'.");
  }
  const { issuer, subject } = props;
  if (typeof issuer !== 'string' || typeof subject !== 'string' || issuer === '' || subject === '') {
    throw badRequest("The request format was unexpected. Federated Identity Credential must specify 'issuer', 'subject' and 'audience'.");
  }
  checkIssuer(issuer);
  checkSubject(subject);
  // An omitted audience list gets the one value Entra's token exchange uses; an explicit list must hold exactly one.
  const rawAudiences = props['audiences'] ?? [DEFAULT_FIC_AUDIENCE];
  if (!Array.isArray(rawAudiences) || rawAudiences.length !== 1) throw badRequest('Federated identity credentials must have exactly 1 audience.');
  const audience = rawAudiences[0];
  if (typeof audience !== 'string' || audience.trim() === '') throw badRequest('Federated identity credentials must have exactly 1 audience.');
  if (audience.length > MAX_CLAIM_CHARS) throw badRequest(`The audience must not be longer than ${MAX_CLAIM_CHARS} characters.`);
  if (audience !== audience.trim()) throw badRequest('The audience must not have leading or trailing whitespace.');
  if (audience.includes('*')) throw badRequest('Wildcard characters are not supported in federated identity credential audiences.');
  return { issuer, subject, audiences: [audience] };
}

function checkIssuer(issuer: string): void {
  if (issuer.length > MAX_URL_CHARS) throw badRequest(`The issuer must not be longer than ${MAX_URL_CHARS} characters.`);
  if (issuer !== issuer.trim()) throw badRequest('The issuer must not have leading or trailing whitespace.');
  if (issuer.includes('*')) throw badRequest('Wildcard characters are not supported in federated identity credential issuers.');
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw badRequest(`The issuer '${issuer}' is not a valid URL.`);
  }
  // Entra fetches the issuer's OIDC metadata over TLS; credentials, queries and fragments have no meaning there.
  if (url.protocol !== 'https:') throw badRequest(`The issuer '${issuer}' must use the https scheme.`);
  if (url.username || url.password || url.search || url.hash) throw badRequest(`The issuer '${issuer}' must not contain user information, a query or a fragment.`);
}

function checkSubject(subject: string): void {
  if (subject.length > MAX_CLAIM_CHARS) throw badRequest(`The subject must not be longer than ${MAX_CLAIM_CHARS} characters.`);
  if (subject !== subject.trim()) throw badRequest('The subject must not have leading or trailing whitespace.');
  if (subject.includes('*')) throw badRequest('Wildcard characters are not supported in federated identity credential subjects.');
}

/**
 * Rules across an identity's credentials: issuer + subject unique (compared exactly, as token matching is),
 * at most 20. `siblings` excludes nothing: the credential being replaced is recognised by name.
 */
export function checkAgainstSiblings(siblings: readonly FicRecord[], name: string, props: FicProperties): void {
  const others = siblings.filter((s) => s.name.toLowerCase() !== name.toLowerCase());
  if (others.some((s) => s.properties.issuer === props.issuer && s.properties.subject === props.subject)) {
    throw armError(400, 'Conflict', 'Issuer and subject combination already exists for this Managed Identity.');
  }
  if (others.length >= MAX_FICS_PER_IDENTITY) {
    throw badRequest(`The maximum number of federated identity credentials (${MAX_FICS_PER_IDENTITY}) for this managed identity has been reached.`);
  }
}

/** A stored FIC document's properties, or undefined when the document is not one (defensive: bodies are JSON). */
export function ficFromDocument(body: { name?: unknown; properties?: Record<string, unknown> | undefined }): FicRecord | undefined {
  const p = body.properties;
  if (!p || typeof body.name !== 'string') return undefined;
  const { issuer, subject, audiences } = p;
  if (typeof issuer !== 'string' || typeof subject !== 'string' || !Array.isArray(audiences) || typeof audiences[0] !== 'string') return undefined;
  return { name: body.name, properties: { issuer, subject, audiences: [audiences[0]] } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
