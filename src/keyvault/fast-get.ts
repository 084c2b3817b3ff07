import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessControl } from '../core/access.js';
import type { Caller } from '../core/caller.js';
import type { DataAccessEvent } from '../core/data-access.js';
import { noteRequestId } from '../core/request-id.js';
import { decideKvAccess } from './authorize.js';
import { kvResponseHeaders } from './headers.js';
import { hostPort, isValidSecretName, vaultBaseUrl, vaultNameFromHost } from './names.js';
import { secretBundle } from './render.js';
import { routeKeyVault } from './route.js';
import { splitTarget } from '../core/request-target.js';
import type { SecretService, SecretVersionView } from './secrets.js';
import type { VaultInfo } from './vault-info.js';
import type { VaultRegistry } from './vault-registry.js';

export interface FastGetDeps {
  dnsSuffix: string;
  access: AccessControl;
  vaults: Pick<VaultRegistry, 'peek'>;
  secrets: Pick<SecretService, 'peekLatest'>;
  /** The caller of an already verified token whose principal is known to exist; undefined otherwise. */
  cachedCaller(token: string, audiences: string[]): Caller | undefined;
  audiences(port: string | undefined): string[];
  recordDataAccess(e: DataAccessEvent): void;
}

/** What one (Host, request-target) pair means, worked out once. */
interface Target {
  vaultName: string;
  base: string;
  secretName: string;
  audiences: string[];
  /** The secret's authorization scope, for the vault id it was built from. */
  vaultId?: string;
  scope?: string;
}

/** A rendered answer: the bundle and the headers that do not change between requests. */
interface Answer {
  vault: VaultInfo;
  base: string;
  value: string;
  body: Buffer;
  /** Key Vault's own headers (kvResponseHeaders without the client's id), flattened name, value, name, value. */
  kvHeaders: string[];
  /** content-type and content-length. */
  entity: string[];
}

const MAX_TARGETS = 1_000;
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The hot read of the Key Vault data plane — get the latest version of a secret, as applications do at start and
 * on every refresh — answered without the framework, the URL parser or a promise when everything it needs is in
 * memory: the vault, a token whose signature was verified before (principal still present), a granting decision
 * and the secret's latest version. It runs the same steps as the full pipeline (app.ts) on the same data, through
 * the same decision (authorize.ts) and audit record. Anything else — another method or path form, an unknown or
 * stale vault, a new or bad token, a denial, a cache miss, a disabled secret — returns false before any side
 * effect, and the full pipeline answers with its exact errors.
 */
export function createFastGet(deps: FastGetDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const targets = new Map<string, Target | null>();
  const answers = new WeakMap<SecretVersionView, Answer>();

  return (req, res) => {
    if (req.method !== 'GET') return false;
    const auth = req.headers.authorization;
    if (typeof auth !== 'string' || !auth.startsWith('Bearer ') || auth.includes(' ', 7)) return false;
    const host = req.headers.host;
    const target = targetOf(host, req.url);
    if (!target) return false;
    const vault = deps.vaults.peek(target.vaultName);
    if (!vault) return false;
    const caller = deps.cachedCaller(auth.slice(7), target.audiences);
    if (!caller) return false;
    if (target.vaultId !== vault.id) {
      target.vaultId = vault.id;
      target.scope = `${vault.id}/secrets/${target.secretName}`;
    }
    const decision = decideKvAccess(deps.access, vault, caller, 'get', target.secretName, target.scope);
    if (!decision.allowed) return false;
    const open = deps.secrets.peekLatest(vault, target.secretName);
    if (!open || !open.view.enabled) return false;

    deps.recordDataAccess(decision.event);
    const answer = answerOf(open.view, open.value, vault, target.base);
    // One array, in the full pipeline's order: Node writes it as given, with no per-header bookkeeping.
    const id = randomUUID();
    noteRequestId(res, id);
    const client = req.headers['x-ms-client-request-id'];
    const headers = typeof client === 'string' ? ['x-ms-request-id', id, ...answer.kvHeaders, 'x-ms-client-request-id', client, ...answer.entity] : ['x-ms-request-id', id, ...answer.kvHeaders, ...answer.entity];
    res.writeHead(200, headers);
    res.end(answer.body);
    return true;
  };

  function targetOf(host: string | undefined, url: string | undefined): Target | undefined {
    if (!host || !url) return undefined;
    const key = `${host}\u0000${url}`;
    let t = targets.get(key);
    if (t === undefined) {
      t = parseTarget(host, url);
      if (targets.size >= MAX_TARGETS) targets.clear();
      targets.set(key, t);
    }
    return t ?? undefined;
  }

  /** Only `GET /secrets/{name}[/]` with an api-version and nothing else the full pipeline would have to judge. */
  function parseTarget(host: string, rawUrl: string): Target | null {
    const vaultName = vaultNameFromHost(host, deps.dnsSuffix);
    if (!vaultName) return null;
    // Parsed exactly as the full pipeline parses it (app.ts), so both always pick the same route.
    const url = splitTarget(rawUrl);
    const params = [...url.query];
    if (params.length !== 1 || params[0]![0].toLowerCase() !== 'api-version' || !params[0]![1]) return null;
    const route = routeKeyVault('GET', url.path);
    if (!route || route.op !== 'get' || route.version !== undefined || !route.name || !isValidSecretName(route.name)) return null;
    const port = hostPort(host);
    return { vaultName, base: vaultBaseUrl(vaultName, deps.dnsSuffix, port), secretName: route.name, audiences: deps.audiences(port) };
  }

  /** The serialized bundle and its fixed headers, kept per cached version (and the vault and base URL it was rendered for). */
  function answerOf(view: SecretVersionView, value: string, vault: VaultInfo, base: string): Answer {
    const hit = answers.get(view);
    if (hit && hit.vault === vault && hit.base === base && hit.value === value) return hit;
    const body = Buffer.from(JSON.stringify(secretBundle(base, view, vault, value)), 'utf8');
    const answer: Answer = {
      vault,
      base,
      value,
      body,
      kvHeaders: kvResponseHeaders(vault.location, undefined).flat(),
      entity: ['content-type', JSON_TYPE, 'content-length', String(body.length)],
    };
    answers.set(view, answer);
    return answer;
  }
}
