// gdlens web frontend: dashboard, findings (local WASM re-ranking), finding detail, finding groups.

import { render } from 'preact';
import './style.css';
import './perf';
import { Dashboard } from './views/Dashboard';
import { Findings } from './views/Findings';
import { FindingDetail } from './views/FindingDetail';
import { Group } from './views/Group';
import { Groups } from './views/Groups';
import type { ViewFilter } from './filters';
import { filterFromParams, filterToParams } from './filters';
import { go, link, useRoute } from './route';

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
      body = <Group id={route.id ?? ''} />;
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
