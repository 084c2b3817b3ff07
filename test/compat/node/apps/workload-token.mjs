// An unmodified workload on "AKS": only AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and
// AZURE_AUTHORITY_HOST are set, as the workload-identity webhook sets them.
// usage: node workload-token.mjs <wi|mi|dac> <scope>
//   wi:  new WorkloadIdentityCredential({ disableInstanceDiscovery: true }) — the one code change a custom authority needs
//   mi:  new ManagedIdentityCredential(AZURE_CLIENT_ID) — the token-exchange path, env-only
//   dac: new DefaultAzureCredential() — env-only
import { DefaultAzureCredential, ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';

const [mode, scope] = process.argv.slice(2);
try {
  const cred =
    mode === 'wi'
      ? new WorkloadIdentityCredential({ disableInstanceDiscovery: true })
      : mode === 'mi'
        ? new ManagedIdentityCredential(process.env.AZURE_CLIENT_ID)
        : new DefaultAzureCredential();
  const t = await cred.getToken(scope);
  process.stdout.write(JSON.stringify({ ok: true, token: t.token, expiresOnTimestamp: t.expiresOnTimestamp }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, name: e.name, message: e.message }) + '\n');
}
