// An unmodified workload using @azure/storage-blob with a managed identity, as application code does.
// usage: node blob-client.mjs <read|write|list> <accountUrl> <container> [blob] [text]
import { Buffer } from 'node:buffer';
import { BlobServiceClient } from '@azure/storage-blob';
import { ManagedIdentityCredential } from '@azure/identity';

const [op, accountUrl, container, blob, text] = process.argv.slice(2);
try {
  const service = new BlobServiceClient(accountUrl, new ManagedIdentityCredential());
  const c = service.getContainerClient(container);
  let result;
  if (op === 'read') {
    result = (await c.getBlobClient(blob).downloadToBuffer()).toString('utf8');
  } else if (op === 'write') {
    await c.getBlockBlobClient(blob).upload(text, Buffer.byteLength(text));
    result = 'written';
  } else if (op === 'list') {
    result = [];
    for await (const b of c.listBlobsFlat()) result.push(b.name);
  } else {
    throw new Error(`unknown op ${op}`);
  }
  process.stdout.write(JSON.stringify({ ok: true, result }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, name: e.name, statusCode: e.statusCode, code: e.code ?? e.details?.errorCode, message: String(e.message).split('\n')[0] }) + '\n');
}
