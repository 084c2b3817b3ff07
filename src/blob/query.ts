/**
 * The query string as Storage reads it. Names are matched ignoring case (the SDKs and the CLI differ in casing,
 * and Key Vault's JS client even percent-encodes names); values are percent-decoded but `+` stays `+`, which
 * is how the SDKs sign them and how SAS signatures (base64, full of `+`) arrive.
 */
export interface QueryParam {
  /** lower-cased, decoded */
  name: string;
  /** decoded */
  value: string;
  /** The pair had no `=` (e.g. `?comp`). */
  bare: boolean;
}

export function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function parseQueryParams(raw: string): QueryParam[] {
  const q = raw.startsWith('?') ? raw.slice(1) : raw;
  if (q === '') return [];
  const out: QueryParam[] = [];
  for (const pair of q.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    out.push({ name, value: eq < 0 ? '' : decodeComponent(pair.slice(eq + 1)), bare: eq < 0 });
  }
  return out;
}

export class Query {
  readonly params: QueryParam[];
  private readonly byName = new Map<string, string>();

  constructor(raw: string) {
    this.params = parseQueryParams(raw);
    for (const p of this.params) if (!this.byName.has(p.name)) this.byName.set(p.name, p.value);
  }

  get(name: string): string | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }
}
