/**
 * `npm run build:portal`: writes the bundle to dist/portal/assets/, beside the compiled server
 * (`npm run build`), for a package that ships without the UI's source. A source checkout does not need it:
 * the server bundles the UI itself on first use.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundlePortal } from './build.js';

const outDir = path.resolve(process.argv[2] ?? 'dist/portal/assets');
const started = performance.now();
const assets = await bundlePortal({ minify: true });
fs.mkdirSync(outDir, { recursive: true });
for (const a of assets) fs.writeFileSync(path.join(outDir, a.name), a.body);
const sizes = assets.map((a) => `${a.name} ${(a.body.length / 1024).toFixed(1)} KiB`).join(', ');
console.log(`portal bundle → ${path.relative(process.cwd(), outDir) || '.'}: ${sizes} in ${Math.round(performance.now() - started)} ms`);
