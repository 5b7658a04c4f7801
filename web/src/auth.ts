// Sign-in for the web frontend. The server says what it accepts (GET /api/auth/config):
// - nothing (loopback mode) or a trusted proxy: requests go out as they are;
// - OIDC: authorization code + PKCE against the configured issuer (a public client: no secret);
// - tokens: the user pastes one (scripts' users, or an OIDC token obtained elsewhere).
// The bearer token lives in sessionStorage only (gone with the tab), never in a URL or a log; the
// authorization code the issuer puts in the redirect URL is removed from the address bar at once.

/** What GET /api/auth/config answers. */
export interface AuthConfig {
  required: boolean;
  tokens: boolean;
  proxy: boolean;
  oidc: null | {
    issuer: string;
    audience: string;
    clientId?: string | null;
    authorizationEndpoint?: string | null;
    tokenEndpoint?: string | null;
    scopes: string;
  };
}

const TOKEN_KEY = 'gdlens.token';
const PKCE_KEY = 'gdlens.pkce';

/** Fired on window when the server refuses the stored token (or asks for one). */
export const AUTH_EVENT = 'gdlens:auth';
export type AuthEventDetail = { reason: 'expired' | 'required' | 'forbidden'; message: string };

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** `Authorization` header for API requests, when signed in with a token. */
export function authHeaders(): Record<string, string> {
  const t = getToken();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/**
 * Tells the app that the server refused a request's credentials (401 / 403 from auth). `sent`:
 * whether that request carried a token (several requests may fail at once; the first clears it).
 */
export function reportAuthFailure(status: number, code: string | undefined, message: string, sent: boolean): void {
  if (status === 401 || code === 'UNAUTHENTICATED') {
    const reason = sent ? 'expired' : 'required';
    window.dispatchEvent(new CustomEvent<AuthEventDetail>(AUTH_EVENT, { detail: { reason, message } }));
  } else if (status === 403 && code === 'FORBIDDEN') {
    window.dispatchEvent(new CustomEvent<AuthEventDetail>(AUTH_EVENT, { detail: { reason: 'forbidden', message } }));
  }
}

function b64urlDecode(s: string): string {
  const b = s.replace(/-/g, '+').replace(/_/g, '/');
  return atob(b + '='.repeat((4 - (b.length % 4)) % 4));
}

/** The payload of a JWT (unverified: only for display and expiry; the server verifies). */
export function jwtPayload(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    return JSON.parse(b64urlDecode(parts[1]));
  } catch {
    return null;
  }
}

/** When the token expires (ms since the epoch), if it is a JWT with `exp`. */
export function tokenExpiry(token: string): number | null {
  const exp = jwtPayload(token)?.exp;
  return typeof exp === 'number' ? exp * 1000 : null;
}

/** Asks the server who `token` is, without touching the session: null when it works, else why not. */
export async function checkToken(token: string): Promise<string | null> {
  try {
    const res = await fetch(new URL('/graphql', window.location.href).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ viewer { name } }' }),
    });
    const body = await res.json().catch(() => null);
    if (res.ok && body?.data?.viewer) return null;
    return body?.errors?.[0]?.message ?? `the server answered ${res.status}`;
  } catch (e) {
    return String(e);
  }
}

export async function fetchAuthConfig(): Promise<AuthConfig> {
  const res = await fetch(new URL('/api/auth/config', window.location.href).toString());
  if (!res.ok) throw new Error(`/api/auth/config answered ${res.status}`);
  return res.json();
}

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Where the issuer sends the browser back: this page, without query or hash. */
function redirectUri(): string {
  return `${window.location.origin}${window.location.pathname}`;
}

async function endpoints(oidc: NonNullable<AuthConfig['oidc']>): Promise<{ authorization: string; token: string }> {
  if (oidc.authorizationEndpoint && oidc.tokenEndpoint) {
    return { authorization: oidc.authorizationEndpoint, token: oidc.tokenEndpoint };
  }
  const url = `${oidc.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot read the issuer's discovery document (${res.status})`);
  const doc = await res.json();
  return {
    authorization: oidc.authorizationEndpoint ?? doc.authorization_endpoint,
    token: oidc.tokenEndpoint ?? doc.token_endpoint,
  };
}

/** Starts the authorization-code + PKCE login: leaves the page for the issuer. */
export async function startLogin(config: AuthConfig): Promise<void> {
  const oidc = config.oidc;
  if (!oidc?.clientId) throw new Error('the server names no OIDC client id');
  const ep = await endpoints(oidc);
  const verifier = randomString();
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const state = randomString();
  const nonce = randomString();
  sessionStorage.setItem(
    PKCE_KEY,
    JSON.stringify({ verifier, state, nonce, tokenEndpoint: ep.token, returnTo: window.location.hash }),
  );
  const url = new URL(ep.authorization);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', oidc.clientId);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('scope', oidc.scopes);
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', nonce);
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  window.location.assign(url.toString());
}

/**
 * Finishes a login when the issuer has just redirected back (`?code=…&state=…`): removes the code
 * from the address bar, checks `state`, redeems the code with the PKCE verifier and stores the
 * token. Returns false when this page load is no redirect.
 */
export async function completeLogin(config: AuthConfig): Promise<boolean> {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return false;
  const saved = sessionStorage.getItem(PKCE_KEY);
  sessionStorage.removeItem(PKCE_KEY);
  const pending = saved ? JSON.parse(saved) : null;
  // Out of the address bar (and history) before anything else.
  window.history.replaceState(null, '', `${window.location.pathname}${pending?.returnTo ?? ''}`);
  if (error) throw new Error(`the identity provider refused the sign-in: ${error}`);
  if (!pending || params.get('state') !== pending.state) throw new Error('sign-in response does not match this tab (state)');
  const oidc = config.oidc;
  if (!oidc?.clientId) throw new Error('the server names no OIDC client id');
  const res = await fetch(pending.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code ?? '',
      redirect_uri: redirectUri(),
      client_id: oidc.clientId,
      code_verifier: pending.verifier,
    }),
  });
  if (!res.ok) throw new Error(`the token endpoint answered ${res.status}`);
  const body = await res.json();
  const id = typeof body.id_token === 'string' ? body.id_token : null;
  if (id && jwtPayload(id)?.nonce !== pending.nonce) throw new Error('sign-in response does not match this tab (nonce)');
  // The access token when it is a JWT for this API; else the ID token.
  const access = typeof body.access_token === 'string' && jwtPayload(body.access_token) ? body.access_token : null;
  const token = access ?? id;
  if (!token) throw new Error('the token endpoint returned no JWT');
  setToken(token);
  return true;
}
