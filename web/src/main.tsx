// gdlens web frontend: dashboard, findings (local WASM re-ranking), finding detail, finding groups.

import { render } from 'preact';
import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import './perf';
import { Dashboard } from './views/Dashboard';
import { Findings } from './views/Findings';
import { FindingDetail } from './views/FindingDetail';
import { Groups } from './views/Groups';
import type { ViewFilter } from './filters';
import { filterFromParams, filterToParams } from './filters';
import { go, link, useRoute } from './route';

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

function App() {
  const route = useRoute();
  const filter = filterFromParams(route.params);
  const setFilter = (view: string) => (f: ViewFilter) => go(link(view, filterToParams(f)));
  const carried = filterToParams({ ...filter, types: [], resourceKey: undefined, typePrefix: undefined, since: undefined, before: undefined });
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
        </nav>
      </header>
      <main>{body}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
