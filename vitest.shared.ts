import { defineConfig } from 'vitest/config';
/** Shared by every project's vitest.config.ts: real processes take their time. */
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000, exclude: ['**/node_modules/**', '**/dist/**'] } });
