import type { ApiErrorBody, SessionInfo } from '../api-types.js';

/** An error as the user should read it: the surface's own code and message (AuthorizationFailed, Forbidden …). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Keyless's one-line authorization explanation (x-keyless-authz), when the service gave one. */
    readonly authz?: string,
  ) {
    super(message);
  }
}

let csrfToken = '';
let leaving = false;

export function useCsrf(token: string): void {
  csrfToken = token;
}

export const SIGN_IN = '/portal/sign-in';

/** The portal API: same-origin, cookie-authenticated; mutations carry the session's CSRF token. */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  let r: Response;
  try {
    r = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (e) {
    throw new ApiError(0, 'NetworkError', `The portal could not be reached: ${(e as Error).message}`);
  }
  const text = await r.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  const err = (data as Partial<ApiErrorBody> | undefined)?.error;
  if (r.status === 401 && (err?.code === 'SessionExpired' || err?.code === 'SessionRequired')) {
    // Several requests of one page fail together; the first one decides where the user goes.
    if (!leaving) window.location.assign(err.code === 'SessionExpired' ? `${SIGN_IN}?expired=1` : SIGN_IN);
    leaving = true;
    throw new ApiError(401, err.code, err.message);
  }
  if (!r.ok) {
    throw new ApiError(r.status, err?.code ?? `Http${r.status}`, err?.message ?? (text.slice(0, 300) || r.statusText), r.headers.get('x-keyless-authz') ?? undefined);
  }
  return data as T;
}

export const getSession = () => request<SessionInfo>('GET', '/portal/api/session');

export async function signOut(): Promise<void> {
  await fetch('/portal/sign-out', { method: 'POST', headers: { 'x-csrf-token': csrfToken }, credentials: 'same-origin' });
  window.location.assign(`${SIGN_IN}?signed-out=1`);
}

/** api-version per resource provider: real Azure versions, so requests read like the Azure portal's own. */
export const API_VERSIONS: Record<string, string> = {
  'microsoft.compute': '2024-03-01',
  'microsoft.managedidentity': '2023-01-31',
  'microsoft.authorization': '2022-04-01',
  'microsoft.keyvault': '2023-07-01',
  'microsoft.storage': '2023-05-01',
  'microsoft.web': '2023-12-01',
  default: '2022-09-01',
};

export function apiVersionFor(path: string): string {
  const ns = [...path.matchAll(/\/providers\/([^/?]+)/gi)].pop()?.[1]?.toLowerCase();
  return (ns && API_VERSIONS[ns]) ?? API_VERSIONS['default']!;
}

function armUrl(path: string): string {
  const sep = path.includes('?') ? '&' : '?';
  return `/portal/api/arm${path}${/[?&]api-version=/.test(path) ? '' : `${sep}api-version=${apiVersionFor(path)}`}`;
}

/** ARM through the portal's proxy, as the signed-in principal. */
export const arm = {
  get: <T>(path: string) => request<T>('GET', armUrl(path)),
  async list<T>(path: string): Promise<T[]> {
    const out: T[] = [];
    let url: string | undefined = armUrl(path);
    for (let i = 0; url && i < 50; i++) {
      const page: { value?: T[]; nextLink?: string | null } = await request('GET', url);
      out.push(...(page.value ?? []));
      url = page.nextLink ? `/portal/api/arm${new URL(page.nextLink).pathname}${new URL(page.nextLink).search}` : undefined;
    }
    return out;
  },
  put: <T>(path: string, body: unknown) => request<T>('PUT', armUrl(path), body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', armUrl(path), body),
  delete: (path: string) => request<unknown>('DELETE', armUrl(path)),
};
