// Every kind of bad request gets a clear answer: 401 without or with a wrong token, 400 for
// malformed JSON or a schema violation (naming the field), 404 for unknown VMs, 429 past the
// stream limit.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ServiceProcess } from '@quasivm/testing';
import { guestImages } from './support/guests.js';
import { call, client, SocketReader, wsUrl } from './support/http.js';
import { startGatewayProcess, startVcpu, type GatewayProcess } from './support/processes.js';

let vcpu: ServiceProcess;
let gw: GatewayProcess;
let api: ReturnType<typeof client>;
let vmId: string;
const MAX_STREAMS = 2;

beforeAll(async () => {
  vcpu = await startVcpu();
  gw = await startGatewayProcess({ vcpus: [vcpu.address], args: ['--max-streams', String(MAX_STREAMS)] });
  api = client(gw.url, gw.token);
  vmId = (await api('POST', '/api/vms', { body: { ramMib: 2, backend: 'soft', firmware: guestImages['serial-hello'] } })).json.id;
});
afterAll(async () => {
  await gw?.stop();
  await vcpu?.stop('SIGKILL');
});

test('without a token every API route answers 401 with WWW-Authenticate: Bearer', async () => {
  for (const [method, path] of [
    ['GET', '/api/vms'],
    ['POST', '/api/vms'],
    ['GET', `/api/vms/${vmId}`],
    ['POST', `/api/vms/${vmId}/start`],
    ['DELETE', `/api/vms/${vmId}`],
  ]) {
    const r = await call(gw.url, gw.token, method, path, { token: null });
    expect(r.status, `${method} ${path}`).toBe(401);
    expect(r.json.error.code).toBe('UNAUTHENTICATED');
    expect(r.json.error.message).toContain('Authorization');
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  }
  expect((await api('GET', `/api/vms/${vmId}`)).json.state).toBe('VM_STATE_CREATED'); // nothing happened to it
});

test('a wrong token is 401, and so is a token that is a prefix of the right one', async () => {
  for (const token of ['wrong-token-wrong-token', gw.token.slice(0, -1), `${gw.token}x`]) {
    const r = await call(gw.url, gw.token, 'GET', '/api/vms', { token });
    expect(r.status).toBe(401);
    expect(r.json.error.message).toBe('the bearer token is not valid');
  }
});

test('WebSockets need the token too: 401 without it, 401 with a wrong one', async () => {
  for (const headers of [{}, { authorization: 'Bearer nope-nope-nope-nope' }] as Record<string, string>[]) {
    const refused = await SocketReader.open(wsUrl(gw.url, `/api/vms/${vmId}/console`), headers).catch((e) => e);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).error.code).toBe('UNAUTHENTICATED');
  }
  const viaProtocol = await SocketReader.open(wsUrl(gw.url, `/api/vms/${vmId}/events`), {}, ['quasivm.v1', 'bearer.nope-nope-nope-nope']).catch((e) => e);
  expect(viaProtocol.status).toBe(401);
});

test('malformed JSON is a 400 that says so', async () => {
  const r = await api('POST', '/api/vms', { rawBody: '{"ramMib": 2,' });
  expect(r.status).toBe(400);
  expect(r.json.error.code).toBe('INVALID_ARGUMENT');
  expect(r.json.error.message).toMatch(/^malformed JSON body/);
});

test('a body that is not JSON at all is refused by content type (415)', async () => {
  const r = await api('POST', '/api/vms', { rawBody: 'ramMib=2', contentType: 'application/x-www-form-urlencoded' });
  expect(r.status).toBe(415);
  expect(r.json.error.message).toContain('application/json');
});

test.each([
  [{ ramMib: 'lots' }, 'ramMib', 'must be integer'],
  [{ ramMib: 99999 }, 'ramMib', 'must be <= 3072'],
  [{ ramMib: 0 }, 'ramMib', 'must be >= 1'],
  [{ ramMB: 16 }, 'ramMB', 'is not a known field'],
  [{ backend: 'qemu' }, 'backend', 'must be one of auto, kvm, soft'],
  [{ firmware: '' }, 'firmware', 'must NOT have fewer than 1 characters'],
  [{ devices: [{ device: 'timer' }] }, 'devices[0].address', 'is required'],
  [{ devices: [{ device: 'sound', address: '127.0.0.1:1' }] }, 'devices[0].device', 'must be one of vga, ide, timer'],
  [{ devices: [{ device: 'timer', address: 'not an address' }] }, 'devices[0].address', 'must be host:port, [ipv6]:port or unix:/path'],
  [{ devices: [{ device: 'timer', address: 'unix:/a' }, { device: 'timer', address: 'unix:/b' }] }, 'devices[1]', 'repeats "timer"'],
  [{ disks: [{ slot: 'tertiary-master', image: 'a.img' }] }, 'disks[0].slot', 'must be one of'],
])('schema violation %j is a 400 naming field %s', async (body, field, says) => {
  const r = await api('POST', '/api/vms', { body });
  expect(r.status).toBe(400);
  expect(r.json.error.field).toBe(field);
  expect(r.json.error.message).toContain(`field "${field}"`);
  expect(r.json.error.message).toContain(says);
});

test('a JSON body that is not an object is a 400', async () => {
  const r = await api('POST', '/api/vms', { body: [1, 2] });
  expect(r.status).toBe(400);
  expect(r.json.error.message).toContain('must be a JSON object');
});

test('keys need exactly one of text or scancodes', async () => {
  const r = await api('POST', `/api/vms/${vmId}/keys`, { body: { text: 'a', scancodes: 'HB4=' } });
  expect(r.status).toBe(400);
  expect(r.json.error.message).toContain('exactly one of the fields "text", "scancodes"');
});

test('unknown VM ids are 404 on every route and WebSocket', async () => {
  for (const [method, path] of [
    ['GET', '/api/vms/no-such-vm'],
    ['POST', '/api/vms/no-such-vm/start'],
    ['POST', '/api/vms/no-such-vm/pause'],
    ['POST', '/api/vms/no-such-vm/stop'],
    ['DELETE', '/api/vms/no-such-vm'],
    ['GET', '/api/vms/no-such-vm/screenshot'],
  ]) {
    const r = await api(method, path);
    expect(r.status, `${method} ${path}`).toBe(404);
    expect(r.json.error.message).toBe('no VM with id "no-such-vm"');
  }
  for (const kind of ['console', 'events']) {
    const refused = await SocketReader.open(wsUrl(gw.url, `/api/vms/no-such-vm/${kind}`), { authorization: `Bearer ${gw.token}` }).catch((e) => e);
    expect(refused.status).toBe(404);
  }
});

test('unknown endpoints are 404, a wrong method is 405', async () => {
  expect((await api('GET', '/api/nothing-here')).status).toBe(404);
  const r = await api('PUT', '/api/vms');
  expect(r.status).toBe(405);
  expect(r.json.error.message).toContain('use GET, POST');
});

test(`a client may hold at most ${MAX_STREAMS} streams at once; the next is 429 until one closes`, async () => {
  const auth = { authorization: `Bearer ${gw.token}` };
  const open = [await SocketReader.open(wsUrl(gw.url, `/api/vms/${vmId}/console`), auth), await SocketReader.open(wsUrl(gw.url, `/api/vms/${vmId}/events`), auth)];
  const refused = await SocketReader.open(wsUrl(gw.url, `/api/vms/${vmId}/console`), auth).catch((e) => e);
  expect(refused.status).toBe(429);
  expect(JSON.parse(refused.body).error.message).toContain(`at most ${MAX_STREAMS}`);
  open[0].close();
  await open[0].closed;
  const again = await SocketReader.open(wsUrl(gw.url, `/api/vms/${vmId}/console`), auth);
  again.close();
  open[1].close();
});

test('a WebSocket from a page of another origin is refused (403)', async () => {
  const refused = await SocketReader.open(wsUrl(gw.url, `/api/vms/${vmId}/console`), { authorization: `Bearer ${gw.token}`, origin: 'http://evil.example' }).catch((e) => e);
  expect(refused.status).toBe(403);
});
