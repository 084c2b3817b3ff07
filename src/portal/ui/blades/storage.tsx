import { useState } from 'preact/hooks';
import type { BlobListItem } from '../../api-types.js';
import { arm, request } from '../api.js';
import { Button, fmtTime, Loaded, Table } from '../components.js';
import { useAsync } from '../hooks.js';
import type { ArmResource, Container } from '../models.js';
import { useApp } from '../state.js';

/** Containers come from ARM (management plane); their blobs from the Blob service (data plane) with a Storage token. */
export function ContainersTab({ account }: { account: ArmResource }) {
  const containers = useAsync(() => arm.list<Container>(`${account.id}/blobServices/default/containers`), [account.id]);
  const [open, setOpen] = useState<string | undefined>();
  return (
    <div class="grid-2 grid-wide-right">
      <div>
        <h3>Containers</h3>
        <Loaded state={containers} title="Could not list containers">
          {(cs) => (
            <Table
              label="Containers"
              rows={cs}
              rowKey={(c) => c.id}
              empty="No containers."
              columns={[
                {
                  title: 'Name',
                  render: (c) => (
                    <Button kind={open === c.name ? 'primary' : 'plain'} onClick={() => setOpen(c.name)}>
                      {c.name}
                    </Button>
                  ),
                },
                { title: 'Last modified', render: (c) => fmtTime(c.properties?.lastModifiedTime) },
                { title: 'Public access', render: (c) => c.properties?.publicAccess ?? 'None' },
              ]}
            />
          )}
        </Loaded>
      </div>
      <div>{open ? <Blobs account={account.name} container={open} /> : <p class="muted pad">Select a container to list its blobs.</p>}</div>
    </div>
  );
}

function Blobs({ account, container }: { account: string; container: string }) {
  const { session } = useApp();
  const state = useAsync(
    () => request<{ value: BlobListItem[]; truncated: boolean }>('GET', `/portal/api/storage/${account}/containers/${encodeURIComponent(container)}/blobs`),
    [account, container],
  );
  return (
    <div>
      <h3>Blobs in {container}</h3>
      <p class="small muted">Listed by the Blob service as {session.principal.displayName}: this needs a data role such as Storage Blob Data Reader.</p>
      <Loaded state={state} title="The Blob service refused the listing">
        {(r) => (
          <>
            <Table
              label="Blobs"
              rows={r.value}
              rowKey={(b) => b.name}
              empty="This container is empty."
              columns={[
                { title: 'Name', render: (b) => <code>{b.name}</code> },
                { title: 'Size', render: (b) => formatSize(b.size) },
                { title: 'Content type', render: (b) => b.contentType ?? '—' },
                { title: 'Last modified', render: (b) => fmtTime(b.lastModified) },
              ]}
            />
            {r.truncated ? <p class="small muted">Showing the first 1000 blobs.</p> : null}
          </>
        )}
      </Loaded>
    </div>
  );
}

function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
