import type { Clock } from '../core/clock.js';
import type { SignInEvent } from '../core/signin-event.js';
import { KeylessError } from '../core/errors.js';
import type { Directory, Principal } from '../directory/index.js';
import type { ResourceService } from '../resources/index.js';
import type { Store } from '../store/index.js';
import { AudienceCatalog, normalizeAudience } from './audiences.js';
import { aadsts, identityNotFound, multipleUserAssigned, resourceNotFoundInTenant } from './errors.js';

export interface IssueInput {
  tenantId: string;
  audience: string;
  subjectOid: string;
  appId: string;
  kind: 'managedIdentity' | 'application';
  version: 1 | 2;
  clientAuth?: 'secret' | 'certificate' | 'federated';
  xmsMirid?: string;
  lifetimeSec: number;
  extraClaims?: Record<string, unknown>;
}

type Minted = { token: string; iat: number; nbf: number; exp: number };

/** The token-minting port; implemented by tokens/TokenIssuer. */
export interface Issuer {
  issue(req: IssueInput): Minted;
  /** The same token signed on the thread pool, so RSA signing does not hold the event loop. */
  issueAsync(req: IssueInput): Promise<Minted>;
}

export interface IssuedAccessToken {
  accessToken: string;
  /** epoch seconds */
  expiresOn: number;
  notBefore: number;
  /** seconds remaining at the time of the response */
  expiresIn: number;
  resource: string;
  principal: Principal;
}

export interface IdentitySelector {
  clientId?: string | undefined;
  objectId?: string | undefined;
  resourceId?: string | undefined;
}

// [msi: App Service / Cloud Shell endpoints] The identity endpoints do not all pick identities the same way.
export interface SelectionRules {
  /** IMDS falls back to the only user-assigned identity when none is named; App Service does not (default true). */
  implicitUserAssigned?: boolean;
  /** az's `-u` sniff works only over IMDS, so on Cloud Shell an object id arrives as client_id (default false). */
  clientIdMayBeObjectId?: boolean;
}

export type { SignInEvent };

/** A managed-identity token request as the identity endpoints pass it on. */
export interface ManagedIdentityRequest {
  hostKey: string;
  selector: IdentitySelector;
  resource: string;
  endpoint: string;
  rules?: SelectionRules;
}

interface HostIdentities {
  system: Principal | undefined;
  user: { resourceKey: string; principal: Principal }[];
}

/**
 * Decides who gets which token. Managed-identity tokens are cached per (identity, audience) as IMDS does,
 * and the cache forgets an identity the moment the store reports it changed — a deleted identity never gets
 * a token again, even from cache.
 */
export class SignInService {
  private readonly hostCache = new Map<string, HostIdentities | null>();
  private readonly tokenCache = new Map<string, Minted>();
  /** Misses being signed, so concurrent requests for the same (identity, audience) share one signature. */
  private readonly issuing = new Map<string, Promise<Minted>>();
  /** Bumped whenever cached tokens are dropped, so a signature that was under way then is not cached. */
  private tokenGeneration = 0;
  private readonly listeners: ((e: SignInEvent) => void)[] = [];
  /** cachedManagedIdentityToken's memo: the identity a request object selects, valid for one `generation`. */
  private readonly selections = new WeakMap<ManagedIdentityRequest, { generation: number; principal: Principal; key: string }>();
  /** Bumped on every change so a lookup that raced with a write never caches what it read before it. */
  private generation = 0;

  constructor(
    private readonly deps: {
      store: Store;
      directory: Directory;
      resources: ResourceService;
      issuer: Issuer;
      clock: Clock;
      tenantId: string;
      audiences: AudienceCatalog;
      managedIdentityLifetimeSec: number;
      appTokenLifetimeSec: number;
    },
  ) {
    deps.store.onChange((c) => {
      if (c.topic === 'resource' || c.topic === 'principal' || c.topic === 'all') {
        this.generation++;
        this.hostCache.clear();
      }
      if (c.topic === 'all') {
        this.tokenGeneration++;
        this.tokenCache.clear();
        this.issuing.clear();
      }
      if (c.topic === 'principal') {
        this.tokenGeneration++;
        for (const k of this.tokenCache.keys()) if (k.startsWith(c.key + '|')) this.tokenCache.delete(k);
        for (const k of this.issuing.keys()) if (k.startsWith(c.key + '|')) this.issuing.delete(k);
      }
    });
  }

  onSignIn(listener: (e: SignInEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(e: SignInEvent): void {
    for (const l of this.listeners) l(e);
  }

  /**
   * The cached answer to `managedIdentityToken`, without a promise, or undefined when anything is not at hand
   * (host not loaded, identity not selectable, token missing or past half-life): the caller then takes the full
   * path, which also reports every failure. A hit is the same sign-in as there, cached and recorded as such.
   */
  cachedManagedIdentityToken(input: ManagedIdentityRequest): IssuedAccessToken | undefined {
    // The selection and cache key are kept per request object: IMDS hands the same object back for the same
    // (VM, query string), so a repeat costs one WeakMap lookup until a resource or principal changes.
    let sel = this.selections.get(input);
    if (!sel || sel.generation !== this.generation) {
      const host = this.hostCache.get(input.hostKey);
      if (!host) return undefined;
      let principal: Principal;
      try {
        principal = this.selectFrom(host, input.hostKey, input.selector, input.rules);
      } catch {
        return undefined;
      }
      if (!this.deps.audiences.isKnown(input.resource, () => false)) return undefined;
      sel = { generation: this.generation, principal, key: `${principal.objectId}|${normalizeAudience(input.resource)}|${input.resource}` };
      this.selections.set(input, sel);
    }
    const token = this.freshCached(sel.key);
    if (!token) return undefined;
    const principal = sel.principal;
    this.emit({
      at: this.deps.clock.now(),
      kind: 'managedIdentity',
      endpoint: input.endpoint,
      resource: input.resource,
      hostResourceId: input.hostKey,
      principalId: principal.objectId,
      appId: principal.appId,
      success: true,
      cached: true,
    });
    return this.response(token, input.resource, principal);
  }

  /** A token for one of the identities on `hostKey` (a VM, a web app…). */
  async managedIdentityToken(input: ManagedIdentityRequest): Promise<IssuedAccessToken> {
    const base = { at: this.deps.clock.now(), kind: 'managedIdentity' as const, endpoint: input.endpoint, resource: input.resource, hostResourceId: input.hostKey };
    let principal: Principal | undefined;
    try {
      // A write that lands while we look up the identity may have deleted it: look again until stable.
      let gen: number;
      do {
        gen = this.generation;
        principal = await this.selectIdentity(input.hostKey, input.selector, input.rules);
      } while (gen !== this.generation);
      this.checkResource(input.resource);
      const { token, cached } = await this.cachedOrIssue(principal, input.resource);
      this.emit({ ...base, principalId: principal.objectId, appId: principal.appId, success: true, cached });
      return this.response(token, input.resource, principal);
    } catch (e) {
      this.emit({ ...base, principalId: principal?.objectId, appId: principal?.appId, success: false, failure: failureText(e) });
      throw e;
    }
  }

  /**
   * client_credentials for an application whose client secret (or assertion) was already verified, signed on
   * the thread pool: the token endpoint's throughput was bound by RSA signing on the event loop (bench/NOTES.md).
   */
  async appToken(principal: Principal, resource: string, endpoint: string, clientAuth: 'secret' | 'certificate' | 'federated'): Promise<IssuedAccessToken> {
    const base = { at: this.deps.clock.now(), kind: 'clientCredentials' as const, endpoint, resource, hostResourceId: undefined };
    try {
      this.checkResource(resource);
      const t = await this.deps.issuer.issueAsync(this.appTokenRequest(principal, resource, clientAuth));
      this.emit({ ...base, principalId: principal.objectId, appId: principal.appId, success: true });
      return this.response(t, resource, principal);
    } catch (e) {
      this.emit({ ...base, principalId: principal.objectId, appId: principal.appId, success: false, failure: failureText(e) });
      throw e;
    }
  }

  private appTokenRequest(principal: Principal, resource: string, clientAuth: 'secret' | 'certificate' | 'federated'): IssueInput {
    return {
      tenantId: principal.tenantId,
      audience: resource,
      subjectOid: principal.objectId,
      appId: principal.appId,
      kind: principal.kind === 'Application' ? 'application' : 'managedIdentity',
      version: 1,
      lifetimeSec: this.deps.appTokenLifetimeSec,
      ...(principal.kind === 'UserAssigned' && principal.resourceId ? { xmsMirid: principal.resourceId } : {}),
      clientAuth,
    };
  }

  /** Records a failed client authentication (bad secret, unknown app) in the sign-in log. */
  recordFailure(endpoint: string, appId: string | undefined, resource: string | undefined, e: unknown): void {
    this.emit({ at: this.deps.clock.now(), kind: 'clientCredentials', endpoint, principalId: undefined, appId, resource, hostResourceId: undefined, success: false, failure: failureText(e) });
  }

  private checkResource(resource: string): void {
    if (!resource || !this.deps.audiences.isKnown(resource, () => false)) throw resourceNotFoundInTenant(resource, this.deps.tenantId);
  }

  private async cachedOrIssue(p: Principal, resource: string): Promise<{ token: Minted; cached: boolean }> {
    const key = `${p.objectId}|${normalizeAudience(resource)}|${resource}`;
    const hit = this.freshCached(key);
    if (hit) return { token: hit, cached: true };
    // A request that joins a signature already under way is answered from cache in effect, as it was when
    // signing was synchronous and the second request found the first one's token.
    const pending = this.issuing.get(key);
    if (pending) return { token: await pending, cached: true };
    const generation = this.tokenGeneration;
    const signing = this.deps.issuer.issueAsync({
      tenantId: p.tenantId,
      audience: resource,
      subjectOid: p.objectId,
      appId: p.appId,
      kind: 'managedIdentity',
      version: 1,
      lifetimeSec: this.deps.managedIdentityLifetimeSec,
      ...(p.resourceId ? { xmsMirid: p.resourceId } : {}),
    });
    this.issuing.set(key, signing);
    try {
      const t = await signing;
      // Not cached if the identity changed meanwhile: the next request must look it up again.
      if (generation === this.tokenGeneration) {
        if (this.tokenCache.size > 100_000) this.tokenCache.clear();
        this.tokenCache.set(key, t);
      }
      return { token: t, cached: false };
    } finally {
      if (this.issuing.get(key) === signing) this.issuing.delete(key);
    }
  }

  /** A cached token while more than half its life remains; clients refresh at half-life. */
  private freshCached(key: string): Minted | undefined {
    const hit = this.tokenCache.get(key);
    if (!hit) return undefined;
    const now = Math.floor(this.deps.clock.now() / 1000);
    return hit.exp - now > (hit.exp - hit.iat) / 2 ? hit : undefined;
  }

  private response(t: { token: string; nbf: number; exp: number }, resource: string, principal: Principal): IssuedAccessToken {
    const now = Math.floor(this.deps.clock.now() / 1000);
    return { accessToken: t.token, expiresOn: t.exp, notBefore: t.nbf, expiresIn: Math.max(0, t.exp - now), resource, principal };
  }

  /** IMDS's selection rule: the named identity; else system-assigned; else the only user-assigned one. */
  async selectIdentity(hostKey: string, sel: IdentitySelector, rules: SelectionRules = {}): Promise<Principal> {
    const host = await this.hostIdentities(hostKey);
    if (!host) throw identityNotFound(`host ${hostKey} not found`);
    return this.selectFrom(host, hostKey, sel, rules);
  }

  private selectFrom(host: HostIdentities, hostKey: string, sel: IdentitySelector, rules: SelectionRules = {}): Principal {
    const all = () => [...(host.system ? [host.system] : []), ...host.user.map((u) => u.principal)];
    const given = (sel.clientId ? 1 : 0) + (sel.objectId ? 1 : 0) + (sel.resourceId ? 1 : 0);
    if (given > 1) {
      throw new KeylessError(400, 'invalid_request', 'Only one of client_id, object_id or msi_res_id may be specified.');
    }
    if (sel.clientId) {
      const id = sel.clientId.toLowerCase();
      return this.pick(all(), (p) => p.appId === id || (rules.clientIdMayBeObjectId === true && p.objectId === id), `client_id ${sel.clientId}`);
    }
    if (sel.objectId) return this.pick(all(), (p) => p.objectId === sel.objectId!.toLowerCase(), `object_id ${sel.objectId}`);
    if (sel.resourceId) {
      const key = sel.resourceId.toLowerCase();
      const u = host.user.find((x) => x.resourceKey === key);
      if (!u) throw identityNotFound(`msi_res_id ${sel.resourceId} is not attached to ${hostKey}`);
      return u.principal;
    }
    if (host.system) return host.system;
    if (rules.implicitUserAssigned === false && host.user.length > 0) throw identityNotFound(`no system-assigned identity on ${hostKey} and no user-assigned one named`);
    if (host.user.length === 1) return host.user[0]!.principal;
    if (host.user.length > 1) throw multipleUserAssigned();
    throw identityNotFound(`no identity on ${hostKey}`);
  }

  private pick(all: Principal[], match: (p: Principal) => boolean, what: string): Principal {
    const p = all.find(match);
    if (!p) throw identityNotFound(`${what} is not assigned to this resource`);
    return p;
  }

  private async hostIdentities(hostKey: string): Promise<HostIdentities | null> {
    const cached = this.hostCache.get(hostKey);
    if (cached !== undefined) return cached;
    const gen = this.generation;
    const r = await this.deps.resources.get(hostKey);
    let result: HostIdentities | null = null;
    if (r) {
      const system = r.internal.systemPrincipalId ? await this.deps.directory.get(r.internal.systemPrincipalId) : undefined;
      const user: HostIdentities['user'] = [];
      for (const key of Object.keys(r.internal.userAssigned ?? {})) {
        const uai = await this.deps.resources.get(key);
        const pid = uai?.body.properties?.['principalId'];
        const p = typeof pid === 'string' ? await this.deps.directory.get(pid) : undefined;
        if (p) user.push({ resourceKey: key, principal: p });
      }
      result = { system, user };
    }
    if (gen === this.generation) this.hostCache.set(hostKey, result);
    return result;
  }
}

function failureText(e: unknown): string {
  if (e instanceof KeylessError) return `${e.code}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`;
  return String(e);
}

export { aadsts };
