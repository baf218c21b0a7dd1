import { Worker, type WorkerOptions } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

// The ESM entry of tsx's API (its "import" export), found from the package's own folder.
const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
const tsxApi = pathToFileURL(path.join(tsxDir, 'dist/esm/api/index.mjs')).href;

/**
 * Starts a worker thread running a TypeScript module. The services run under tsx;
 * a worker thread does not inherit tsx's loader, so a tiny bootstrap registers it first.
 */
export function startTsWorker(entry: URL, options: WorkerOptions = {}): Worker {
  const bootstrap = `
    const { register } = await import(${JSON.stringify(tsxApi)});
    register();
    await import(${JSON.stringify(entry.href)});
  `;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), options);
}

/** Starts `entry` as a worker thread: its bundle (worker-bundle.ts) when there is one, else under tsx. */
export function startWorker(entry: URL, bundled: URL | null, options: WorkerOptions = {}): Worker {
  return bundled ? new Worker(bundled, options) : startTsWorker(entry, options);
}
