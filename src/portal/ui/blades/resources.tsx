import { arm } from '../api.js';
import { Badge, Loaded, PageHeader, Table } from '../components.js';
import { shortType } from '../graph/model.js';
import { useAsync } from '../hooks.js';
import { parseId, type ArmResource } from '../models.js';
import { href, resourceHref } from '../router.js';
import { useApp } from '../state.js';

/** Subscription → resource groups and every resource the principal may read. */
export function ResourcesBlade() {
  const { subscriptionId, subscriptions } = useApp();
  const sub = subscriptions.find((s) => s.subscriptionId === subscriptionId);
  const groups = useAsync(() => arm.list<ArmResource>(`/subscriptions/${subscriptionId}/resourceGroups`), [subscriptionId]);
  const resources = useAsync(() => arm.list<ArmResource>(`/subscriptions/${subscriptionId}/resources`), [subscriptionId]);
  return (
    <section>
      <PageHeader
        title="Resources"
        subtitle={`Subscription ${sub?.displayName ?? ''} · ${subscriptionId}`}
        actions={
          <>
            <a class="btn btn-plain" href={resourceHref(`/subscriptions/${subscriptionId}`)}>
              Subscription overview
            </a>
            <a class="btn btn-plain" href={href('iam', { scope: `/subscriptions/${subscriptionId}` })}>
              Access control (IAM)
            </a>
          </>
        }
      />
      <h2>Resource groups</h2>
      <Loaded state={groups}>
        {(gs) => (
          <Table
            label="Resource groups"
            rows={gs}
            rowKey={(g) => g.id}
            empty="No resource groups you can read."
            columns={[
              { title: 'Name', render: (g) => <a href={resourceHref(g.id)}>{g.name}</a> },
              { title: 'Location', render: (g) => g.location },
              { title: 'Resources', render: (g) => resources.data?.filter((r) => parseId(r.id).group?.toLowerCase() === g.name.toLowerCase()).length ?? '…' },
            ]}
          />
        )}
      </Loaded>
      <h2>All resources</h2>
      <Loaded state={resources}>{(rs) => <ResourceTable rows={rs} label="All resources" />}</Loaded>
    </section>
  );
}

export function ResourceTable({ rows, label }: { rows: ArmResource[]; label: string }) {
  return (
    <Table
      label={label}
      rows={[...rows].sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name))}
      rowKey={(r) => r.id}
      empty="No resources you can read."
      columns={[
        { title: 'Name', render: (r) => <a href={resourceHref(r.id)}>{r.name}</a> },
        { title: 'Type', render: (r) => shortType(r.type) },
        { title: 'Resource group', render: (r) => parseId(r.id).group ?? '—' },
        { title: 'Location', render: (r) => r.location ?? '—' },
        { title: 'Identity', render: (r) => <IdentitySummary r={r} /> },
      ]}
    />
  );
}

function IdentitySummary({ r }: { r: ArmResource }) {
  const t = (r.identity?.type ?? 'None').toLowerCase();
  if (t === 'none') return <span class="muted">—</span>;
  const user = Object.keys(r.identity?.userAssignedIdentities ?? {}).length;
  return (
    <span class="badges">
      {t.includes('systemassigned') ? <Badge tone="info">System</Badge> : null}
      {user > 0 ? <Badge tone="info">{`${user} user-assigned`}</Badge> : null}
    </span>
  );
}

/** One resource type across the subscription (Key vaults, Storage accounts, Managed identities). */
export function TypeListBlade({ type, title, subtitle }: { type: string; title: string; subtitle: string }) {
  const { subscriptionId } = useApp();
  const state = useAsync(() => arm.list<ArmResource>(`/subscriptions/${subscriptionId}/providers/${type}`), [subscriptionId, type]);
  return (
    <section>
      <PageHeader title={title} subtitle={subtitle} />
      <Loaded state={state}>{(rs) => <ResourceTable rows={rs} label={title} />}</Loaded>
    </section>
  );
}
