// A service principal authenticating with a certificate, as application code does it.
// usage: node certificate-token.mjs <tenantId> <clientId> <pem file (key + certificate)> <authorityHost> <scope> [<scope>…]
// Every scope is requested in turn from one credential (msal-node re-sends its cached assertion for the second).
import { ClientCertificateCredential } from '@azure/identity';

const [tenantId, clientId, certificatePath, authorityHost, ...scopes] = process.argv.slice(2);
try {
  const cred = new ClientCertificateCredential(tenantId, clientId, { certificatePath }, { authorityHost, disableInstanceDiscovery: true });
  const tokens = [];
  for (const scope of scopes) tokens.push((await cred.getToken(scope)).token);
  process.stdout.write(JSON.stringify({ ok: true, tokens }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, name: e.name, message: e.message }) + '\n');
}
