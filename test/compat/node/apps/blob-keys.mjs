// An unmodified workload holding "Storage Account Key Operator Service Role": it fetches the account keys from
// ARM with @azure/arm-storage, works with Shared Key and a SAS made from the key, then rotates key1.
// usage: node blob-keys.mjs <listkeys|story> <resourceGroup> <account> <blobUrl>
import { ManagedIdentityCredential } from '@azure/identity';
import { StorageManagementClient } from '@azure/arm-storage';
import { BlobSASPermissions, BlobServiceClient, BlobClient, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob';

const [mode, group, account, blobUrl] = process.argv.slice(2);
const endpoint = process.env.KEYLESS_ARM_ENDPOINT;
const arm = new StorageManagementClient(new ManagedIdentityCredential(), process.env.KEYLESS_SUBSCRIPTION_ID, {
  endpoint,
  $host: endpoint,
  credentialScopes: [`${process.env.KEYLESS_ARM_AUDIENCE}.default`],
});
const out = {};
const fail = (e) => ({ ok: false, statusCode: e.statusCode, code: e.code ?? e.details?.errorCode, message: String(e.message).split('\n')[0] });

try {
  const keys = await arm.storageAccounts.listKeys(group, account);
  out.listKeys = { ok: true, names: keys.keys.map((k) => k.keyName) };
  if (mode === 'story') {
    const key1 = keys.keys[0].value;
    const shared = new BlobServiceClient(blobUrl, new StorageSharedKeyCredential(account, key1));
    const container = shared.getContainerClient('keyed');
    await container.createIfNotExists();
    await container.getBlockBlobClient('report.txt').upload('quarterly', 9);
    out.sharedKeyUpload = { ok: true };

    const sas = generateBlobSASQueryParameters(
      { containerName: 'keyed', blobName: 'report.txt', permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000) },
      new StorageSharedKeyCredential(account, key1),
    ).toString();
    const viaSas = new BlobClient(`${blobUrl.replace(/\/$/, '')}/keyed/report.txt?${sas}`);
    out.sasRead = { ok: true, text: (await viaSas.downloadToBuffer()).toString() };

    const rotated = await arm.storageAccounts.regenerateKey(group, account, { keyName: 'key1' });
    out.regenerate = { ok: true, changed: rotated.keys[0].value !== key1 };
    try {
      await container.getBlockBlobClient('report.txt').download();
      out.oldKeyAfterRotation = { ok: true };
    } catch (e) {
      out.oldKeyAfterRotation = fail(e);
    }
    try {
      await viaSas.download();
      out.oldSasAfterRotation = { ok: true };
    } catch (e) {
      out.oldSasAfterRotation = fail(e);
    }
    const fresh = new BlobServiceClient(blobUrl, new StorageSharedKeyCredential(account, rotated.keys[0].value));
    out.newKey = { ok: true, text: (await fresh.getContainerClient('keyed').getBlobClient('report.txt').downloadToBuffer()).toString() };
  }
} catch (e) {
  out.error = fail(e);
}
process.stdout.write(JSON.stringify(out) + '\n');
