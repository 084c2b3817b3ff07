import { useMemo, useState } from 'preact/hooks';
import { arm, request } from '../api.js';
import { Badge, Button, ErrorPanel, Field, Loaded, PageHeader, Pills, Principal, Spinner, Table } from '../components.js';
import { within } from '../graph/model.js';
import { useAsync } from '../hooks.js';
import { parseId, scopeKind, type ArmResource, type RoleAssignment } from '../models.js';
import { href, resourceHref } from '../router.js';
import { useApp, usePrincipalNames, useRoles } from '../state.js';
import { useToast } from '../toast.js';

type Relation = 'here' | 'inherited' | 'child';

const relationOf = (assignmentScope: string, scope: string): Relation =>
  assignmentScope.toLowerCase() === scope.toLowerCase() ? 'here' : within(scope, assignmentScope) ? 'inherited' : 'child';

/** Access control (IAM) at any scope: role assignments (incl. inherited), add / remove, Check access. */
export function IamBlade({ scope, standalone, principal, tab }: { scope: string; standalone?: boolean; principal?: string | undefined; tab?: string }) {
  const [section, setSection] = useState(tab === 'check' || principal ? 'check' : 'assignments');
  const body = (
    <>
      <Pills
        tabs={[
          { id: 'assignments', label: 'Role assignments' },
          { id: 'check', label: 'Check access' },
        ]}
        active={section}
        onSelect={setSection}
      />
      {section === 'assignments' ? <Assignments scope={scope} /> : <CheckAccess scope={scope} initialPrincipal={principal} />}
    </>
  );
  if (!standalone) return body;
  return (
    <section>
      <PageHeader title="Access control (IAM)" subtitle={`Scope: ${scope}`} actions={<ScopePicker scope={scope} />} />
      {body}
    </section>
  );
}

function ScopePicker({ scope }: { scope: string }) {
  const { subscriptionId } = useApp();
  const groups = useAsync(() => arm.list<ArmResource>(`/subscriptions/${subscriptionId}/resourceGroups`), [subscriptionId]);
  const sub = `/subscriptions/${subscriptionId}`;
  return (
    <select
      aria-label="Scope"
      value={scope}
      onChange={(e) => (window.location.hash = href('iam', { scope: (e.target as HTMLSelectElement).value }))}
    >
      <option value={sub}>Subscription</option>
      {(groups.data ?? []).map((g) => (
        <option key={g.id} value={g.id}>
          Resource group: {g.name}
        </option>
      ))}
      {scope !== sub && !(groups.data ?? []).some((g) => g.id === scope) ? <option value={scope}>{scope}</option> : null}
    </select>
  );
}

function Assignments({ scope }: { scope: string }) {
  const toast = useToast();
  const { subscriptionId } = useApp();
  const { nameOf } = useRoles(parseId(scope).subscriptionId ?? subscriptionId);
  const state = useAsync(() => arm.list<RoleAssignment>(`${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/roleAssignments`), [scope]);
  const [filter, setFilter] = useState<'all' | Relation>('all');
  const [adding, setAdding] = useState(false);
  const [busy, setBusy] = useState<string | undefined>();

  async function remove(a: RoleAssignment) {
    setBusy(a.id);
    try {
      await arm.delete(a.id);
      toast.success(`Removed ${nameOf(a.properties.roleDefinitionId)} from the principal at this scope.`);
      state.reload();
    } catch (e) {
      toast.error(e, 'Could not remove the role assignment');
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <div>
      <div class="toolbar">
        <Button kind="primary" onClick={() => setAdding(!adding)}>
          + Add role assignment
        </Button>
        <select aria-label="Scope filter" value={filter} onChange={(e) => setFilter((e.target as HTMLSelectElement).value as typeof filter)}>
          <option value="all">All scopes</option>
          <option value="here">This resource</option>
          <option value="inherited">Inherited</option>
          <option value="child">Child resources</option>
        </select>
        <Button onClick={state.reload}>Refresh</Button>
      </div>
      {adding ? (
        <AddAssignment
          scope={scope}
          onDone={() => {
            setAdding(false);
            state.reload();
          }}
        />
      ) : null}
      <Loaded state={state}>
        {(all) => {
          const rows = all
            .map((a) => ({ a, rel: relationOf(a.properties.scope, scope) }))
            .filter((x) => filter === 'all' || x.rel === filter)
            .sort((x, y) => nameOf(x.a.properties.roleDefinitionId).localeCompare(nameOf(y.a.properties.roleDefinitionId)));
          return (
            <Table
              label="Role assignments"
              rows={rows}
              rowKey={(x) => x.a.id}
              empty="No role assignments you can read at this scope."
              columns={[
                { title: 'Role', render: (x) => <strong>{nameOf(x.a.properties.roleDefinitionId)}</strong> },
                { title: 'Principal', render: (x) => <Principal id={x.a.properties.principalId} /> },
                { title: 'Type', render: (x) => x.a.properties.principalType },
                { title: 'Scope', render: (x) => <ScopeCell rel={x.rel} scope={x.a.properties.scope} /> },
                { title: 'Condition', render: (x) => (x.a.properties.condition ? <Badge tone="warn">ABAC</Badge> : <span class="muted">None</span>) },
                {
                  title: '',
                  class: 'actions',
                  render: (x) =>
                    x.rel === 'here' ? (
                      <Button kind="danger" busy={busy === x.a.id} onClick={() => void remove(x.a)}>
                        Remove
                      </Button>
                    ) : (
                      <a class="small" href={resourceHref(x.a.properties.scope, 'iam')} title="Role assignments are removed at the scope they were made">
                        Manage at {x.rel === 'inherited' ? 'parent' : 'child'}
                      </a>
                    ),
                },
              ]}
            />
          );
        }}
      </Loaded>
    </div>
  );
}

function ScopeCell({ rel, scope }: { rel: Relation; scope: string }) {
  const label = scopeKind(scope) === 'subscription' ? 'Subscription' : scopeKind(scope) === 'group' ? `Resource group ${parseId(scope).name}` : parseId(scope).name || 'Root';
  if (rel === 'here') return <span>This resource</span>;
  return (
    <span class="scope-cell">
      <Badge tone={rel === 'inherited' ? 'muted' : 'info'}>{rel === 'inherited' ? 'Inherited' : 'Child'}</Badge>{' '}
      <a href={resourceHref(scope)} title={scope}>
        {label}
      </a>
    </span>
  );
}

/** Identities the portal can name, offered in principal fields (any object id can still be typed). */
function useKnownPrincipals(): { id: string; label: string }[] {
  const { subscriptionId, session } = useApp();
  const resources = useAsync(() => arm.list<ArmResource>(`/subscriptions/${subscriptionId}/resources`), [subscriptionId]);
  const uais = useAsync(() => arm.list<ArmResource>(`/subscriptions/${subscriptionId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`), [subscriptionId]);
  return useMemo(() => {
    const out = new Map<string, string>([[session.principal.objectId, `${session.principal.displayName} (you)`]]);
    for (const r of resources.data ?? []) if (r.identity?.principalId) out.set(r.identity.principalId, `${r.name} (system-assigned)`);
    for (const u of uais.data ?? []) {
      const pid = (u.properties as { principalId?: string } | undefined)?.principalId;
      if (pid) out.set(pid, `${u.name} (user-assigned)`);
    }
    return [...out].map(([id, label]) => ({ id, label }));
  }, [resources.data, uais.data, session]);
}

function PrincipalInput({ value, onInput, id }: { value: string; onInput(v: string): void; id: string }) {
  const known = useKnownPrincipals();
  return (
    <>
      <input list={`${id}-list`} value={value} onInput={(e) => onInput((e.target as HTMLInputElement).value.trim())} placeholder="Object (principal) ID" spellcheck={false} />
      <datalist id={`${id}-list`}>
        {known.map((k) => (
          <option key={k.id} value={k.id}>
            {k.label}
          </option>
        ))}
      </datalist>
    </>
  );
}

function AddAssignment({ scope, onDone }: { scope: string; onDone(): void }) {
  const toast = useToast();
  const { subscriptionId } = useApp();
  const sub = parseId(scope).subscriptionId ?? subscriptionId;
  const { roles } = useRoles(sub);
  const [search, setSearch] = useState('');
  const [roleId, setRoleId] = useState('');
  const [principalId, setPrincipalId] = useState('');
  const [principalType, setPrincipalType] = useState('ServicePrincipal');
  const [busy, setBusy] = useState(false);
  const q = search.trim().toLowerCase();
  // Exact name first, then names starting with the text, then the rest that contain it (as Azure's picker ranks).
  const rank = (name: string) => (name.toLowerCase() === q ? 0 : name.toLowerCase().startsWith(q) ? 1 : 2);
  const shown = roles
    .filter((r) => !q || r.properties.roleName.toLowerCase().includes(q))
    .sort((a, b) => rank(a.properties.roleName) - rank(b.properties.roleName) || a.properties.roleName.localeCompare(b.properties.roleName));
  const chosen = roles.find((r) => r.id === roleId);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    try {
      await arm.put(`${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}`, {
        properties: { roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${chosen!.name}`, principalId, principalType },
      });
      toast.success(`${chosen!.properties.roleName} assigned.`);
      onDone();
    } catch (err) {
      toast.error(err, 'Could not add the role assignment');
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card form-card" onSubmit={(e) => void submit(e)} aria-label="Add role assignment">
      <h3>Add role assignment</h3>
      <div class="grid-2">
        <div>
          <Field label="Role">
            <input type="search" placeholder="Search roles by name" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} aria-label="Search roles" />
          </Field>
          <select class="role-list" size={8} value={roleId} onChange={(e) => setRoleId((e.target as HTMLSelectElement).value)} aria-label="Role" required>
            {shown.map((r) => (
              <option key={r.id} value={r.id}>
                {r.properties.roleName}
              </option>
            ))}
          </select>
          {chosen ? <p class="small muted role-desc">{chosen.properties.description}</p> : null}
        </div>
        <div>
          <Field label="Assign access to">
            <select value={principalType} onChange={(e) => setPrincipalType((e.target as HTMLSelectElement).value)} aria-label="Principal type">
              <option value="ServicePrincipal">Managed identity or application (service principal)</option>
              <option value="User">User</option>
              <option value="Group">Group</option>
            </select>
          </Field>
          <Field label="Member (object ID)" hint="Pick a known identity or paste any principal's object ID.">
            <PrincipalInput id="assign-principal" value={principalId} onInput={setPrincipalId} />
          </Field>
          <Field label="Scope">
            <code class="block">{scope}</code>
          </Field>
        </div>
      </div>
      <div class="toolbar">
        <Button kind="primary" type="submit" busy={busy} disabled={!chosen || !/^[0-9a-f-]{36}$/i.test(principalId)}>
          Review + assign
        </Button>
        <Button onClick={onDone}>Cancel</Button>
      </div>
    </form>
  );
}

const COMMON_ACTIONS = [
  'Microsoft.Compute/virtualMachines/read',
  'Microsoft.Compute/virtualMachines/write',
  'Microsoft.Authorization/roleAssignments/write',
  'Microsoft.KeyVault/vaults/read',
  'Microsoft.KeyVault/vaults/secrets/getSecret/action',
  'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
  'Microsoft.Storage/storageAccounts/listKeys/action',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
  'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
];

interface CheckResult {
  allowed: boolean;
  text: string;
}

/** "Check access": the engine's own verdict and explanation for one principal, action and scope. */
function CheckAccess({ scope, initialPrincipal }: { scope: string; initialPrincipal?: string | undefined }) {
  const { subscriptionId } = useApp();
  const { nameOf } = useRoles(parseId(scope).subscriptionId ?? subscriptionId);
  const [principal, setPrincipal] = useState(initialPrincipal ?? '');
  const [action, setAction] = useState('Microsoft.Compute/virtualMachines/read');
  const [data, setData] = useState(false);
  const [target, setTarget] = useState(scope);
  const [result, setResult] = useState<{ r?: CheckResult; error?: unknown; busy: boolean }>({ busy: false });
  const assignments = useAsync(
    () =>
      /^[0-9a-f-]{36}$/i.test(principal)
        ? arm.list<RoleAssignment>(`${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`assignedTo('${principal}')`)}`)
        : Promise.resolve([] as RoleAssignment[]),
    [scope, principal],
  );
  usePrincipalNames(principal ? [principal] : []);

  async function check(e: Event) {
    e.preventDefault();
    setResult({ busy: true });
    try {
      const q = new URLSearchParams({ principal, action, scope: target, data: data ? 'true' : 'false' });
      const r = await request<CheckResult>('GET', `/portal/api/ops/keyless/v1/access/check?${q.toString()}`);
      setResult({ r, busy: false });
    } catch (error) {
      setResult({ error, busy: false });
    }
  }

  return (
    <div>
      <form class="card form-card" onSubmit={(e) => void check(e)} aria-label="Check access">
        <p class="muted">Ask Keyless's authorization engine whether a principal may perform an action at a scope, and why.</p>
        <div class="grid-2">
          <Field label="Principal (object ID)">
            <PrincipalInput id="check-principal" value={principal} onInput={setPrincipal} />
          </Field>
          <Field label="Action">
            <input list="check-actions" value={action} onInput={(e) => setAction((e.target as HTMLInputElement).value.trim())} spellcheck={false} aria-label="Action" />
            <datalist id="check-actions">
              {COMMON_ACTIONS.map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
          </Field>
          <Field label="Scope">
            <input value={target} onInput={(e) => setTarget((e.target as HTMLInputElement).value.trim())} spellcheck={false} aria-label="Scope to check" />
          </Field>
          <label class="check">
            <input type="checkbox" checked={data} onChange={(e) => setData((e.target as HTMLInputElement).checked)} /> Data action (Key Vault secrets, blobs …)
          </label>
        </div>
        <div class="toolbar">
          <Button kind="primary" type="submit" busy={result.busy} disabled={!principal || !action || !target}>
            Check access
          </Button>
        </div>
      </form>
      {result.error ? <ErrorPanel error={result.error} title="Check access failed" /> : null}
      {result.r ? (
        <div class={`card verdict ${result.r.allowed ? 'verdict-ok' : 'verdict-bad'}`} aria-label="Check access result">
          <div class="verdict-head">
            <Badge tone={result.r.allowed ? 'ok' : 'bad'}>{result.r.allowed ? 'Allowed' : 'Denied'}</Badge>
            <code>{action}</code>
            <span class="muted">at</span>
            <code>{target}</code>
          </div>
          <pre class="explanation">{result.r.text}</pre>
        </div>
      ) : null}
      {/^[0-9a-f-]{36}$/i.test(principal) ? (
        <>
          <h3>Role assignments of this principal here and above</h3>
          {assignments.loading && !assignments.data ? <Spinner /> : null}
          {assignments.error ? <ErrorPanel error={assignments.error} /> : null}
          {assignments.data ? (
            <Table
              label="Principal's role assignments"
              rows={assignments.data.filter((a) => relationOf(a.properties.scope, scope) !== 'child')}
              rowKey={(a) => a.id}
              empty="This principal has no role assignments at or above this scope."
              columns={[
                { title: 'Role', render: (a) => nameOf(a.properties.roleDefinitionId) },
                { title: 'Scope', render: (a) => <ScopeCell rel={relationOf(a.properties.scope, scope)} scope={a.properties.scope} /> },
              ]}
            />
          ) : null}
        </>
      ) : null}
    </div>
  );
}
