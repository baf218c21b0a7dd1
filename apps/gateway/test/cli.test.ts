// The quasivm CLI as a user runs it (a real process) against a real gateway and vcpu.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ServiceProcess } from '@quasivm/testing';
import { guestImages } from './support/guests.js';
import { REPO, startGatewayProcess, startVcpu, type GatewayProcess } from './support/processes.js';

const CLI = path.join(REPO, 'apps/gateway/src/cli.ts');
let vcpu: ServiceProcess;
let gw: GatewayProcess;

beforeAll(async () => {
  vcpu = await startVcpu();
  gw = await startGatewayProcess({ vcpus: [vcpu.address] });
});
afterAll(async () => {
  await gw?.stop();
  await vcpu?.stop('SIGKILL');
});

async function quasivm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, '--url', gw.url, ...args], {
      cwd: path.join(REPO, 'apps/gateway'),
      env: { ...process.env, QUASIVM_TOKEN: gw.token },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test('create --start, list, console --until, stop', async () => {
  const created = await quasivm('--json', 'create', '--name', 'from-cli', '--ram', '2', '--backend', 'soft', '--firmware', guestImages['serial-hello'], '--start');
  expect(created.code, created.stderr).toBe(0);
  const vm = JSON.parse(created.stdout);
  expect(vm).toMatchObject({ name: 'from-cli', backend: 'CPU_BACKEND_SOFT' });

  const list = await quasivm('list');
  expect(list.stdout).toMatch(/^ID\s+NAME\s+STATE\s+BACKEND\s+UPTIME\s+VCPU/);
  expect(list.stdout).toMatch(new RegExp(`^${vm.id}\\s+from-cli\\s+(created|running|halted)\\s+soft`, 'm'));

  const console = await quasivm('console', vm.id, '--until', 'Hello from quasivm!', '--timeout', '20');
  expect(console.code, console.stderr).toBe(0);
  expect(console.stdout).toContain('serial-hello: Hello from quasivm!');

  const stopped = await quasivm('stop', vm.id);
  expect(stopped.stdout).toMatch(new RegExp(`^${vm.id}\\s+from-cli\\s+shut-down`, 'm'));
  expect((await quasivm('delete', vm.id)).stdout).toBe(`deleted ${vm.id}\n`);
});

test('errors reach the user as one clear line and exit code 1', async () => {
  const missing = await quasivm('start', 'no-such-vm');
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe('quasivm: no VM with id "no-such-vm"\n');
  const badSpec = await quasivm('create', '--ram', '9999', '--firmware', guestImages['serial-hello']);
  expect(badSpec.stderr).toContain('field "ramMib" must be <= 3072');
  const wrongToken = await quasivm('--token', 'not-the-token-at-all', 'list');
  expect(wrongToken.code).toBe(1);
  expect(wrongToken.stderr).toContain('the bearer token is not valid');
  const noConsole = await quasivm('console', 'no-such-vm', '--timeout', '5');
  expect(noConsole.code).toBe(1);
  expect(noConsole.stderr).toContain('no VM with id "no-such-vm"');
});
