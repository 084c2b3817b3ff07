import { useEffect, useState } from 'preact/hooks';

/** Hash routes (`#/view?param=…`): the server serves one page, and a reload keeps the place. */
export interface Route {
  view: string;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const view = (q >= 0 ? h.slice(0, q) : h) || 'resources';
  return { view, params: new URLSearchParams(q >= 0 ? h.slice(q + 1) : '') };
}

export function href(view: string, params: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return `#/${view}${s ? `?${s}` : ''}`;
}

export function navigate(view: string, params: Record<string, string | undefined> = {}): void {
  window.location.hash = href(view, params);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const resourceHref = (id: string, tab?: string) => href('resource', { id, tab });
