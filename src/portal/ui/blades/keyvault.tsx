import { useState } from 'preact/hooks';
import type { SecretListItem } from '../../api-types.js';
import { arm, request } from '../api.js';
import { Badge, Button, Copyable, Field, fmtTime, Loaded, Principal, Table } from '../components.js';
import { useAsync } from '../hooks.js';
import type { AccessPolicy, ArmResource } from '../models.js';
import { useApp } from '../state.js';
import { useToast } from '../toast.js';

const SECRET_PERMISSIONS = ['get', 'list', 'set', 'delete', 'recover', 'backup', 'restore', 'purge'] as const;

/** The vault's access policies (the legacy permission model), edited with accessPolicies/add|remove on ARM. */
export function AccessPoliciesTab({ vault, onChanged }: { vault: ArmResource; onChanged(): void }) {
  const toast = useToast();
  const { session } = useApp();
  const rbac = vault.properties?.['enableRbacAuthorization'] === true;
  const policies = (vault.properties?.['accessPolicies'] as AccessPolicy[] | undefined) ?? [];
  const tenantId = String(vault.properties?.['tenantId'] ?? session.tenantId);
  const [objectId, setObjectId] = useState('');
  const [perms, setPerms] = useState<Set<string>>(new Set(['get', 'list']));
  const [busy, setBusy] = useState<string | undefined>();

  async function change(kind: 'add' | 'remove', entry: { objectId: string; applicationId?: string | undefined; secrets: string[] }) {
    setBusy(kind === 'add' ? 'add' : entry.objectId);
    try {
      await arm.put(`${vault.id}/accessPolicies/${kind}`, {
        properties: {
          accessPolicies: [
            {
              tenantId,
              objectId: entry.objectId,
              ...(entry.applicationId ? { applicationId: entry.applicationId } : {}),
              permissions: kind === 'add' ? { secrets: entry.secrets } : {},
            },
          ],
        },
      });
      toast.success(kind === 'add' ? 'Access policy saved.' : 'Access policy removed.');
      if (kind === 'add') setObjectId('');
      onChanged();
    } catch (e) {
      toast.error(e, kind === 'add' ? 'Could not add the access policy' : 'Could not remove the access policy');
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <div>
      <div class={`alert ${rbac ? 'alert-warn' : 'alert-info'}`}>
        Permission model: <strong>{rbac ? 'Azure role-based access control' : 'Vault access policy'}</strong>.{' '}
        {rbac ? 'Access policies are not used by this vault; grant data access with role assignments (Access control tab).' : 'Data-plane access is granted by the policies below.'}
      </div>
      <form
        class="card form-card"
        aria-label="Add access policy"
        onSubmit={(e) => {
          e.preventDefault();
          void change('add', { objectId, secrets: [...perms] });
        }}
      >
        <h3>Add access policy</h3>
        <Field label="Principal (object ID)">
          <input value={objectId} onInput={(e) => setObjectId((e.target as HTMLInputElement).value.trim())} placeholder="Object ID" spellcheck={false} aria-label="Policy principal" />
        </Field>
        <fieldset class="perm-grid">
          <legend>Secret permissions</legend>
          {SECRET_PERMISSIONS.map((p) => (
            <label key={p} class="check">
              <input
                type="checkbox"
                checked={perms.has(p)}
                onChange={(e) => {
                  const next = new Set(perms);
                  if ((e.target as HTMLInputElement).checked) next.add(p);
                  else next.delete(p);
                  setPerms(next);
                }}
              />
              {p[0]!.toUpperCase() + p.slice(1)}
            </label>
          ))}
        </fieldset>
        <div class="toolbar">
          <Button kind="primary" type="submit" busy={busy === 'add'} disabled={!/^[0-9a-f-]{36}$/i.test(objectId) || perms.size === 0}>
            Add
          </Button>
        </div>
      </form>
      <Table
        label="Access policies"
        rows={policies}
        rowKey={(p) => `${p.objectId}|${p.applicationId ?? ''}`}
        empty="No access policies."
        columns={[
          { title: 'Principal', render: (p) => <Principal id={p.objectId} /> },
          { title: 'Secret permissions', render: (p) => (p.permissions.secrets ?? []).join(', ') || <span class="muted">None</span> },
          { title: 'Key / certificate permissions', render: (p) => [...(p.permissions.keys ?? []), ...(p.permissions.certificates ?? [])].join(', ') || <span class="muted">None</span> },
          {
            title: '',
            class: 'actions',
            render: (p) => (
              <Button kind="danger" busy={busy === p.objectId} onClick={() => void change('remove', { objectId: p.objectId, applicationId: p.applicationId, secrets: [] })}>
                Remove
              </Button>
            ),
          },
        ]}
      />
    </div>
  );
}

/** Secrets through Key Vault's data plane as the signed-in principal; values only on an explicit Reveal. */
export function SecretsTab({ vault }: { vault: ArmResource }) {
  const { session } = useApp();
  const state = useAsync(() => request<{ value: SecretListItem[] }>('GET', `/portal/api/vaults/${encodeURIComponent(vault.name)}/secrets`), [vault.name]);
  return (
    <div>
      <p class="muted">
        Listed and read through Key Vault's data plane as <strong>{session.principal.displayName}</strong>: the vault's {vault.properties?.['enableRbacAuthorization'] ? 'role assignments' : 'access policies'}{' '}
        decide. Revealing a value is a secret read and is recorded in the audit log.
      </p>
      <Loaded state={state} title="The vault refused to list secrets">
        {(r) => (
          <Table
            label="Secrets"
            rows={r.value}
            rowKey={(s) => s.id}
            empty="This vault has no secrets."
            columns={[
              { title: 'Name', render: (s) => <strong>{s.name}</strong> },
              { title: 'Status', render: (s) => (s.enabled ? <Badge tone="ok">Enabled</Badge> : <Badge tone="muted">Disabled</Badge>) },
              { title: 'Content type', render: (s) => s.contentType ?? '—' },
              { title: 'Updated', render: (s) => fmtTime(s.updated) },
              { title: 'Value', render: (s) => <SecretValue vault={vault.name} name={s.name} disabled={!s.enabled} /> },
            ]}
          />
        )}
      </Loaded>
    </div>
  );
}

function SecretValue({ vault, name, disabled }: { vault: string; name: string; disabled: boolean }) {
  const toast = useToast();
  const [value, setValue] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  if (value !== undefined) {
    return (
      <span class="secret-value">
        <Copyable value={value} label={`Value of ${name}`} />
        <Button onClick={() => setValue(undefined)}>Hide</Button>
      </span>
    );
  }
  return (
    <span class="secret-value">
      <span class="masked" aria-label="Hidden value">
        ••••••••
      </span>
      <Button
        busy={busy}
        disabled={disabled}
        aria-label={`Reveal ${name}`}
        onClick={async () => {
          setBusy(true);
          try {
            const r = await request<{ value: string }>('POST', `/portal/api/vaults/${encodeURIComponent(vault)}/secrets/${encodeURIComponent(name)}/reveal`);
            setValue(r.value);
          } catch (e) {
            toast.error(e, `Could not read ${name}`);
          } finally {
            setBusy(false);
          }
        }}
      >
        Reveal
      </Button>
    </span>
  );
}
