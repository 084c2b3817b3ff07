import fs from 'node:fs';
import { keylessHostNames } from '../isolation/hosts.js';
import type { Connection } from './connection.js';

// The block itself lives with the other hosts-file text (src/isolation/hosts.ts): `run --private-hosts` writes it too.
export { hostsBlock, replaceHostsBlock } from '../isolation/hosts.js';

/**
 * Every name a client may use to reach this Keyless: the fixed service names under the DNS suffix, the
 * advertised host when it is under the suffix, and one per vault and storage account that exists now. Only needed where
 * the suffix does not resolve natively (no systemd-resolved or libnss-myhostname for `*.localhost`).
 */
export async function keylessNamesOf(conn: Connection): Promise<string[]> {
  const sub = conn.runtime.subscriptionId;
  const suffix = conn.runtime.dnsSuffix.toLowerCase();
  const vaults = await conn.arm('GET', `/subscriptions/${sub}/providers/Microsoft.KeyVault/vaults?api-version=2023-07-01`);
  const accounts = await conn.arm('GET', `/subscriptions/${sub}/providers/Microsoft.Storage/storageAccounts?api-version=2023-01-01`);
  const urls = [
    // The Key Vault challenge names this host as the token resource; some clients look it up.
    `https://vault.${suffix}/`,
    ...(vaults.value as { name: string }[]).map((v) => `https://${v.name}.vault.${suffix}/`),
    ...(accounts.value as { name: string }[]).map((a) => `https://${a.name}.blob.${suffix}/`),
    // The advertised host only when it is one of ours: a name outside the suffix resolves on its own.
    conn.runtime.endpoints.resourceManager,
  ];
  return keylessHostNames({ dnsSuffix: suffix, urls });
}

/** Writes through a temp file and rename, so a crash never leaves a half-written /etc/hosts. */
export function writeHostsFile(file: string, text: string): void {
  const tmp = `${file}.keyless-${process.pid}`;
  const mode = fs.existsSync(file) ? fs.statSync(file).mode & 0o777 : 0o644;
  fs.writeFileSync(tmp, text, { mode });
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    // /etc/hosts is often a bind mount (containers): rename fails there, a plain write does not.
    fs.rmSync(tmp, { force: true });
    if ((e as NodeJS.ErrnoException).code !== 'EBUSY' && (e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    fs.writeFileSync(file, text);
  }
}
