import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * A CPU thread's TypeScript, bundled into one JavaScript module (esbuild) and kept in
 * node_modules/.cache/quasivm until one of its sources changes. Under tsx a worker spent
 * ~0.5 s resolving and transforming ~140 modules before the guest's first instruction;
 * the bundle loads in ~0.15 s. Packages stay outside it (imported from node_modules as
 * usual); only the workspace's own sources are bundled, each with its own import.meta.url.
 * QUASIVM_WORKER_BUNDLE=0 starts workers under tsx instead, as does any failure here.
 */

interface Manifest {
  /** Each bundled source: [mtimeMs, size] when it was bundled. */
  inputs: Record<string, [number, number]>;
  output: string;
}

const nodeModules = path.resolve(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), '..');
const cacheDir = path.join(nodeModules, '.cache', 'quasivm');
const pending = new Map<string, Promise<URL | null>>();

/** The bundled module for worker entry `entry` (a .ts file URL), built if missing or stale; null: use tsx. */
export function workerBundle(entry: URL): Promise<URL | null> {
  if (process.env.QUASIVM_WORKER_BUNDLE === '0') return Promise.resolve(null);
  const file = fileURLToPath(entry);
  let p = pending.get(file);
  if (!p) {
    p = bundleFor(file).catch(() => null);
    pending.set(file, p);
  }
  return p;
}

/** The bundle of `entry` (a .ts path): the cached one while its sources are unchanged, else a new one. */
export async function bundleFor(entry: string): Promise<URL> {
  const key = createHash('sha256').update(entry).digest('hex').slice(0, 16);
  const manifestPath = path.join(cacheDir, `${path.basename(entry, '.ts')}-${key}.json`);
  const fresh = readManifest(manifestPath);
  if (fresh) return pathToFileURL(fresh.output);
  return build(entry, manifestPath, key);
}

/** The manifest when its bundle exists and no source changed since. */
function readManifest(manifestPath: string): Manifest | null {
  if (!existsSync(manifestPath)) return null;
  try {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    if (!existsSync(m.output)) return null;
    for (const [file, [mtimeMs, size]] of Object.entries(m.inputs)) {
      const s = statSync(file, { throwIfNoEntry: false });
      if (!s || s.mtimeMs !== mtimeMs || s.size !== size) return null;
    }
    return m;
  } catch {
    return null;
  }
}

async function build(entry: string, manifestPath: string, key: string): Promise<URL> {
  const esbuild = await import('esbuild');
  const root = path.dirname(nodeModules);
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
    plugins: [
      {
        name: 'quasivm-worker',
        setup(b) {
          // Packages load from node_modules at run time; workspace packages are sources to bundle.
          // Marked free of side effects so that a package nothing in the thread uses is not loaded
          // at all (gRPC, proto-loader: ~0.1 s of a VM's start).
          b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@quasivm/') ? undefined : { path: a.path, external: true, sideEffects: false }));
          // A module finds files next to its source (the proto directory): keep its own URL.
          b.onLoad({ filter: /\.ts$/ }, (a) => ({
            contents: readFileSync(a.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(a.path).href)),
            loader: 'ts',
          }));
        },
      },
    ],
  });
  const inputs: Manifest['inputs'] = {};
  // This file too: a change to how bundles are made makes them again.
  for (const input of [...Object.keys(result.metafile!.inputs), fileURLToPath(import.meta.url)]) {
    const file = path.resolve(root, input);
    const s = statSync(file);
    inputs[file] = [s.mtimeMs, s.size];
  }
  const code = result.outputFiles![0].contents;
  const output = path.join(cacheDir, `${path.basename(entry, '.ts')}-${key}-${createHash('sha256').update(code).digest('hex').slice(0, 12)}.mjs`);
  mkdirSync(cacheDir, { recursive: true });
  // Written under temporary names and renamed: test processes start VMs side by side.
  const temp = `.${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(output + temp, code);
  renameSync(output + temp, output);
  const previous = existsSync(manifestPath) ? readFileSync(manifestPath, 'utf8') : null;
  writeFileSync(manifestPath + temp, JSON.stringify({ inputs, output } satisfies Manifest));
  renameSync(manifestPath + temp, manifestPath);
  // The bundle this one replaces (its sources changed) goes; the cache keeps one per entry.
  try {
    const old = previous ? (JSON.parse(previous) as Manifest).output : null;
    if (old && old !== output) rmSync(old, { force: true });
  } catch {
    /* an unreadable old manifest: nothing to remove */
  }
  return pathToFileURL(output);
}
