// The same VM lifecycle over the gateway's gRPC face (quasivm.vm.v1.VmControl).
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { VmControlClient } from '@quasivm/proto';
import type { ServiceProcess } from '@quasivm/testing';
import { guestImages, guestWithParam0 } from './support/guests.js';
import { bearer, failure, gatewayGrpcClient, unary } from './support/grpc.js';
import { waitFor } from './support/http.js';
import { startGatewayProcess, startVcpu, type GatewayProcess } from './support/processes.js';

let vcpu: ServiceProcess;
let gw: GatewayProcess;
let c: VmControlClient;
let md: grpc.Metadata;

beforeAll(async () => {
  vcpu = await startVcpu();
  gw = await startGatewayProcess({ vcpus: [vcpu.address] });
  c = gatewayGrpcClient(gw.grpcAddress);
  md = bearer(gw.token);
});
afterAll(async () => {
  c?.close();
  await gw?.stop();
  await vcpu?.stop('SIGKILL');
});

const spec = (firmware: string) => ({ name: 'grpc-vm', ramMib: 2, backend: 'CPU_BACKEND_SOFT' as const, firmware });
const getVm = (id: string) => unary<{ state: string; exitReason: string; uptimeMs: number }>((cb) => c.GetVm({ id }, md, cb));

test('create, start, console stream, get, list, stop, delete over gRPC', async () => {
  const vm = await unary<{ id: string; state: string; vcpuHost: string }>((cb) => c.CreateVm(spec(guestImages['serial-hello']), md, cb));
  expect(vm.state).toBe('VM_STATE_CREATED');
  expect(vm.vcpuHost).toBe(vcpu.address);

  const consoleStream = c.Console(md);
  let serial = '';
  consoleStream.on('data', (out: { data: Buffer }) => (serial += out.data.toString('latin1')));
  consoleStream.write({ id: vm.id });
  await unary((cb) => c.StartVm({ id: vm.id }, md, cb));
  await waitFor('the serial line', async () => serial.includes('serial-hello: Hello from quasivm!'));
  consoleStream.end();

  await waitFor('the VM to halt', async () => (await getVm(vm.id)).state === 'VM_STATE_HALTED');
  expect((await getVm(vm.id)).exitReason).toContain('interrupts disabled');
  const list = await unary<{ vms: Array<{ id: string }> }>((cb) => c.ListVms({}, md, cb));
  expect(list.vms.map((v) => v.id)).toContain(vm.id);

  const stopped = await unary<{ state: string }>((cb) => c.StopVm({ id: vm.id }, md, cb));
  expect(stopped.state).toBe('VM_STATE_SHUT_DOWN');
  await unary((cb) => c.DeleteVm({ id: vm.id }, md, cb));
  const gone = await failure(getVm(vm.id));
  expect(gone.code).toBe(grpc.status.NOT_FOUND);
});

test('pause and resume over gRPC, with the state changes on WatchEvents', async () => {
  const vm = await unary<{ id: string }>((cb) => c.CreateVm(spec(guestWithParam0('two-lines', 2_000_000_000)), md, cb));
  const events: Array<{ kind: string; detailJson: string }> = [];
  const watch = c.WatchEvents({ id: vm.id }, md);
  watch.on('data', (e) => events.push(e));
  watch.on('error', () => undefined);
  const states = () => events.filter((e) => e.kind === 'state').map((e) => JSON.parse(e.detailJson).state as string);
  await waitFor('the first event', async () => events.length > 0);

  await unary((cb) => c.StartVm({ id: vm.id }, md, cb));
  await waitFor('running', async () => states().includes('running'));
  await unary((cb) => c.PauseVm({ id: vm.id }, md, cb));
  await waitFor('paused', async () => states().includes('paused'));
  expect((await getVm(vm.id)).state).toBe('VM_STATE_PAUSED');
  await unary((cb) => c.ResumeVm({ id: vm.id }, md, cb));
  await waitFor('running again', async () => states().lastIndexOf('running') > states().indexOf('paused'));
  watch.cancel();
  await unary((cb) => c.DeleteVm({ id: vm.id }, md, cb));
});

test('without the token, or with a wrong one, every call is UNAUTHENTICATED', async () => {
  const none = await failure(unary((cb) => c.ListVms({}, cb)));
  expect(none.code).toBe(grpc.status.UNAUTHENTICATED);
  expect(none.details).toContain('authorization');
  const wrong = await failure(unary((cb) => c.CreateVm(spec(guestImages['serial-hello']), bearer('wrong-wrong-wrong-wrong'), cb)));
  expect(wrong.code).toBe(grpc.status.UNAUTHENTICATED);
  const stream = c.WatchEvents({ id: 'x' });
  const err = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
  expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
});

test('a bad spec over gRPC is INVALID_ARGUMENT naming the field, an unknown VM is NOT_FOUND', async () => {
  const big = await failure(unary((cb) => c.CreateVm({ ...spec(guestImages['serial-hello']), ramMib: 100_000 }, md, cb)));
  expect(big.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(big.details).toContain('field "ramMib" must be <= 3072');
  const dev = await failure(unary((cb) => c.CreateVm({ ...spec(guestImages['serial-hello']), devices: [{ device: 'timer', address: 'nowhere' }] }, md, cb)));
  expect(dev.details).toContain('field "devices[0].address"');
  const missing = await failure(unary((cb) => c.StartVm({ id: 'no-such-vm' }, md, cb)));
  expect(missing.code).toBe(grpc.status.NOT_FOUND);
  expect(missing.details).toBe('no VM with id "no-such-vm"');
  const consoleStream = c.Console(md);
  consoleStream.write({ id: 'no-such-vm' });
  const err = await new Promise<grpc.ServiceError>((resolve) => consoleStream.on('error', resolve));
  expect(err.code).toBe(grpc.status.NOT_FOUND);
});

test('Screenshot is forwarded to the vcpu; a VM without a VGA device answers FAILED_PRECONDITION saying so', async () => {
  const vm = await unary<{ id: string }>((cb) => c.CreateVm(spec(guestImages['serial-hello']), md, cb));
  const shot = await failure(unary((cb) => c.Screenshot({ id: vm.id }, md, cb)));
  expect(shot.code).toBe(grpc.status.FAILED_PRECONDITION);
  expect(shot.details).toContain('has no VGA device');
  await unary((cb) => c.DeleteVm({ id: vm.id }, md, cb));
});
