import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { codecReady } from '../src/fast-lane/frame-codec.js';
import { FastLaneServer } from '../src/fast-lane/fast-lane-server.js';

// Its own file: vitest gives each test file fresh modules, so the codec starts unloaded here.
test('a fast lane has its codec loaded before it listens: a vCPU opening a lane to a fresh service does not wait the ~40 ms of loading it', async () => {
  expect(codecReady()).toBe(false);
  const server = new FastLaneServer(path.join(mkdtempSync(path.join(tmpdir(), 'qvm-lane-')), 'ready.io'), () => undefined, () => undefined, { warn: () => undefined });
  await server.listen();
  try {
    expect(codecReady()).toBe(true);
  } finally {
    server.close();
  }
});
