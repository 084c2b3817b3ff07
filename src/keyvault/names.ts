/**
 * Key Vault naming rules. Vault names are a DNS label under `vault.<suffix>`, globally unique and
 * case-insensitive; secret names are case-insensitive too.
 */
const VAULT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;
const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;

export function isValidVaultName(name: string): boolean {
  return VAULT_NAME.test(name) && !name.includes('--');
}

export function isValidSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** The message ARM returns with VaultNameNotValid. */
export const vaultNameRule = (name: string): string =>
  `The vault name '${name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens. Follow this link for more information: https://go.microsoft.com/fwlink/?linkid=2147742`;

/** `myvault.vault.keyless.localhost[:port]` → `myvault`; anything else → undefined. */
export function vaultNameFromHost(hostHeader: string | undefined, dnsSuffix: string): string | undefined {
  if (!hostHeader) return undefined;
  const host = hostHeader.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const tail = `.vault.${dnsSuffix.toLowerCase()}`;
  if (!host.endsWith(tail)) return undefined;
  const label = host.slice(0, -tail.length);
  return label && !label.includes('.') ? label : undefined;
}

/** The port a Host header names, if any (`x.vault.s:8443` → `8443`). */
export function hostPort(hostHeader: string | undefined): string | undefined {
  return /:(\d+)$/.exec(hostHeader ?? '')?.[1];
}

/** `https://{name}.vault.{suffix}[:port]` — no trailing slash; port omitted when 443. */
export function vaultBaseUrl(name: string, dnsSuffix: string, port: number | string | undefined): string {
  const p = port === undefined || String(port) === '443' || String(port) === '' ? '' : `:${String(port)}`;
  return `https://${name.toLowerCase()}.vault.${dnsSuffix.toLowerCase()}${p}`;
}

/** What `keyless run` exports for a vault: KEYLESS_VAULT_MY_VAULT_URL. */
export function vaultEnvName(name: string): string {
  return `KEYLESS_VAULT_${name.toUpperCase().replace(/-/g, '_')}_URL`;
}

/**
 * Token audiences a vault accepts: Azure's, and the vault host under the suffix with and without the listener's
 * port and the port the client named in Host (clients.md §3.2).
 */
export function vaultAudiences(dnsSuffix: string, serverPort: number, requestPort: string | undefined): string[] {
  const a = ['https://vault.azure.net', `https://vault.${dnsSuffix}`, `https://vault.${dnsSuffix}:${serverPort}`];
  if (requestPort) a.push(`https://vault.${dnsSuffix}:${requestPort}`);
  return a;
}
