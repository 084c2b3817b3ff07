import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, request } from '../api.js';
import { Badge, Button, ErrorPanel, Field, PageHeader, Spinner, Table, Tabs } from '../components.js';
import { href } from '../router.js';
import { usePrincipalNames } from '../state.js';

/** An event as `/keyless/v1/audit/events` returns it (src/audit/types.ts, AuditEvent). */
interface AuditEvent {
  seq: number;
  id: string;
  at: number;
  category: 'signin' | 'activity' | 'data';
  result: 'succeeded' | 'failed' | 'denied';
  httpStatus?: number;
  principalId?: string;
  appId?: string;
  operation: string;
  scope?: string;
  correlationId?: string;
  details: Record<string, unknown>;
}

const CATEGORIES = [
  { id: 'signin', label: 'Sign-ins' },
  { id: 'activity', label: 'Activity' },
  { id: 'data', label: 'Data access' },
];

const RANGES = [
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
] as const;

type State = { events: AuditEvent[]; next: number | undefined } | { error: unknown } | { unavailable: true } | undefined;

/** Sign-ins, ARM activity and data-plane access from Keyless's audit trail, read as the signed-in principal. */
export function LogsBlade({ category }: { category: string }) {
  const cat = CATEGORIES.some((c) => c.id === category) ? category : 'signin';
  const [principal, setPrincipal] = useState('');
  const [since, setSince] = useState('24h');
  const [status, setStatus] = useState('');
  const [state, setState] = useState<State>();
  const [tick, setTick] = useState(0);

  const query = (before?: number) => {
    const q = new URLSearchParams({ category: cat, since, order: 'desc', limit: '100' });
    if (principal) q.set('principal', principal);
    if (status) q.set('status', status);
    if (before !== undefined) q.set('before', String(before));
    return request<{ events: AuditEvent[]; next?: number }>('GET', `/portal/api/ops/keyless/v1/audit/events?${q.toString()}`);
  };

  useEffect(() => {
    let live = true;
    setState(undefined);
    query().then(
      (r) => live && setState({ events: r.events, next: r.next }),
      (error: unknown) => live && setState(error instanceof ApiError && error.status === 404 ? { unavailable: true } : { error }),
    );
    return () => {
      live = false;
    };
    // The filters are applied when the form is submitted (tick), the category when its tab is picked.
  }, [cat, tick]);

  const more = async () => {
    if (!state || !('events' in state) || state.next === undefined) return;
    const r = await query(state.next);
    setState({ events: [...state.events, ...r.events], next: r.next });
  };

  return (
    <section>
      <PageHeader title="Logs" subtitle="Sign-ins, activity on resources, and data-plane access, from Keyless's audit trail." />
      <Tabs tabs={CATEGORIES} active={cat} link={(id) => href('logs', { category: id })} />
      <form
        class="filters"
        aria-label="Log filters"
        onSubmit={(e) => {
          e.preventDefault();
          setTick((t) => t + 1);
        }}
      >
        <Field label="Principal">
          <input value={principal} onInput={(e) => setPrincipal((e.target as HTMLInputElement).value.trim())} placeholder="Object or client ID" spellcheck={false} aria-label="Principal filter" />
        </Field>
        <Field label="Time range">
          <select value={since} onChange={(e) => setSince((e.target as HTMLSelectElement).value)} aria-label="Time range">
            {RANGES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Result">
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)} aria-label="Result filter">
            <option value="">Any</option>
            <option value="succeeded">Succeeded</option>
            <option value="failed">Failed (incl. denied)</option>
            <option value="denied">Denied</option>
          </select>
        </Field>
        <Button kind="primary" type="submit">
          Apply
        </Button>
      </form>
      <Body state={state} category={cat} onMore={() => void more()} />
    </section>
  );
}

function Body({ state, category, onMore }: { state: State; category: string; onMore(): void }) {
  const ids = state && 'events' in state ? state.events.map((e) => e.principalId ?? '').filter(Boolean) : [];
  const nameOf = usePrincipalNames(ids);
  if (state === undefined) return <Spinner />;
  if ('unavailable' in state) {
    return (
      <div class="empty-state" role="status">
        <h3>Logs are not available</h3>
        <p class="muted">This Keyless server has no audit API (<code>/keyless/v1/audit/events</code>). Sign-ins and access decisions still go to the server log.</p>
      </div>
    );
  }
  if ('error' in state) return <ErrorPanel error={state.error} title="Could not read the logs" />;
  const who = (e: AuditEvent): ComponentChildren => {
    const n = e.principalId ? nameOf(e.principalId) : undefined;
    return (
      <span class="principal">
        <span>{n?.displayName ?? (e.details['caller'] as string | undefined) ?? e.appId ?? '—'}</span>
        {e.principalId ? <code class="small muted nowrap">{e.principalId}</code> : null}
      </span>
    );
  };
  const result = (e: AuditEvent) => <Badge tone={e.result === 'succeeded' ? 'ok' : e.result === 'denied' ? 'bad' : 'warn'}>{e.result}</Badge>;
  const time = (e: AuditEvent) => <span class="nowrap">{new Date(e.at).toLocaleString()}</span>;
  const why = (e: AuditEvent) => {
    const err = e.details['error'] as { code?: string; message?: string } | undefined;
    const text = (e.details['summary'] as string | undefined) ?? (e.details['failureReason'] as string | undefined) ?? (err ? `${err.code ?? ''}: ${err.message ?? ''}` : undefined);
    return text ? <span class="small">{text}</span> : <span class="muted">—</span>;
  };
  const columns =
    category === 'signin'
      ? [
          { title: 'Time', render: time },
          { title: 'Result', render: result },
          { title: 'Principal', render: who },
          { title: 'Endpoint', render: (e: AuditEvent) => <span class="nowrap">{e.operation}</span> },
          { title: 'Resource (audience)', render: (e: AuditEvent) => String(e.details['resource'] ?? '—') },
          { title: 'From', render: (e: AuditEvent) => (e.scope ? <code class="small">{e.scope}</code> : '—') },
          { title: 'Details', render: why },
        ]
      : [
          { title: 'Time', render: time },
          { title: 'Result', render: result },
          { title: 'Status', render: (e: AuditEvent) => e.httpStatus ?? '—' },
          { title: category === 'activity' ? 'Operation' : 'Data action', render: (e: AuditEvent) => <code class="small">{e.operation}</code> },
          { title: 'Resource', render: (e: AuditEvent) => (e.scope ? <code class="small">{e.scope}</code> : '—') },
          { title: 'Principal', render: who },
          { title: 'Details', render: why },
        ];
  return (
    <>
      <Table label="Log events" rows={state.events} rowKey={(e) => e.id} empty="No events match these filters." columns={columns} />
      {state.next !== undefined ? (
        <div class="toolbar">
          <Button onClick={onMore}>Load older events</Button>
        </div>
      ) : null}
    </>
  );
}
