import { expect, test } from 'vitest';
import { withoutTsx } from '../src/ts-worker.js';

test('a bundled worker starts without the flags that load tsx, keeping every other flag', () => {
  // `npx tsx file.ts`, `node --import tsx file.ts`, and their = forms.
  expect(withoutTsx(['--require', '/w/node_modules/tsx/dist/preflight.cjs', '--import', 'file:///w/node_modules/tsx/dist/loader.mjs'])).toEqual([]);
  expect(withoutTsx(['--import', 'tsx', '--cpu-prof', '--max-old-space-size=512'])).toEqual(['--cpu-prof', '--max-old-space-size=512']);
  expect(withoutTsx(['--import=tsx', '--require=/w/node_modules/tsx/dist/preflight.cjs', '--trace-gc'])).toEqual(['--trace-gc']);
  // Other loaders stay.
  expect(withoutTsx(['--import', './my-tsx-helpers.mjs', '--require', 'dotenv/config'])).toEqual(['--import', './my-tsx-helpers.mjs', '--require', 'dotenv/config']);
});
