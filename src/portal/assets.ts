import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundlePortal, UI_ENTRY, type PortalAsset } from './build.js';

export interface ServedAsset extends PortalAsset {
  etag: string;
}

let pending: Promise<Map<string, ServedAsset>> | undefined;

/**
 * The UI bundle, built once per process on first request (≈100 ms with esbuild) from the TSX source when it
 * is there, else read from the prebuilt assets/ directory of a compiled package. A failed build is retried
 * on the next request rather than cached.
 */
export function portalAssets(): Promise<Map<string, ServedAsset>> {
  pending ??= load().catch((e: unknown) => {
    pending = undefined;
    throw e;
  });
  return pending;
}

async function load(): Promise<Map<string, ServedAsset>> {
  let assets: PortalAsset[];
  if (fs.existsSync(UI_ENTRY)) {
    assets = await bundlePortal({ minify: true });
  } else {
    const dir = fileURLToPath(new URL('./assets/', import.meta.url));
    assets = ['app.js', 'app.css'].map((name) => ({
      name,
      contentType: name.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
      body: fs.readFileSync(dir + name),
    }));
  }
  return new Map(assets.map((a) => [a.name, { ...a, etag: `"${createHash('sha256').update(a.body).digest('base64url').slice(0, 27)}"` }]));
}
