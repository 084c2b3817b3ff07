/**
 * Which resources a token may be requested for. Entra refuses tokens for resources it does not know
 * (AADSTS500011); Keyless knows Azure's public resource URIs, its own endpoints, and registered apps.
 */
const WELL_KNOWN = [
  'https://management.azure.com',
  'https://management.core.windows.net',
  'https://vault.azure.net',
  'https://storage.azure.com',
  'https://graph.microsoft.com',
  'https://graph.windows.net',
  'https://database.windows.net',
  'https://ossrdbms-aad.database.windows.net',
  'https://servicebus.azure.net',
  'https://eventhubs.azure.net',
  'https://cognitiveservices.azure.com',
  'https://monitor.azure.com',
  'https://api.loganalytics.io',
  'https://management.core.usgovcloudapi.net',
  'api://AzureADTokenExchange',
];

export const normalizeAudience = (aud: string): string => {
  const trimmed = aud.trim().replace(/\/+$/, '');
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)(.*)$/i.exec(trimmed);
  return m ? m[1]!.toLowerCase() + m[2]!.toLowerCase() + m[3]! : trimmed.toLowerCase();
};

export class AudienceCatalog {
  private readonly known = new Set<string>();
  private readonly suffixes: string[];

  constructor(opts: { ownEndpoints: string[]; dnsSuffix: string }) {
    for (const a of [...WELL_KNOWN, ...opts.ownEndpoints]) this.known.add(normalizeAudience(a));
    this.suffixes = [opts.dnsSuffix.toLowerCase(), 'localhost'];
  }

  /** Known URL audiences never change at run time, so the answer is kept (the IMDS hot path asks per request). */
  private readonly memo = new Map<string, boolean>();

  /** `isApp` answers for `api://{appId}` and bare GUIDs naming registered applications. */
  isKnown(resource: string, isApp: (appIdOrUri: string) => boolean): boolean {
    const hit = this.memo.get(resource);
    if (hit !== undefined) return hit;
    const answer = this.decide(resource, isApp);
    // App registrations can change, so only URL answers are kept; bounded against hostile input.
    if (/^https?:\/\//i.test(resource)) {
      if (this.memo.size >= 10_000) this.memo.clear();
      this.memo.set(resource, answer);
    }
    return answer;
  }

  private decide(resource: string, isApp: (appIdOrUri: string) => boolean): boolean {
    const n = normalizeAudience(resource);
    if (this.known.has(n)) return true;
    let url: URL | undefined;
    try {
      url = new URL(n);
    } catch {
      url = undefined;
    }
    if (url && (url.protocol === 'https:' || url.protocol === 'http:')) {
      const host = url.hostname;
      // Anything Keyless itself serves: vault/blob hosts, management/login names, loopback.
      if (this.suffixes.some((s) => host === s || host.endsWith('.' + s))) return true;
      if (host === '127.0.0.1' || host === '[::1]') return true;
      // Azure's own data-plane hosts, e.g. https://myvault.vault.azure.net, https://acct.blob.core.windows.net
      if (/\.(vault\.azure\.net|core\.windows\.net)$/.test(host)) return true;
      return false;
    }
    if (n.startsWith('api://')) return isApp(n.slice('api://'.length).split('/')[0]!);
    return isApp(n);
  }
}

/** v2 `scope` → v1 `resource`: `https://vault.azure.net/.default` → `https://vault.azure.net`. */
export function scopeToResource(scope: string): string | undefined {
  const scopes = scope.trim().split(/\s+/).filter((s) => !['openid', 'profile', 'offline_access'].includes(s.toLowerCase()));
  if (scopes.length !== 1) return undefined;
  const s = scopes[0]!;
  if (!s.toLowerCase().endsWith('/.default')) return undefined;
  return s.slice(0, -'/.default'.length);
}
