// An unmodified workload reading Key Vault the way application code does: ManagedIdentityCredential +
// SecretClient, the full challenge flow (no disableChallengeResourceVerification).
// usage: node keyvault-secret.mjs <vault-url | env var holding it> <get|set|list> [name] [value]
import { ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';

const [vault, op, name, value] = process.argv.slice(2);
const vaultUrl = vault.startsWith('https://') ? vault : process.env[vault];
try {
  if (!vaultUrl) throw new Error(`no vault URL in ${vault}`);
  const client = new SecretClient(vaultUrl, new ManagedIdentityCredential());
  let out;
  if (op === 'get') {
    const s = await client.getSecret(name);
    out = { value: s.value, id: s.properties.id, version: s.properties.version };
  } else if (op === 'set') {
    const s = await client.setSecret(name, value);
    out = { id: s.properties.id };
  } else if (op === 'list') {
    const names = [];
    for await (const p of client.listPropertiesOfSecrets()) names.push(p.name);
    out = { names };
  } else {
    throw new Error(`unknown op ${op}`);
  }
  process.stdout.write(JSON.stringify({ ok: true, ...out }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, name: e.name, statusCode: e.statusCode, code: e.code, message: e.message }) + '\n');
}
