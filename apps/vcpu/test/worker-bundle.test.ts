import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, expect, test } from 'vitest';
import { bundleFor } from '../src/worker-bundle.js';

const dir = mkdtempSync(path.join(tmpdir(), 'quasivm-bundle-'));
const made: string[] = [];
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  // The cache entries of this test's throwaway entry: bundles and their manifest (<name>-<key>.json).
  for (const file of made) {
    rmSync(file, { force: true });
    rmSync(file.replace(/-[0-9a-f]+\.mjs$/, '.json'), { force: true });
  }
});

/** Runs a bundled worker and returns the message it posts. */
function runWorker(url: URL): Promise<{ value: number; url: string }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(url);
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

test('a worker entry is bundled with its sources, keeps each module\'s import.meta.url, and is rebuilt only when a source changes', async () => {
  const entry = path.join(dir, 'entry.ts');
  const dep = path.join(dir, 'dep.ts');
  writeFileSync(dep, 'export const value: number = 1;\nexport const where: string = import.meta.url;\n');
  writeFileSync(entry, "import { parentPort } from 'node:worker_threads';\nimport { value, where } from './dep.ts';\nparentPort!.postMessage({ value, url: where });\n");
  const first = await bundleFor(entry);
  made.push(fileURLToPath(first));
  expect(await runWorker(first)).toEqual({ value: 1, url: pathToFileURL(dep).href });
  expect((await bundleFor(entry)).href, 'unchanged sources: the same bundle').toBe(first.href);
  writeFileSync(dep, 'export const value: number = 2;\nexport const where: string = import.meta.url;\n');
  utimesSync(dep, new Date(), new Date(Date.now() + 5000));
  const second = await bundleFor(entry);
  made.push(fileURLToPath(second));
  expect(second.href, 'a changed source: a new bundle').not.toBe(first.href);
  expect((await runWorker(second)).value).toBe(2);
  expect(existsSync(fileURLToPath(first)), 'the replaced bundle is removed').toBe(false);
});

test("the soft CPU thread's bundle loads no package it does not use (gRPC, proto-loader, logging, argument parsing)", async () => {
  // Such imports are kept by default (a package may have side effects) and cost a VM ~0.15 s before its first instruction.
  const bundle = await bundleFor(fileURLToPath(new URL('../src/soft/soft-vcpu-worker.ts', import.meta.url)));
  const imported = [...readFileSync(bundle, 'utf8').matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
  expect(imported).toContain('protobufjs'); // the fast lane's frame codec: used
  for (const unused of ['@grpc/grpc-js', '@grpc/proto-loader', 'grpc-health-check', 'pino', 'commander']) expect(imported).not.toContain(unused);
});
