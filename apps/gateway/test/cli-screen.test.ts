// The CLI's screen commands (screenshot, screen, keys) as a user runs them, against the
// stack with the remote VGA and the vga-echo guest.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { client, waitFor } from './support/http.js';
import { REPO, tempDir } from './support/processes.js';
import { litCells, startScreenStack, type ScreenStack } from './support/screen-stack.js';

const CLI = path.join(REPO, 'apps/gateway/src/cli.ts');
let stack: ScreenStack;

beforeAll(async () => {
  stack = await startScreenStack();
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

async function quasivm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, '--url', stack.gw.url, ...args], {
      cwd: path.join(REPO, 'apps/gateway'),
      env: { ...process.env, QUASIVM_TOKEN: stack.gw.token },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test('keys --text and --scancodes, screen, screenshot -o', async () => {
  const spec = stack.spec('cli-screen');
  const created = await quasivm('--json', 'create', '--name', spec.name, '--ram', '2', '--backend', 'soft', '--firmware', spec.firmware, '--device', `vga=${stack.vga.address}`, '--start');
  expect(created.code, created.stderr).toBe(0);
  const id = JSON.parse(created.stdout).id as string;
  const api = client(stack.gw.url, stack.gw.token);
  await waitFor('the banner', async () => (await api('GET', `/api/vms/${id}/screen-text`)).json.rows?.[0]?.startsWith('vga-echo: ready'));

  expect((await quasivm('keys', id, '--text', 'cli')).code).toBe(0);
  expect((await quasivm('keys', id, '--scancodes', '16 f0 16')).code).toBe(0); // "1"
  await waitFor('the echo', async () => (await quasivm('screen', id)).stdout.split('\n')[2] === '> cli1');
  const screen = (await quasivm('screen', id)).stdout.split('\n');
  expect(screen[0]).toBe('vga-echo: ready');
  expect(screen[24]).toBe('scancode=0x82');

  const file = path.join(tempDir('cli'), 'screen.png');
  const shot = await quasivm('screenshot', id, '-o', file);
  expect(shot.stdout).toBe(`wrote ${file} (720x400)\n`);
  const png = PNG.sync.read(readFileSync(file));
  expect(litCells(png, 2, 0, 80)).toBe('>cli1'.length);

  const bad = await quasivm('keys', id, '--scancodes', 'zz');
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('is not a list of hex bytes');
}, 60_000);
