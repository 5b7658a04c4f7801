// Hash routing: `#/dashboard?…`, `#/findings?…`, `#/finding/<id>`, `#/groups`, `#/group/<id>`.
// The hash keeps every view linkable and needs no server-side fallback route.

import { useEffect, useState } from 'preact/hooks';

/** A parsed location: the view name, an optional id and the query parameters. */
export interface Route {
  view: string;
  id?: string;
  params: URLSearchParams;
}

/** Parses `location.hash` into a Route (`#/` and empty go to the dashboard). */
export function parseRoute(hash: string = window.location.hash): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] ?? 'dashboard', id: parts[1], params: new URLSearchParams(query) };
}

/** Builds a hash link to a view with parameters (empty values left out). */
export function link(view: string, params: Record<string, string | undefined> = {}, id?: string): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const qs = q.toString();
  return `#/${view}${id !== undefined ? '/' + encodeURIComponent(id) : ''}${qs ? '?' + qs : ''}`;
}

/** Navigates to a hash link. */
export function go(href: string): void {
  window.location.hash = href.replace(/^#/, '');
}

/** The current route, re-rendering on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute());
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
