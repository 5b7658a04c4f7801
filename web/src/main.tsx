// gdlens web frontend: dashboard, findings (local WASM re-ranking), finding detail, finding groups.

import { render } from 'preact';
import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import './perf';
import { Dashboard } from './views/Dashboard';
import { Hardening } from './views/Hardening';
import { Coverage } from './views/Coverage';
import { Noise } from './views/Noise';
import { Findings } from './views/Findings';
import { FindingDetail } from './views/FindingDetail';
import { Groups } from './views/Groups';
import type { ViewFilter } from './filters';
import { filterFromParams, filterToParams } from './filters';
import { go, link, useRoute } from './route';
import type { AuthConfig, AuthEventDetail } from './auth';
import { AUTH_EVENT, clearToken, completeLogin, fetchAuthConfig, getToken, tokenExpiry } from './auth';
import { NoAccess, SessionExpired, SignIn, ViewerBadge } from './views/SignIn';
import { useLiveState } from './live';

// The group view pulls in Cytoscape.js: load it only when a group is opened, so the dashboard's
// first render does not wait for it.
let groupView: Promise<FunctionComponent<{ id: string }>> | null = null;
function LazyGroup(props: { id: string }) {
  const [View, setView] = useState<FunctionComponent<{ id: string }> | null>(null);
  useEffect(() => {
    groupView ??= import('./views/Group').then((m) => m.Group);
    groupView.then((v) => setView(() => v));
  }, []);
  return View ? <View id={props.id} /> : <p class="muted">Loading…</p>;
}

/** The live-updates indicator: green while the subscription is up. */
function LiveBadge() {
  const s = useLiveState();
  const text = s === 'live' ? 'live' : s === 'connecting' ? 'connecting…' : 'offline';
  const title =
    s === 'live'
      ? 'Live: the views update as findings change'
      : 'Not live: the views show the data as loaded; reconnecting';
  return (
    <span class={`live live-${s}`} data-testid="live-state" data-state={s} title={title}>
      <span class="dot" aria-hidden="true" /> {text}
    </span>
  );
}

function App(props: { onSignOut?: () => void }) {
  const route = useRoute();
  const filter = filterFromParams(route.params);
  const setFilter = (view: string) => (f: ViewFilter) => go(link(view, filterToParams(f)));
  const carried = filterToParams({
    ...filter,
    types: [],
    resourceKey: undefined,
    typePrefix: undefined,
    since: undefined,
    before: undefined,
    overdue: undefined,
  });
  let body;
  switch (route.view) {
    case 'findings':
      body = <Findings filter={filter} onFilter={setFilter('findings')} />;
      break;
    case 'finding':
      body = <FindingDetail id={route.id ?? ''} />;
      break;
    case 'groups':
      body = <Groups filter={filter} />;
      break;
    case 'group':
      body = <LazyGroup id={route.id ?? ''} />;
      break;
    case 'hardening':
      body = <Hardening filter={filter} onFilter={setFilter('hardening')} />;
      break;
    case 'coverage':
      body = <Coverage />;
      break;
    case 'noise':
      body = <Noise filter={filter} onFilter={setFilter('noise')} />;
      break;
    default:
      body = <Dashboard filter={filter} onFilter={setFilter('dashboard')} />;
  }
  const tab = (view: string, label: string) => (
    <a href={link(view, carried)} class={route.view === view ? 'active' : ''} data-testid={`nav-${view}`}>
      {label}
    </a>
  );
  return (
    <>
      <header class="top">
        <span class="brand">gdlens</span>
        <nav>
          {tab('dashboard', 'Dashboard')}
          {tab('findings', 'Findings')}
          {tab('groups', 'Finding groups')}
          {tab('hardening', 'Hardening')}
          {tab('coverage', 'Coverage')}
          {tab('noise', 'Noise')}
        </nav>
        <LiveBadge />
        <ViewerBadge onSignOut={props.onSignOut} />
      </header>
      <main>{body}</main>
    </>
  );
}

type Gate =
  | { kind: 'loading' }
  | { kind: 'signin'; error?: string }
  | { kind: 'expired'; message?: string }
  | { kind: 'forbidden'; message: string }
  | { kind: 'ready' };

const NO_AUTH: AuthConfig = { required: false, tokens: false, proxy: false, oidc: null };

/** Signs in first when the server requires it, then shows the app. */
function Root() {
  const [config, setConfig] = useState<AuthConfig>(NO_AUTH);
  const [gate, setGate] = useState<Gate>({ kind: 'loading' });
  useEffect(() => {
    (async () => {
      // A server without the route (or unreachable): the views report their own errors.
      const cfg = await fetchAuthConfig().catch(() => NO_AUTH);
      setConfig(cfg);
      try {
        if (await completeLogin(cfg)) {
          setGate({ kind: 'ready' });
          return;
        }
      } catch (e) {
        setGate({ kind: 'signin', error: e instanceof Error ? e.message : String(e) });
        return;
      }
      const token = getToken();
      if (token) {
        const exp = tokenExpiry(token);
        if (exp !== null && exp <= Date.now()) {
          clearToken();
          setGate({ kind: 'expired' });
        } else {
          setGate({ kind: 'ready' });
        }
        return;
      }
      // Loopback mode, or a trusted proxy that signs people in before they reach us.
      setGate(!cfg.required || cfg.proxy ? { kind: 'ready' } : { kind: 'signin' });
    })();
  }, []);
  // The server refused the credentials of some request.
  useEffect(() => {
    const on = (e: Event) => {
      const d = (e as CustomEvent<AuthEventDetail>).detail;
      if (d.reason === 'expired') {
        clearToken();
        setGate({ kind: 'expired', message: d.message });
      } else if (d.reason === 'required') {
        // A request that went out without a token after another one found the session expired.
        setGate((g) => (g.kind === 'expired' ? g : { kind: 'signin' }));
      } else {
        setGate({ kind: 'forbidden', message: d.message });
      }
    };
    window.addEventListener(AUTH_EVENT, on);
    return () => window.removeEventListener(AUTH_EVENT, on);
  }, []);
  // The token's own expiry, checked every second while the app is shown.
  useEffect(() => {
    if (gate.kind !== 'ready') return;
    const id = setInterval(() => {
      const token = getToken();
      const exp = token ? tokenExpiry(token) : null;
      if (exp !== null && exp <= Date.now()) {
        clearToken();
        setGate({ kind: 'expired' });
      }
    }, 1000);
    return () => clearInterval(id);
  }, [gate.kind]);

  const signOut = () => {
    clearToken();
    setGate({ kind: 'signin' });
  };
  switch (gate.kind) {
    case 'loading':
      return <p class="muted">Loading…</p>;
    case 'signin':
      return <SignIn config={config} error={gate.error} onSignedIn={() => setGate({ kind: 'ready' })} />;
    case 'expired':
      return <SessionExpired config={config} message={gate.message} onSignIn={() => setGate({ kind: 'signin' })} />;
    case 'forbidden':
      return <NoAccess message={gate.message} onSignOut={getToken() ? signOut : undefined} />;
    default:
      return <App onSignOut={getToken() ? signOut : undefined} />;
  }
}

render(<Root />, document.getElementById('app')!);
