// An unmodified workload: asks @azure/identity for a token the way application code does.
// usage: node get-token.mjs <mi|dac> <scope> [clientId|objectId|resourceId=<value>]
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';

const [mode, scope, selector] = process.argv.slice(2);
const opts = {};
if (selector) {
  const [kind, value] = selector.split('=');
  opts[kind] = value;
}
try {
  const cred = mode === 'dac' ? new DefaultAzureCredential(opts.clientId ? { managedIdentityClientId: opts.clientId } : {}) : new ManagedIdentityCredential(opts);
  const t = await cred.getToken(scope);
  process.stdout.write(JSON.stringify({ ok: true, token: t.token, expiresOnTimestamp: t.expiresOnTimestamp }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, name: e.name, message: e.message }) + '\n');
}
