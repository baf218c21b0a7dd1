// The API token: generated and shown once at first start, kept in the state dir, read back
// later without being shown; QUASIVM_TOKEN wins; a weak one is refused at start.
import { statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { call } from './support/http.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from './support/processes.js';

// No vcpu is needed for this: the gateway starts without one and says so in its log.
const NO_VCPU = `unix:${path.join(tempDir('none'), 'absent.sock')}`;
let gw: GatewayProcess | undefined;

afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

test('first start prints a new token once and stores it (0600); the next start reads it without printing it', async () => {
  const stateDir = tempDir('state');
  gw = await startGatewayProcess({ vcpus: [NO_VCPU], token: '', stateDir });
  const file = path.join(stateDir, 'token');
  const token = readFileSync(file, 'utf8').trim();
  expect(token.length).toBeGreaterThanOrEqual(32);
  expect(gw.output()).toContain(`API token (generated, stored in ${file}; shown only this once): ${token}`);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect((await call(gw.url, token, 'GET', '/api/vcpus')).status).toBe(200);
  await gw.stop();

  gw = await startGatewayProcess({ vcpus: [NO_VCPU], token: '', stateDir });
  expect(gw.output()).toContain(`API token read from ${file}`);
  expect(gw.output()).not.toContain(token);
  expect((await call(gw.url, token, 'GET', '/api/vcpus')).status).toBe(200);
  expect((await call(gw.url, 'some-other-token-123', 'GET', '/api/vcpus')).status).toBe(401);
});

test('QUASIVM_TOKEN is used as given and never printed', async () => {
  gw = await startGatewayProcess({ vcpus: [NO_VCPU], token: 'env-token-abcdefghijkl' });
  expect(gw.output()).toContain('API token from QUASIVM_TOKEN');
  expect(gw.output()).not.toContain('env-token-abcdefghijkl');
  expect((await call(gw.url, 'env-token-abcdefghijkl', 'GET', '/api/vcpus')).status).toBe(200);
});

test('a too short QUASIVM_TOKEN stops the gateway with a clear message', async () => {
  const failed = await startGatewayProcess({ vcpus: [NO_VCPU], token: 'short' }).catch((e: Error) => e.message);
  expect(failed).toContain('QUASIVM_TOKEN must hold a token of at least 16 characters');
});

test('it binds 127.0.0.1 unless --host says otherwise, and the page loads without a token', async () => {
  gw = await startGatewayProcess({ vcpus: [NO_VCPU] });
  expect(gw.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(gw.grpcAddress).toMatch(/^127\.0\.0\.1:\d+$/);
  const page = await fetch(gw.url + '/');
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('API token');
  const js = await fetch(gw.url + '/assets/app.js');
  expect(js.headers.get('content-type')).toContain('javascript');
  expect((await js.text()).length).toBeGreaterThan(10_000);
  // an unreachable vcpu is a 503 that names it
  const r = await call(gw.url, gw.token, 'GET', '/api/vms');
  expect(r.status).toBe(503);
  expect(r.json.error.message).toContain('absent.sock');
});
