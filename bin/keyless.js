#!/usr/bin/env node
// Runs the prebuilt CLI bundle (dist/bundle/, written by `npm run build:cli`, which `npm install` runs as
// `prepare`) when it was built from the sources as they are now; otherwise the TypeScript through tsx, so a
// clone without a build, or with sources edited since, still runs exactly what is in src/.
// KEYLESS_NO_BUNDLE=1 forces tsx.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sourceStamp } from '../scripts/source-stamp.js';

const root = new URL('..', import.meta.url);
const bundle = new URL('dist/bundle/keyless.mjs', root);

function bundleIsFresh() {
  if (process.env.KEYLESS_NO_BUNDLE === '1') return false;
  try {
    return fs.readFileSync(new URL('dist/bundle/stamp', root), 'utf8') === sourceStamp(fileURLToPath(root)) && fs.existsSync(bundle);
  } catch {
    return false;
  }
}

// Named in KEYLESS_STARTUP_TRACE's table: which of the two a start actually ran.
const fresh = bundleIsFresh();
globalThis[Symbol.for('keyless.loader')] = fresh ? 'prebuilt bundle (dist/bundle)' : 'tsx (no bundle, or sources newer than it)';
if (fresh) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
