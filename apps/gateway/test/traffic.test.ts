// Live device traffic from NATS through the gateway: the vcpu publishes port accesses of the
// devices someone watches (the gateway switches its tap on), filtered by device and port and
// capped per client. Keys typed into the vga-echo guest are read from the i8042 at port 0x60.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { VmControlClient } from '@quasivm/proto';
import { bearer, gatewayGrpcClient } from './support/grpc.js';
import { client, SocketReader, waitFor, wsUrl } from './support/http.js';
import { startGatewayProcess } from './support/processes.js';
import { startScreenStack, type ScreenStack } from './support/screen-stack.js';

let stack: ScreenStack;
let api: ReturnType<typeof client>;
let c: VmControlClient;
let vmId: string;

beforeAll(async () => {
  stack = await startScreenStack();
  api = client(stack.gw.url, stack.gw.token);
  c = gatewayGrpcClient(stack.gw.grpcAddress);
  const created = await api('POST', '/api/vms', { body: stack.spec('traffic') });
  vmId = created.json.id;
  await api('POST', `/api/vms/${vmId}/start`);
  await waitFor('the guest', async () => (await api('GET', `/api/vms/${vmId}/screen-text`)).json.rows?.[0]?.startsWith('vga-echo: ready'));
}, 60_000);
afterAll(async () => {
  c?.close();
  await stack?.stop();
});

const auth = () => ({ authorization: `Bearer ${stack.gw.token}` });
const records = (s: SocketReader) => s.messages.map((m) => JSON.parse(m) as { device: string; direction: string; port: number; value: number; dropped: number });

test('WebSocket: the keyboard controller reads of typed keys arrive as records, only for the device and port asked for', async () => {
  const data = await SocketReader.open(wsUrl(stack.gw.url, `/api/vms/${vmId}/traffic?device=i8042&port=0x60`), auth());
  const all = await SocketReader.open(wsUrl(stack.gw.url, `/api/vms/${vmId}/traffic`), auth());
  await api('POST', `/api/vms/${vmId}/keys`, { body: { text: 'ab' } });
  // 'a' then 'b', make and break, translated to set 1: 1e 9e 30 b0
  await waitFor('four key reads', async () => records(data).length >= 4);
  expect(records(data).slice(0, 4)).toEqual(
    [0x1e, 0x9e, 0x30, 0xb0].map((value) => expect.objectContaining({ device: 'i8042', direction: 'in', port: 0x60, value, dropped: 0 })),
  );
  expect(records(data).every((r) => r.device === 'i8042' && r.port === 0x60)).toBe(true);
  // unfiltered: the status reads (0x64) and the serial line's UART writes too
  await waitFor('other ports in the unfiltered stream', async () => records(all).some((r) => r.port === 0x64) && records(all).some((r) => r.device === 'uart'));
  data.close();
  all.close();
}, 30_000);

test('gRPC WatchTraffic delivers the same records; a bad filter is INVALID_ARGUMENT, an unknown VM NOT_FOUND', async () => {
  const md = bearer(stack.gw.token);
  const got: Array<{ device: string; port: number; value: number }> = [];
  const stream = c.WatchTraffic({ id: vmId, device: 'i8042', ports: [0x60] }, md);
  stream.on('data', (r) => got.push(r));
  stream.on('error', () => undefined);
  await new Promise((r) => stream.once('metadata', r)); // headers come once the gateway watches
  await api('POST', `/api/vms/${vmId}/keys`, { body: { text: 'c' } });
  await waitFor('the key reads over gRPC', async () => got.some((r) => r.value === 0x2e) && got.some((r) => r.value === 0xae));
  expect(got.every((r) => r.device === 'i8042' && r.port === 0x60)).toBe(true);
  stream.cancel();

  const bad = c.WatchTraffic({ id: vmId, device: 'i8042', ports: [70000] }, md);
  expect((await new Promise<grpc.ServiceError>((resolve) => bad.on('error', resolve))).code).toBe(grpc.status.INVALID_ARGUMENT);
  const missing = c.WatchTraffic({ id: 'no-such-vm', device: '', ports: [] }, md);
  expect((await new Promise<grpc.ServiceError>((resolve) => missing.on('error', resolve))).code).toBe(grpc.status.NOT_FOUND);
}, 30_000);

test('bad filters are refused with 400 naming the field, unknown VMs with 404, before any WebSocket opens', async () => {
  const refused = (path: string) => SocketReader.open(wsUrl(stack.gw.url, path), auth()).then(() => ({ status: 101, body: '' }), (e: { status: number; body: string }) => e);
  const port = await refused(`/api/vms/${vmId}/traffic?port=sixty`);
  expect(port.status).toBe(400);
  expect(port.body).toContain('field \\"port[0]\\"');
  const dev = await refused(`/api/vms/${vmId}/traffic?device=a.b`);
  expect(dev.status).toBe(400);
  expect((await refused('/api/vms/no-such-vm/traffic')).status).toBe(404);
});

test('per-client limit: a stream delivers at most --max-traffic-rate records a second and says how many it dropped', async () => {
  const gw = await startGatewayProcess({ vcpus: [stack.vcpu.address], args: ['--nats', stack.nats.url, '--max-traffic-rate', '3'] });
  try {
    const s = await SocketReader.open(wsUrl(gw.url, `/api/vms/${vmId}/traffic?device=i8042`), { authorization: `Bearer ${gw.token}` });
    await api('POST', `/api/vms/${vmId}/keys`, { body: { text: 'hello world' } }); // 22 bytes at port 0x60 (make + break), plus status reads
    await waitFor('the first records', async () => records(s).length >= 3);
    await new Promise((r) => setTimeout(r, 1200));
    expect(records(s)).toHaveLength(3); // the rest of the burst was over the limit
    await api('POST', `/api/vms/${vmId}/keys`, { body: { text: 'x' } }); // a new second: delivered again
    await waitFor('a record after the first second', async () => records(s).length > 3, 10_000);
    expect(records(s)[3].dropped).toBeGreaterThanOrEqual(22 - 3); // at least the 22 data-port reads of the burst
    s.close();
  } finally {
    await gw.stop();
  }
}, 30_000);

test('a gateway without NATS refuses traffic streams with 409 saying what is missing', async () => {
  const gw = await startGatewayProcess({ vcpus: [stack.vcpu.address] });
  try {
    const r = await SocketReader.open(wsUrl(gw.url, `/api/vms/${vmId}/traffic`), { authorization: `Bearer ${gw.token}` }).then(
      () => ({ status: 101, body: '' }),
      (e: { status: number; body: string }) => e,
    );
    expect(r.status).toBe(409);
    expect(r.body).toContain('--nats');
  } finally {
    await gw.stop();
  }
}, 30_000);
