import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PortalAsset {
  name: string;
  contentType: string;
  body: Buffer;
}

/** The UI's entry point; present in a source checkout, absent from a compiled package (which ships assets/). */
export const UI_ENTRY = fileURLToPath(new URL('./ui/main.tsx', import.meta.url));

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * Bundles the Preact UI with esbuild, in memory: one app.js (ES module) and one app.css. esbuild is a
 * runtime dependency already (tsx runs on it), so the server can build its own UI at first use and nothing
 * generated has to be committed, installed or kept in step with the source.
 */
export async function bundlePortal(opts: { minify?: boolean } = {}): Promise<PortalAsset[]> {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    entryPoints: { app: UI_ENTRY },
    bundle: true,
    write: false,
    outdir: path.join(path.dirname(UI_ENTRY), 'out'),
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: opts.minify ?? true,
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return r.outputFiles.map((f) => {
    const name = path.basename(f.path);
    return { name, contentType: TYPES[path.extname(name)] ?? 'application/octet-stream', body: Buffer.from(f.contents) };
  });
}
