// Live updates: one graphql-transport-ws connection to /graphql per page (docs/subscriptions.md),
// subscribed to `findingsChanged`. Views read `useLiveVersion()`, a counter that moves (at most
// once a second) when findings they may show changed, and re-load; `useLiveState()` drives the
// "live" indicator. Reconnects with backoff; after a slow-consumer close (4501) it re-subscribes
// and views re-load, since events missed meanwhile are not replayed.

import { useEffect, useState } from 'preact/hooks';
import { apiUrl } from './api';
import { getToken } from './auth';

export type LiveState = 'connecting' | 'live' | 'offline';

const SUBSCRIPTION = 'subscription { findingsChanged { kind finding { id } } }';
/** Least time between two version bumps: a burst of changes re-loads a view once. */
const COALESCE_MS = 1000;

let state: LiveState = 'connecting';
let version = 0;
let started = false;
let pending: ReturnType<typeof setTimeout> | null = null;
let lastBump = 0;
const stateListeners = new Set<(s: LiveState) => void>();
const versionListeners = new Set<(v: number) => void>();

function setState(s: LiveState) {
  state = s;
  document.body.dataset.live = s;
  stateListeners.forEach((l) => l(s));
}

function bump() {
  if (pending) return;
  const wait = Math.max(0, lastBump + COALESCE_MS - Date.now());
  pending = setTimeout(() => {
    pending = null;
    lastBump = Date.now();
    version += 1;
    document.body.dataset.liveVersion = String(version);
    versionListeners.forEach((l) => l(version));
  }, wait);
}

function wsUrl(): string {
  const u = new URL(apiUrl('graphql'));
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

function connect(attempt: number) {
  setState('connecting');
  let ws: WebSocket;
  try {
    ws = new WebSocket(wsUrl(), 'graphql-transport-ws');
  } catch {
    retry(attempt);
    return;
  }
  let acked = false;
  ws.onopen = () => {
    const token = getToken();
    ws.send(JSON.stringify({ type: 'connection_init', payload: token ? { Authorization: `Bearer ${token}` } : {} }));
  };
  ws.onmessage = (e) => {
    let m: { type?: string; id?: string; payload?: unknown };
    try {
      m = JSON.parse(String(e.data));
    } catch {
      return;
    }
    switch (m.type) {
      case 'connection_ack':
        acked = true;
        attempt = 0;
        ws.send(JSON.stringify({ id: 'findings', type: 'subscribe', payload: { query: SUBSCRIPTION } }));
        setState('live');
        break;
      case 'ping':
        ws.send(JSON.stringify({ type: 'pong' }));
        break;
      case 'next':
        bump();
        break;
      default:
        break;
    }
  };
  ws.onclose = (e) => {
    setState('offline');
    // Auth refusals do not heal by retrying quickly; everything else reconnects.
    if (e.code === 4501) bump(); // missed events: views re-load once reconnected
    retry(acked ? 0 : attempt + 1, e.code === 4401 || e.code === 4403);
  };
}

function retry(attempt: number, slow = false) {
  const base = slow ? 30_000 : Math.min(30_000, 500 * 2 ** attempt);
  setTimeout(() => connect(attempt), base * (0.5 + Math.random() / 2));
}

function start() {
  if (started || typeof WebSocket === 'undefined') return;
  started = true;
  connect(0);
}

/** The live connection's state, for the indicator. */
export function useLiveState(): LiveState {
  const [s, set] = useState<LiveState>(state);
  useEffect(() => {
    start();
    stateListeners.add(set);
    set(state);
    return () => {
      stateListeners.delete(set);
    };
  }, []);
  return s;
}

/** A number that moves when findings changed on the server: put it in a view's load effect. */
export function useLiveVersion(): number {
  const [v, set] = useState(version);
  useEffect(() => {
    start();
    versionListeners.add(set);
    return () => {
      versionListeners.delete(set);
    };
  }, []);
  return v;
}
