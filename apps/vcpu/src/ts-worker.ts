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
 * QUASIVM_WORKER_PRELOAD=<file URL> imports that module first in every such worker (what
 * `node --import` does for a process): scripts/profiling/ uses it to instrument a VM's CPU and
 * compile threads, which then run unbundled (QUASIVM_WORKER_BUNDLE=0).
 */
export function startTsWorker(entry: URL, options: WorkerOptions = {}): Worker {
  const preload = process.env.QUASIVM_WORKER_PRELOAD;
  const bootstrap = `
    const { register } = await import(${JSON.stringify(tsxApi)});
    register();
    ${preload ? `await import(${JSON.stringify(preload)});` : ''}
    await import(${JSON.stringify(entry.href)});
  `;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), options);
}

/**
 * Starts `entry` as a worker thread: its bundle (worker-bundle.ts) when there is one, else under tsx.
 * A bundle is plain JavaScript: it starts without the tsx loader the process may run under (a
 * worker inherits `--import tsx`), which took a soft VM's region compile thread, started beside
 * the CPU thread, ~0.1-0.3 s of CPU to load, while the guest ran its first I/O.
 */
export function startWorker(entry: URL, bundled: URL | null, options: WorkerOptions = {}, parentArgs: readonly string[] = process.execArgv): Worker {
  if (!bundled) return startTsWorker(entry, options);
  const execArgv = withoutTsx(parentArgs);
  try {
    return new Worker(bundled, { execArgv, ...options });
  } catch (e) {
    // A worker's execArgv refuses V8 options (--max-old-space-size, --stack-trace-limit,
    // --liftoff-only, ...): they are process-wide and apply to the worker anyway. Without
    // this, a VM started in a process run with one crashed before its first instruction.
    if ((e as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
    const refused = new Set(/flags: (.*)$/.exec((e as Error).message)?.[1].split(', ') ?? execArgv);
    return new Worker(bundled, { execArgv: execArgv.filter((a) => !refused.has(a)), ...options });
  }
}

/** `args` without the flags that load tsx (`--import tsx`, `--require .../tsx/dist/preflight.cjs`, ...). */
export function withoutTsx(args: readonly string[]): string[] {
  const loads = /^--(import|require|loader|experimental-loader)$/;
  const isTsx = (v: string) => /(^|[\\/])tsx($|[\\/])/.test(v);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (loads.test(args[i]) && i + 1 < args.length && isTsx(args[i + 1])) {
      i++;
      continue;
    }
    const eq = /^--(import|require|loader|experimental-loader|r)=(.*)$/.exec(args[i]);
    if (eq && isTsx(eq[2])) continue;
    out.push(args[i]);
  }
  return out;
}
