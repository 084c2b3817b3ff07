// `npm run build:cli` (and `prepare`, so `npm install` / `npm ci` in a checkout runs it): bundles the CLI
// with esbuild into dist/bundle/, which bin/keyless.js runs instead of loading the TypeScript through tsx.
// Module loading was most of a `keyless serve` start: tsx's per-module transpile hooks first, then Node
// resolving, reading and lexing a few hundred files of the dependencies, so those are bundled too. Left out:
// native addons, packages that locate files or workers beside their own sources (pino's transports), the build
// tools loaded on demand, and optional peers. The lazily imported commands become their own chunks so
// `keyless token` does not parse the server.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { sourceStamp } from './source-stamp.js';

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const OUT = path.join(ROOT, 'dist/bundle');

// Taken before reading any source: a file edited while esbuild runs then leaves the bundle stale, not wrong.
const stamp = sourceStamp(ROOT);
const started = performance.now();
fs.rmSync(OUT, { recursive: true, force: true });

/**
 * Modules find their data (`../../data/*.json`) and the portal's TSX source relative to import.meta.url;
 * in a bundle that would be the chunk's URL, so each source's import.meta.url becomes its own file's URL,
 * expressed relative to the chunk so a moved checkout still works.
 */
const keepImportMetaUrl = {
  name: 'keep-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[/\\]src[/\\].*\.tsx?$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = path.relative(OUT, args.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: path.extname(args.path).slice(1) };
    });
  },
};

await build({
  entryPoints: { keyless: path.join(ROOT, 'src/cli/main.ts') },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'pino', 'esbuild', 'tsx', 'pg-native', 'fsevents'],
  // Bundled CommonJS calls require() for Node's built-ins; an ES module has none of its own.
  banner: { js: "import { createRequire as __keylessRequire } from 'node:module'; const require = __keylessRequire(import.meta.url);" },
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunk-[hash]',
  sourcemap: 'linked',
  plugins: [keepImportMetaUrl],
  logLevel: 'warning',
});
fs.writeFileSync(path.join(OUT, 'stamp'), stamp);
console.log(`keyless CLI bundle → ${path.relative(process.cwd(), OUT) || '.'} in ${Math.round(performance.now() - started)} ms`);
