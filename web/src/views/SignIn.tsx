// The sign-in and "session expired" screens, and the signed-in viewer's badge in the top bar.

import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api';
import type { AuthConfig } from '../auth';
import { checkToken, setToken, startLogin } from '../auth';

export interface ViewerInfo {
  name: string;
  role: string;
  authMethod: string;
  email?: string | null;
  accounts: string[] | null;
}

export const VIEWER_QUERY = '{ viewer { name role authMethod email accounts } }';

function SsoButton(props: { config: AuthConfig; label: string; onError: (m: string) => void }) {
  if (!props.config.oidc?.clientId) return null;
  return (
    <button
      type="button"
      class="primary"
      data-testid="signin-sso"
      onClick={() => startLogin(props.config).catch((e) => props.onError(String(e instanceof Error ? e.message : e)))}
    >
      {props.label}
    </button>
  );
}

/** Sign in with the issuer (PKCE) or by pasting a token. `onSignedIn` runs once the token works. */
export function SignIn(props: { config: AuthConfig; error?: string; onSignedIn: () => void }) {
  const [token, setTokenText] = useState('');
  const [error, setError] = useState(props.error ?? '');
  const [busy, setBusy] = useState(false);
  const oidc = props.config.oidc;
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return;
    setBusy(true);
    const refused = await checkToken(t);
    setBusy(false);
    if (refused) {
      setError(`This token was refused: ${refused}`);
      return;
    }
    setToken(t);
    setTokenText('');
    props.onSignedIn();
  };
  return (
    <main class="signin" data-testid="signin">
      <h1>Sign in to gdlens</h1>
      {error && (
        <p class="error" data-testid="signin-error">
          {error}
        </p>
      )}
      {oidc?.clientId && (
        <section>
          <p>
            Sign in with your organization's account at <code>{oidc.issuer}</code>.
          </p>
          <SsoButton config={props.config} label="Sign in with single sign-on" onError={setError} />
        </section>
      )}
      <section>
        <form onSubmit={submit}>
          <label for="signin-token">
            {oidc?.clientId ? 'Or paste an API or OIDC token' : 'Paste an API or OIDC token'}
          </label>
          <textarea
            id="signin-token"
            data-testid="signin-token"
            rows={4}
            autocomplete="off"
            spellcheck={false}
            value={token}
            onInput={(e) => setTokenText((e.target as HTMLTextAreaElement).value)}
          />
          <button type="submit" disabled={busy || !token.trim()} data-testid="signin-token-submit">
            Use token
          </button>
          <p class="muted">The token stays in this tab's session storage and is sent only to this server.</p>
        </form>
      </section>
    </main>
  );
}

/** Shown when the server stops accepting the session's token (expired or revoked). */
export function SessionExpired(props: { config: AuthConfig; message?: string; onSignIn: () => void }) {
  const [error, setError] = useState('');
  return (
    <main class="signin" data-testid="session-expired">
      <h1>Your session has expired</h1>
      <p>Sign in again to continue. Nothing you were looking at was changed.</p>
      {props.message && <p class="muted">The server said: {props.message}</p>}
      {error && (
        <p class="error" data-testid="signin-error">
          {error}
        </p>
      )}
      <SsoButton config={props.config} label="Sign in again" onError={setError} />{' '}
      <button type="button" data-testid="session-signin" onClick={props.onSignIn}>
        {props.config.oidc?.clientId ? 'Other ways to sign in' : 'Sign in again'}
      </button>
    </main>
  );
}

/** Shown when the identity is valid but no grant gives it access. */
export function NoAccess(props: { message: string; onSignOut?: () => void }) {
  return (
    <main class="signin" data-testid="no-access">
      <h1>No access</h1>
      <p>{props.message}</p>
      <p class="muted">Ask an administrator to grant one of your groups a role in gdlens.</p>
      {props.onSignOut && (
        <button type="button" onClick={props.onSignOut}>
          Sign out
        </button>
      )}
    </main>
  );
}

function scopeText(accounts: string[] | null): string {
  if (accounts === null) return 'all accounts';
  if (accounts.length === 1) return `account ${accounts[0]}`;
  return `${accounts.length} accounts`;
}

/** Name, role and scope of the caller; a sign-out button for token sessions. */
export function ViewerBadge(props: { onSignOut?: () => void }) {
  const [viewer, setViewer] = useState<ViewerInfo | null>(null);
  useEffect(() => {
    gql<{ viewer: ViewerInfo }>(VIEWER_QUERY)
      .then((d) => setViewer(d.viewer))
      .catch(() => setViewer(null));
  }, []);
  if (!viewer) return null;
  return (
    <span class="viewer" data-testid="viewer" data-role={viewer.role} data-auth-method={viewer.authMethod}>
      <span data-testid="viewer-name">{viewer.name}</span>
      <span class="role" data-testid="viewer-role">
        {viewer.role}
      </span>
      <span class="scope" data-testid="viewer-scope" title={viewer.accounts?.join(', ') ?? 'every account'}>
        {scopeText(viewer.accounts)}
      </span>
      {props.onSignOut && (
        <button type="button" class="link" data-testid="signout" onClick={props.onSignOut}>
          Sign out
        </button>
      )}
    </span>
  );
}
