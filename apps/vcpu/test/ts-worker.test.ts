import { once } from 'node:events';
import { expect, test } from 'vitest';
import { startWorker, withoutTsx } from '../src/ts-worker.js';

test('a bundled worker starts without the flags that load tsx, keeping every other flag', () => {
  // `npx tsx file.ts`, `node --import tsx file.ts`, and their = forms.
  expect(withoutTsx(['--require', '/w/node_modules/tsx/dist/preflight.cjs', '--import', 'file:///w/node_modules/tsx/dist/loader.mjs'])).toEqual([]);
  expect(withoutTsx(['--import', 'tsx', '--cpu-prof', '--max-old-space-size=512'])).toEqual(['--cpu-prof', '--max-old-space-size=512']);
  expect(withoutTsx(['--import=tsx', '--require=/w/node_modules/tsx/dist/preflight.cjs', '--trace-gc'])).toEqual(['--trace-gc']);
  // Other loaders stay.
  expect(withoutTsx(['--import', './my-tsx-helpers.mjs', '--require', 'dotenv/config'])).toEqual(['--import', './my-tsx-helpers.mjs', '--require', 'dotenv/config']);
});

test('a bundled worker starts in a process run with V8 options, which a worker refuses in its execArgv', async () => {
  const parentArgs = ['--max-old-space-size=4096', '--no-warnings', '--import', 'tsx', '--stack-trace-limit=50'];
  const worker = startWorker(new URL('./fixtures/hello-worker.mjs', import.meta.url), new URL('./fixtures/hello-worker.mjs', import.meta.url), {}, parentArgs);
  try {
    const [args] = await once(worker, 'message');
    // Node flags stay; tsx's loader and the V8 options do not reach its execArgv (V8's apply process-wide).
    expect(args).toEqual(['--no-warnings']);
  } finally {
    await worker.terminate();
  }
});

test('QUASIVM_WORKER_PRELOAD is imported before the entry of a worker started under tsx (scripts/profiling)', async () => {
  const entry = new URL('./fixtures/report-preload.ts', import.meta.url);
  const run = async (preload: string | undefined) => {
    const was = process.env.QUASIVM_WORKER_PRELOAD;
    if (preload === undefined) delete process.env.QUASIVM_WORKER_PRELOAD;
    else process.env.QUASIVM_WORKER_PRELOAD = preload;
    try {
      const worker = startWorker(entry, null);
      try {
        return (await once(worker, 'message'))[0];
      } finally {
        await worker.terminate();
      }
    } finally {
      if (was === undefined) delete process.env.QUASIVM_WORKER_PRELOAD;
      else process.env.QUASIVM_WORKER_PRELOAD = was;
    }
  };
  expect(await run(new URL('./fixtures/preload-mark.ts', import.meta.url).href)).toBe('preloaded');
  expect(await run(undefined)).toBe('none');
});
