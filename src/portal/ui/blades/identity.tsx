import { useState } from 'preact/hooks';
import { arm } from '../api.js';
import { Button, Copyable, Dialog, KeyValues, Loaded, Pills, Table, Toggle } from '../components.js';
import { useAsync } from '../hooks.js';
import { parseId, T, type ArmResource, type IdentityBlock } from '../models.js';
import { href, resourceHref } from '../router.js';
import { useToast } from '../toast.js';

/**
 * Azure's Identity blade: the system-assigned switch (with its Object (principal) ID once on) and the
 * user-assigned list. Every change is a PATCH of the resource's `identity`, authorized by ARM as the
 * signed-in principal (attaching a user-assigned identity also needs …/assign/action on it).
 */
export function IdentityTab({ resource, onChanged }: { resource: ArmResource; onChanged(): void }) {
  const [section, setSection] = useState('system');
  return (
    <div>
      <Pills
        tabs={[
          { id: 'system', label: 'System assigned' },
          { id: 'user', label: 'User assigned' },
        ]}
        active={section}
        onSelect={setSection}
      />
      {section === 'system' ? <SystemAssigned resource={resource} onChanged={onChanged} /> : <UserAssigned resource={resource} onChanged={onChanged} />}
    </div>
  );
}

const hasSystem = (i: IdentityBlock | undefined) => (i?.type ?? '').toLowerCase().includes('systemassigned');
const userIds = (i: IdentityBlock | undefined) => Object.keys(i?.userAssignedIdentities ?? {});
const typeOf = (system: boolean, user: boolean) => (system && user ? 'SystemAssigned, UserAssigned' : system ? 'SystemAssigned' : user ? 'UserAssigned' : 'None');

function SystemAssigned({ resource, onChanged }: { resource: ArmResource; onChanged(): void }) {
  const toast = useToast();
  const current = hasSystem(resource.identity);
  const [wanted, setWanted] = useState(current);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const dirty = wanted !== current;

  async function save() {
    setConfirming(false);
    setBusy(true);
    try {
      await arm.patch(resource.id, { identity: { type: typeOf(wanted, userIds(resource.identity).length > 0) } });
      toast.success(wanted ? `System assigned identity enabled for ${resource.name}.` : `System assigned identity removed from ${resource.name}.`);
      onChanged();
    } catch (e) {
      toast.error(e, 'Could not update the identity');
      setWanted(current);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="card">
      <p class="muted">
        A system assigned managed identity is restricted to one per resource and is tied to the lifecycle of this resource. You can grant permissions to it with Azure
        role-based access control (RBAC).
      </p>
      <div class="toolbar">
        <Button kind="primary" disabled={!dirty} busy={busy} onClick={() => setConfirming(true)}>
          Save
        </Button>
        <Button disabled={!dirty || busy} onClick={() => setWanted(current)}>
          Discard
        </Button>
      </div>
      <div class="field-row">
        <span class="field-label">Status</span>
        <Toggle label="System assigned identity status" on={wanted} onChange={setWanted} disabled={busy} />
      </div>
      {current && resource.identity?.principalId ? (
        <KeyValues
          rows={[
            ['Object (principal) ID', <Copyable value={resource.identity.principalId} label="Object (principal) ID" />],
            ['Tenant ID', resource.identity.tenantId ?? '—'],
            [
              'Permissions',
              <a href={href('iam', { scope: `/subscriptions/${parseId(resource.id).subscriptionId}`, tab: 'check', principal: resource.identity.principalId })}>
                Azure role assignments
              </a>,
            ],
          ]}
        />
      ) : null}
      {confirming ? (
        <Dialog
          title={wanted ? 'Enable system assigned managed identity' : 'Disable system assigned managed identity'}
          onClose={() => setConfirming(false)}
          actions={
            <>
              <Button kind={wanted ? 'primary' : 'danger'} onClick={() => void save()}>
                Yes
              </Button>
              <Button onClick={() => setConfirming(false)}>No</Button>
            </>
          }
        >
          {wanted ? (
            <p>
              '{resource.name}' will be registered with the directory. Once it is registered, '{resource.name}' can be granted permissions to access resources protected by
              Azure RBAC. Do you want to enable the system assigned managed identity for '{resource.name}'?
            </p>
          ) : (
            <p>
              Disabling deletes the identity of '{resource.name}' and the role assignments it holds. Anything that uses it will lose access. Disable the system assigned
              managed identity?
            </p>
          )}
        </Dialog>
      ) : null}
    </div>
  );
}

function UserAssigned({ resource, onChanged }: { resource: ArmResource; onChanged(): void }) {
  const toast = useToast();
  const sub = parseId(resource.id).subscriptionId!;
  const candidates = useAsync(() => arm.list<ArmResource>(`/subscriptions/${sub}/providers/${T.uai}`), [sub]);
  const [adding, setAdding] = useState('');
  const [busy, setBusy] = useState<string | undefined>();
  const attached = resource.identity?.userAssignedIdentities ?? {};
  const system = hasSystem(resource.identity);

  async function change(id: string, attach: boolean) {
    setBusy(id);
    try {
      const remaining = userIds(resource.identity).filter((x) => x.toLowerCase() !== id.toLowerCase());
      const user = attach || remaining.length > 0;
      await arm.patch(resource.id, { identity: { type: typeOf(system, user), userAssignedIdentities: { [id]: attach ? {} : null } } });
      toast.success(attach ? `${parseId(id).name} assigned to ${resource.name}.` : `${parseId(id).name} removed from ${resource.name}.`);
      setAdding('');
      onChanged();
    } catch (e) {
      toast.error(e, attach ? 'Could not add the identity' : 'Could not remove the identity');
    } finally {
      setBusy(undefined);
    }
  }

  const rows = Object.entries(attached).map(([id, v]) => ({ id, ...v }));
  const attachedKeys = new Set(rows.map((r) => r.id.toLowerCase()));
  return (
    <div class="card">
      <p class="muted">User assigned managed identities can be shared by several resources and are managed separately from them.</p>
      <div class="toolbar">
        <Loaded state={candidates}>
          {(uais) => (
            <>
              <select value={adding} onChange={(e) => setAdding((e.target as HTMLSelectElement).value)} aria-label="User assigned identity to add">
                <option value="">Select a user assigned identity…</option>
                {uais
                  .filter((u) => !attachedKeys.has(u.id.toLowerCase()))
                  .map((u) => (
                    <option key={u.id} value={u.id}>
                      {u.name} ({parseId(u.id).group})
                    </option>
                  ))}
              </select>
              <Button kind="primary" disabled={!adding} busy={busy === adding && adding !== ''} onClick={() => void change(adding, true)}>
                + Add
              </Button>
            </>
          )}
        </Loaded>
      </div>
      <Table
        label="User assigned identities"
        rows={rows}
        rowKey={(r) => r.id}
        empty="No user assigned identities are assigned to this resource."
        columns={[
          { title: 'Name', render: (r) => <a href={resourceHref(r.id)}>{parseId(r.id).name}</a> },
          { title: 'Resource group', render: (r) => parseId(r.id).group },
          { title: 'Client ID', render: (r) => (r.clientId ? <code>{r.clientId}</code> : '—') },
          { title: 'Object (principal) ID', render: (r) => (r.principalId ? <code>{r.principalId}</code> : '—') },
          {
            title: '',
            class: 'actions',
            render: (r) => (
              <Button kind="danger" busy={busy === r.id} onClick={() => void change(r.id, false)}>
                Remove
              </Button>
            ),
          },
        ]}
      />
    </div>
  );
}
