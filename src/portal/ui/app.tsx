import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { SessionInfo } from '../api-types.js';
import { arm, getSession, signOut, useCsrf } from './api.js';
import { GraphBlade } from './blades/graph.js';
import { IamBlade } from './blades/iam.js';
import { LogsBlade } from './blades/logs.js';
import { ResourceBlade } from './blades/resource.js';
import { ResourcesBlade, TypeListBlade } from './blades/resources.js';
import { ErrorPanel, Spinner } from './components.js';
import type { Subscription } from './models.js';
import { T } from './models.js';
import { href, useRoute } from './router.js';
import { AppCtx, useApp, type AppState } from './state.js';
import { ToastHost } from './toast.js';

const NAV: { view: string; label: string; icon: ComponentChildren }[] = [
  { view: 'resources', label: 'Resources', icon: <Icon d="M3 4h14v4H3zM3 10h14v6H3z" /> },
  { view: 'identities', label: 'Managed identities', icon: <Icon d="M10 3a3.5 3.5 0 110 7 3.5 3.5 0 010-7zM3.5 17c.6-3.3 3.2-5 6.5-5s5.9 1.7 6.5 5z" /> },
  { view: 'vaults', label: 'Key vaults', icon: <Icon d="M7 9V6.5a3 3 0 016 0V9M4.5 9h11v8h-11zM10 12v2.5" stroke /> },
  { view: 'storage', label: 'Storage accounts', icon: <Icon d="M3 5c0-1.5 14-1.5 14 0v10c0 1.5-14 1.5-14 0zM3 5c0 1.5 14 1.5 14 0M3 10c0 1.5 14 1.5 14 0" stroke /> },
  { view: 'iam', label: 'Access control (IAM)', icon: <Icon d="M10 2.5l6 2.5v4.5c0 4-2.7 6.8-6 8-3.3-1.2-6-4-6-8V5z" stroke /> },
  { view: 'graph', label: 'Access graph', icon: <Icon d="M4 5h3v3H4zM13 3h3v3h-3zM13 13h3v3h-3zM7 6.5l6-2M7 7l6 7" stroke /> },
  { view: 'logs', label: 'Logs', icon: <Icon d="M4 3h12v14H4zM7 7h6M7 10h6M7 13h4" stroke /> },
];

function Icon({ d, stroke }: { d: string; stroke?: boolean }) {
  return (
    <svg class="nav-icon" viewBox="0 0 20 20" aria-hidden="true">
      <path d={d} fill={stroke ? 'none' : 'currentColor'} stroke={stroke ? 'currentColor' : 'none'} stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round" />
    </svg>
  );
}

/** Loads the session and the subscriptions the principal can see, then renders the shell. */
export function App() {
  const [boot, setBoot] = useState<{ session: SessionInfo; subscriptions: Subscription[] } | { error: unknown } | undefined>();
  const [subscriptionId, setSubscriptionId] = useState('');
  useEffect(() => {
    (async () => {
      const session = await getSession();
      useCsrf(session.csrfToken);
      const subscriptions = await arm.list<Subscription>('/subscriptions').catch(() => [] as Subscription[]);
      setBoot({ session, subscriptions });
      const stored = window.sessionStorage.getItem('keyless.subscription');
      const pick = subscriptions.find((s) => s.subscriptionId === stored) ?? subscriptions.find((s) => s.subscriptionId === session.defaultSubscriptionId) ?? subscriptions[0];
      setSubscriptionId(pick?.subscriptionId ?? session.defaultSubscriptionId);
    })().catch((error: unknown) => setBoot({ error }));
  }, []);

  if (!boot) return <div class="boot"><Spinner label="Signing you in…" /></div>;
  if ('error' in boot) return <div class="boot"><ErrorPanel error={boot.error} title="The portal could not start" /></div>;

  const state: AppState = {
    session: boot.session,
    subscriptions: boot.subscriptions,
    subscriptionId,
    setSubscriptionId: (id) => {
      window.sessionStorage.setItem('keyless.subscription', id);
      setSubscriptionId(id);
    },
  };
  return (
    <AppCtx.Provider value={state}>
      <ToastHost>
        <Shell />
      </ToastHost>
    </AppCtx.Provider>
  );
}

function Shell() {
  const route = useRoute();
  const active = route.view === 'resource' ? 'resources' : route.view;
  return (
    <div class="shell">
      <Header />
      <nav class="sidenav" aria-label="Portal">
        {NAV.map((n) => (
          <a key={n.view} href={href(n.view)} class={active === n.view ? 'nav-item active' : 'nav-item'} aria-current={active === n.view ? 'page' : undefined}>
            {n.icon}
            <span>{n.label}</span>
          </a>
        ))}
      </nav>
      <main class="content" id="content">
        <Blade view={route.view} params={route.params} />
      </main>
    </div>
  );
}

function Blade({ view, params }: { view: string; params: URLSearchParams }) {
  const { subscriptionId } = useApp();
  const sub = `/subscriptions/${subscriptionId}`;
  switch (view) {
    case 'resource':
      return <ResourceBlade id={params.get('id') ?? sub} tab={params.get('tab') ?? ''} />;
    case 'identities':
      return <TypeListBlade type={T.uai} title="Managed identities" subtitle="User-assigned managed identities in the subscription." />;
    case 'vaults':
      return <TypeListBlade type={T.vault} title="Key vaults" subtitle="Vaults, their access policies and secrets." />;
    case 'storage':
      return <TypeListBlade type={T.storage} title="Storage accounts" subtitle="Accounts, containers and blobs." />;
    case 'iam':
      return <IamBlade scope={params.get('scope') ?? sub} standalone principal={params.get('principal') ?? undefined} tab={params.get('tab') ?? ''} />;
    case 'graph':
      return <GraphBlade principal={params.get('principal') ?? undefined} />;
    case 'logs':
      return <LogsBlade category={params.get('category') ?? 'signin'} />;
    default:
      return <ResourcesBlade />;
  }
}


function Header() {
  const { session, subscriptions, subscriptionId, setSubscriptionId } = useApp();
  const ends = new Date(session.expiresAt);
  return (
    <header class="topbar">
      <a class="brand" href={href('resources')}>
        <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
          <rect width="32" height="32" rx="7" fill="#fff" fill-opacity=".15" />
          <circle cx="12" cy="16" r="5.5" fill="none" stroke="#fff" stroke-width="2.6" />
          <path d="M17.5 16h9M23 16v4M26.5 16v3" stroke="#fff" stroke-width="2.6" stroke-linecap="round" />
        </svg>
        Keyless portal
      </a>
      <div class="topbar-context">
        <span class="ctx">
          <span class="ctx-label">Tenant</span>
          <code title={session.tenantId}>{session.tenantId}</code>
        </span>
        <label class="ctx">
          <span class="ctx-label">Subscription</span>
          <select value={subscriptionId} onChange={(e) => setSubscriptionId((e.target as HTMLSelectElement).value)} aria-label="Subscription">
            {subscriptions.length === 0 ? <option value={subscriptionId}>{subscriptionId} (not readable)</option> : null}
            {subscriptions.map((s) => (
              <option key={s.subscriptionId} value={s.subscriptionId}>
                {s.displayName} ({s.subscriptionId.slice(0, 8)}…)
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="topbar-user" title={`Session ends ${ends.toLocaleTimeString()} (or after ${Math.round(session.idleTimeoutSec / 60)} idle minutes)`}>
        <div class="user-text">
          <span class="user-name">{session.principal.displayName}</span>
          <span class="user-id">app {session.principal.appId}</span>
        </div>
        <button type="button" class="btn btn-ghost" onClick={() => void signOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}
