// A VM's whole life through the gateway's HTTP JSON API and WebSockets, against a real vcpu
// service process and a real gateway process.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ServiceProcess } from '@quasivm/testing';
import { guestImages, guestWithParam0 } from './support/guests.js';
import { client, SocketReader, waitFor, wsUrl } from './support/http.js';
import { startGatewayProcess, startVcpu, type GatewayProcess } from './support/processes.js';

let vcpu: ServiceProcess;
let gw: GatewayProcess;
let api: ReturnType<typeof client>;
const auth = () => ({ authorization: `Bearer ${gw.token}` });

beforeAll(async () => {
  vcpu = await startVcpu();
  gw = await startGatewayProcess({ vcpus: [vcpu.address] });
  api = client(gw.url, gw.token);
});
afterAll(async () => {
  await gw?.stop();
  await vcpu?.stop('SIGKILL');
});

const stateOf = async (id: string) => (await api('GET', `/api/vms/${id}`)).json.state as string;

test('create, start, read the serial line on the console WebSocket, get, list, reset, stop, delete', async () => {
  const created = await api('POST', '/api/vms', { body: { name: 'hello', ramMib: 2, backend: 'soft', firmware: guestImages['serial-hello'] } });
  expect(created.status).toBe(201);
  const vm = created.json;
  expect(vm).toMatchObject({ name: 'hello', state: 'VM_STATE_CREATED', backend: 'CPU_BACKEND_SOFT', vcpuHost: vcpu.address });
  expect(vm.id).toMatch(/^[A-Za-z0-9_-]+$/);
  expect(created.headers.get('location')).toBe(`/api/vms/${vm.id}`);

  const console = await SocketReader.open(wsUrl(gw.url, `/api/vms/${vm.id}/console`), auth());
  const started = await api('POST', `/api/vms/${vm.id}/start`);
  expect(started.status).toBe(200);
  await console.waitForText('serial-hello: Hello from quasivm!');

  await waitFor('the VM to halt', async () => (await stateOf(vm.id)) === 'VM_STATE_HALTED');
  const got = (await api('GET', `/api/vms/${vm.id}`)).json;
  expect(got.exitReason).toContain('interrupts disabled');
  expect(got.uptimeMs).toBeGreaterThan(0);

  const list = await api('GET', '/api/vms');
  expect(list.status).toBe(200);
  expect(list.json.vms.map((v: { id: string }) => v.id)).toContain(vm.id);

  const reset = await api('POST', `/api/vms/${vm.id}/reset`);
  expect(reset.status).toBe(200);
  await waitFor('the guest to print its line again after the reset', async () => console.text.split('serial-hello: Hello from quasivm!').length === 3);

  const stopped = await api('POST', `/api/vms/${vm.id}/stop`);
  expect(stopped.status).toBe(200);
  expect(stopped.json.state).toBe('VM_STATE_SHUT_DOWN');

  expect((await api('DELETE', `/api/vms/${vm.id}`)).status).toBe(200);
  expect((await api('GET', `/api/vms/${vm.id}`)).status).toBe(404);
  expect((await api('GET', '/api/vms')).json.vms.map((v: { id: string }) => v.id)).not.toContain(vm.id);
  console.close();
});

test('a console opened after the guest printed still shows what it printed', async () => {
  const vm = (await api('POST', '/api/vms', { body: { ramMib: 2, backend: 'soft', firmware: guestImages['two-lines'] } })).json;
  await api('POST', `/api/vms/${vm.id}/start`);
  await waitFor('the VM to halt', async () => (await stateOf(vm.id)) === 'VM_STATE_HALTED');
  const console = await SocketReader.open(wsUrl(gw.url, `/api/vms/${vm.id}/console`), auth());
  await console.waitForText('two-lines: second');
  expect(console.text).toMatch(/two-lines: first\r?\n.*two-lines: second/s);
  console.close();
  await api('DELETE', `/api/vms/${vm.id}`);
});

/**
 * Iterations of two-lines' dec/jnz spin for the pause tests: the compiled loop runs at a few
 * G instructions/s, so the spin must outlast the pause's round trip by far (2 G iterations:
 * >= 1 s here), and still end soon after resume.
 */
const SPIN_FOR_PAUSE = 2_000_000_000;

test('pause holds the guest between its two lines, resume lets it finish', async () => {
  const vm = (await api('POST', '/api/vms', { body: { ramMib: 2, backend: 'soft', firmware: guestWithParam0('two-lines', SPIN_FOR_PAUSE) } })).json;
  const console = await SocketReader.open(wsUrl(gw.url, `/api/vms/${vm.id}/console`), auth());
  await api('POST', `/api/vms/${vm.id}/start`);
  await console.waitForText('two-lines: first');
  expect((await api('POST', `/api/vms/${vm.id}/pause`)).status).toBe(200);
  await waitFor('the VM to be paused', async () => (await stateOf(vm.id)) === 'VM_STATE_PAUSED');
  await new Promise((r) => setTimeout(r, 1500));
  expect(console.text).not.toContain('two-lines: second');
  expect(await stateOf(vm.id)).toBe('VM_STATE_PAUSED');

  expect((await api('POST', `/api/vms/${vm.id}/resume`)).status).toBe(200);
  await waitFor('the VM to run again', async () => ['VM_STATE_RUNNING', 'VM_STATE_HALTED'].includes(await stateOf(vm.id)));
  await console.waitForText('two-lines: second', 120_000);
  console.close();
  await api('DELETE', `/api/vms/${vm.id}`);
}, 180_000);

test('the event WebSocket reports the state changes of a VM as VmEvent JSON', async () => {
  const vm = (await api('POST', '/api/vms', { body: { ramMib: 2, backend: 'soft', firmware: guestImages['serial-hello'] } })).json;
  const events = await SocketReader.open(wsUrl(gw.url, `/api/vms/${vm.id}/events`), auth());
  const started = await api('POST', `/api/vms/${vm.id}/start`);
  expect(started.status, JSON.stringify(started.json)).toBe(200);
  await events.waitForText('halted');
  const parsed = events.messages.map((m) => JSON.parse(m));
  expect(parsed[0]).toMatchObject({ vmId: vm.id, kind: 'state' });
  expect(JSON.parse(parsed[0].detailJson).state).toBe('created');
  const states = parsed.filter((e) => e.kind === 'state').map((e) => JSON.parse(e.detailJson).state);
  expect(states).toContain('halted');
  expect(parsed.every((e) => typeof e.timeMs === 'number' && e.timeMs > 0)).toBe(true);
  events.close();
  await api('DELETE', `/api/vms/${vm.id}`);
});

test('keys are accepted; a VM without a VGA device answers screenshot and screen text with a 409 that says so', async () => {
  const vm = (await api('POST', '/api/vms', { body: { ramMib: 2, backend: 'soft', firmware: guestImages['serial-hello'] } })).json;
  for (const path of ['screenshot', 'screen-text']) {
    const r = await api('GET', `/api/vms/${vm.id}/${path}`);
    expect(r.status, path).toBe(409);
    expect(r.json.error.message).toContain('has no VGA device');
  }
  const keys = await api('POST', `/api/vms/${vm.id}/keys`, { body: { text: 'dir\n' } });
  expect(keys.status).toBeLessThan(300);
  const bad = await api('POST', `/api/vms/${vm.id}/keys`, { body: { text: 'é' } });
  expect(bad.status).toBe(400);
  expect(bad.json.error.message).toContain('US keyboard');
  await api('DELETE', `/api/vms/${vm.id}`);
});

test('a spec the vcpu refuses (missing firmware file) is a 400 carrying its reason', async () => {
  const r = await api('POST', '/api/vms', { body: { ramMib: 2, backend: 'soft', firmware: '/nonexistent/firmware.bin' } });
  expect(r.status).toBe(400);
  expect(r.json.error.message).toContain('/nonexistent/firmware.bin');
});
