// Bundles the page (web/app.ts with xterm.js and its CSS) with esbuild, in memory, once at start.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface Asset {
  type: string;
  body: Buffer;
}
export type WebAssets = Map<string, Asset>;

const WEB_DIR = path.dirname(fileURLToPath(import.meta.url));
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

export async function buildWebAssets(): Promise<WebAssets> {
  const result = await build({
    entryPoints: [path.join(WEB_DIR, 'app.ts')],
    bundle: true,
    write: false,
    outdir: '/assets',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    logLevel: 'silent',
  });
  const assets: WebAssets = new Map();
  for (const file of result.outputFiles) {
    assets.set(`/assets/${path.basename(file.path)}`, { type: TYPES[path.extname(file.path)] ?? 'application/octet-stream', body: Buffer.from(file.contents) });
  }
  const page = { type: TYPES['.html'], body: readFileSync(path.join(WEB_DIR, 'index.html')) };
  assets.set('/', page);
  assets.set('/index.html', page);
  return assets;
}
