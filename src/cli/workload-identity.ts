import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError, type Connection } from './connection.js';

const API = 'api-version=2023-01-31';

/** `--workload-identity app-id [-g group]` or a full resource id → the user-assigned identity's resource id. */
export async function resolveIdentity(conn: Connection, identity: string, group?: string): Promise<string> {
  if (identity.startsWith('/subscriptions/')) return identity;
  const sub = conn.runtime.subscriptionId;
  if (group) {
    const r = await conn.arm('GET', `/subscriptions/${sub}/resourceGroups/${encodeURIComponent(group)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${encodeURIComponent(identity)}?${API}`);
    return r.id as string;
  }
  const list = await conn.arm('GET', `/subscriptions/${sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?${API}`);
  const matches = (list.value as { id: string; name: string }[]).filter((v) => v.name.toLowerCase() === identity.toLowerCase());
  if (matches.length === 0) throw new CliError(`no user-assigned identity named '${identity}' in subscription ${sub}`);
  if (matches.length > 1) throw new CliError(`'${identity}' names ${matches.length} user-assigned identities; pass --group (${matches.map((m) => m.id.split('/')[4]).join(', ')})`);
  return matches[0]!.id;
}

interface IssuedWorkloadToken {
  token: string;
  issuer: string;
  subject: string;
  audience: string;
  expiresOn: number;
  identity: { id: string; clientId: string; principalId: string; tenantId: string };
  environment: Record<string, string>;
}

export interface WorkloadRun {
  /** The environment for the child: AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST, CA files. */
  environment: Record<string, string>;
  issued: IssuedWorkloadToken;
  tokenFile: string;
  /** Stops refreshing and deletes the token file (and its private directory). */
  stop(): void;
}

/**
 * What an AKS pod gets from the workload-identity webhook, for a local process: a token from Keyless's OIDC issuer
 * in a file only this user can read, and the variables that make the Azure SDKs exchange it. The file is rewritten
 * at half-life, as the kubelet rotates projected tokens, so a long-running child keeps working.
 */
export async function startWorkloadIdentity(conn: Connection, opts: { identityId: string; subject: string; audience?: string | undefined }): Promise<WorkloadRun> {
  const request = async (): Promise<IssuedWorkloadToken> =>
    (await conn.arm('POST', '/keyless/v1/workload-identity/token', {
      identity: opts.identityId,
      subject: opts.subject,
      ...(opts.audience ? { audience: opts.audience } : {}),
    })) as IssuedWorkloadToken;
  const issued = await request();
  // mkdtemp makes the directory 0700; the file itself is 0600 and replaced atomically on refresh.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-wi-'));
  const tokenFile = path.join(dir, 'azure-identity-token');
  const write = (token: string) => {
    const tmp = `${tokenFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, token, { mode: 0o600 });
    fs.renameSync(tmp, tokenFile);
  };
  write(issued.token);
  let timer: NodeJS.Timeout | undefined;
  const schedule = (expiresOn: number) => {
    const halfLife = Math.max(30_000, ((expiresOn * 1000 - Date.now()) / 2) | 0);
    timer = setTimeout(async () => {
      try {
        const next = await request();
        write(next.token);
        schedule(next.expiresOn);
      } catch (e) {
        process.stderr.write(`keyless: could not refresh the workload token (${(e as Error).message}); retrying in 30 s\n`);
        schedule(Math.floor(Date.now() / 1000) + 60);
      }
    }, halfLife);
    // The child's lifetime decides when we exit, not the refresh timer.
    timer.unref();
  };
  schedule(issued.expiresOn);
  return {
    issued,
    tokenFile,
    environment: { ...issued.environment, AZURE_FEDERATED_TOKEN_FILE: tokenFile },
    stop() {
      if (timer) clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
