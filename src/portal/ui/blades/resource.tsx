import type { ComponentChildren } from 'preact';
import { arm } from '../api.js';
import { Copyable, KeyValues, Loaded, PageHeader, Tabs, type TabDef } from '../components.js';
import { shortType } from '../graph/model.js';
import { useAsync } from '../hooks.js';
import { IDENTITY_TYPES, isType, parseId, scopeKind, T, type ArmResource, type Subscription } from '../models.js';
import { href, resourceHref } from '../router.js';
import { IamBlade } from './iam.js';
import { IdentityTab } from './identity.js';
import { AccessPoliciesTab, SecretsTab } from './keyvault.js';
import { ResourceTable } from './resources.js';
import { ContainersTab } from './storage.js';

/** One scope's page: a subscription, a resource group or a resource, with the tabs its type has. */
export function ResourceBlade({ id, tab }: { id: string; tab: string }) {
  const kind = scopeKind(id);
  const state = useAsync(async () => {
    if (kind === 'subscription') {
      const s = await arm.get<Subscription>(id);
      return { id: s.id, name: s.displayName, type: 'Microsoft.Resources/subscriptions', properties: { subscriptionId: s.subscriptionId, state: s.state, tenantId: s.tenantId } } as ArmResource;
    }
    return arm.get<ArmResource>(id);
  }, [id]);
  const p = parseId(id);
  const crumbs: [string, string][] = [['Resources', href('resources')]];
  if (p.subscriptionId && kind !== 'subscription') crumbs.push(['Subscription', resourceHref(`/subscriptions/${p.subscriptionId}`)]);
  if (p.group && kind === 'resource') crumbs.push([p.group, resourceHref(`/subscriptions/${p.subscriptionId}/resourceGroups/${p.group}`)]);
  return (
    <section>
      <Loaded state={state} title={`Could not open ${p.name || id}`}>
        {(r) => {
          const tabs = tabsFor(r, kind);
          const active = tabs.find((t) => t.id === tab)?.id ?? 'overview';
          return (
            <>
              <PageHeader title={r.name} subtitle={kind === 'group' ? 'Resource group' : kind === 'subscription' ? 'Subscription' : shortType(r.type)} crumbs={crumbs} />
              <Tabs tabs={tabs} active={active} link={(t) => resourceHref(id, t)} />
              <div class="tab-panel">{panel(r, kind, active, state.reload)}</div>
            </>
          );
        }}
      </Loaded>
    </section>
  );
}

function tabsFor(r: ArmResource, kind: string): TabDef[] {
  const tabs: TabDef[] = [{ id: 'overview', label: 'Overview' }];
  if (IDENTITY_TYPES.some((t) => isType(r, t))) tabs.push({ id: 'identity', label: 'Identity' });
  if (isType(r, T.vault)) tabs.push({ id: 'policies', label: 'Access policies' }, { id: 'secrets', label: 'Secrets' });
  if (isType(r, T.storage)) tabs.push({ id: 'containers', label: 'Containers' });
  if (kind !== 'root') tabs.push({ id: 'iam', label: 'Access control (IAM)' });
  return tabs;
}

function panel(r: ArmResource, kind: string, tab: string, reload: () => void): ComponentChildren {
  switch (tab) {
    case 'identity':
      return <IdentityTab resource={r} onChanged={reload} />;
    case 'policies':
      return <AccessPoliciesTab vault={r} onChanged={reload} />;
    case 'secrets':
      return <SecretsTab vault={r} />;
    case 'containers':
      return <ContainersTab account={r} />;
    case 'iam':
      return <IamBlade scope={r.id} />;
    default:
      return kind === 'group' || kind === 'subscription' ? <ScopeOverview r={r} kind={kind} /> : <Overview r={r} />;
  }
}

function Overview({ r }: { r: ArmResource }) {
  const p = parseId(r.id);
  const props = Object.entries(r.properties ?? {}).filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
  return (
    <div class="grid-2">
      <div class="card">
        <h3>Essentials</h3>
        <KeyValues
          rows={[
            ['Name', r.name],
            ['Type', r.type],
            ['Resource group', p.group ? <a href={resourceHref(`/subscriptions/${p.subscriptionId}/resourceGroups/${p.group}`)}>{p.group}</a> : '—'],
            ['Location', r.location ?? '—'],
            ['Subscription', p.subscriptionId ?? '—'],
            ['Resource ID', <Copyable value={r.id} label="Resource ID" />],
            ['Identity', r.identity?.type ?? 'None'],
            ['Tags', Object.entries(r.tags ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || '—'],
          ]}
        />
      </div>
      <div class="card">
        <h3>Properties</h3>
        <KeyValues rows={props.length ? props.map(([k, v]) => [k, k.toLowerCase().endsWith('id') && typeof v === 'string' ? <Copyable value={v} /> : String(v)]) : [['—', 'No properties']]} />
      </div>
    </div>
  );
}

function ScopeOverview({ r, kind }: { r: ArmResource; kind: string }) {
  const p = parseId(r.id);
  const path = kind === 'group' ? `/subscriptions/${p.subscriptionId}/resourceGroups/${r.name}/resources` : `/subscriptions/${p.subscriptionId}/resources`;
  const resources = useAsync(() => arm.list<ArmResource>(path), [path]);
  return (
    <>
      <div class="card">
        <KeyValues
          rows={[
            ['Name', r.name],
            ...(kind === 'group' ? ([['Location', r.location ?? '—']] as [string, ComponentChildren][]) : []),
            ['ID', <Copyable value={r.id} />],
          ]}
        />
      </div>
      <h2>Resources</h2>
      <Loaded state={resources}>{(rs) => <ResourceTable rows={rs} label="Resources" />}</Loaded>
    </>
  );
}
