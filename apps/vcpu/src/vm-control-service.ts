import * as grpc from '@grpc/grpc-js';
import { loadVmProto, type VmControlHandlers, type Vm__Input } from '@quasivm/proto';
import type { Logger } from '@quasivm/device-sdk';
import { VmManager, VmNotFoundError } from './vm-manager.js';
import type { Vm } from './vm.js';
import { textToSet2 } from './machine/keymap.js';
import { DisplayForwarding, NoDisplayError } from './display-forwarding.js';

const STATE_NAMES: Record<string, string> = {
  created: 'VM_STATE_CREATED',
  running: 'VM_STATE_RUNNING',
  paused: 'VM_STATE_PAUSED',
  halted: 'VM_STATE_HALTED',
  'shut-down': 'VM_STATE_SHUT_DOWN',
  crashed: 'VM_STATE_CRASHED',
};

/**
 * The IDE session's configuration from a CreateVm request's disks: slot "primary-master" is
 * the IDE service's key "primary.master" (the image, relative to the service's data
 * directory), a CD-ROM is ".type" cdrom, a disk's ".mode" is overlay, ro or rw.
 */
export function ideConfigFromDisks(disks: Array<{ slot: string; image: string; readOnly?: boolean; cdrom?: boolean; overlay?: boolean }>): Record<string, string> {
  const config: Record<string, string> = {};
  for (const d of disks) {
    const slot = d.slot.replace('-', '.');
    config[slot] = d.image;
    if (d.cdrom) config[`${slot}.type`] = 'cdrom';
    else config[`${slot}.mode`] = d.overlay ? 'overlay' : d.readOnly ? 'ro' : 'rw';
  }
  return config;
}

export function vmMessage(vm: Vm, host = ''): Vm__Input {
  return {
    id: vm.id,
    name: vm.spec.name ?? vm.id,
    state: STATE_NAMES[vm.state] as Vm__Input['state'],
    backend: vm.backend === 'kvm' ? 'CPU_BACKEND_KVM' : 'CPU_BACKEND_SOFT',
    uptimeMs: vm.startedAt ? Date.now() - vm.startedAt : 0,
    exitReason: vm.exitReason,
    vcpuHost: host,
  };
}

function toStatus(e: unknown): Partial<grpc.StatusObject> {
  if (e instanceof VmNotFoundError) return { code: grpc.status.NOT_FOUND, details: e.message };
  if (typeof (e as grpc.ServiceError).code === 'number' && (e as grpc.ServiceError).details !== undefined)
    return { code: (e as grpc.ServiceError).code, details: `display service: ${(e as grpc.ServiceError).details}` };
  if (e instanceof NoDisplayError) return { code: grpc.status.FAILED_PRECONDITION, details: e.message };
  return { code: grpc.status.FAILED_PRECONDITION, details: (e as Error).message };
}

/** The vcpu service's gRPC face: the VmControl API for the VMs this instance hosts. */
export function vmControlHandlers(manager: VmManager, log: Logger, host: string, display = new DisplayForwarding()): VmControlHandlers {
  const withVm = (fn: (vm: Vm) => Promise<unknown> | unknown) => async (call: grpc.ServerUnaryCall<{ id: string }, Vm__Input>, cb: grpc.sendUnaryData<Vm__Input>) => {
    try {
      const vm = manager.get(call.request.id);
      await fn(vm);
      cb(null, vmMessage(vm, host));
    } catch (e) {
      cb(toStatus(e));
    }
  };
  return {
    CreateVm: async (call, cb) => {
      const r = call.request;
      try {
        if (r.disks?.length && !r.devices.some((d) => d.device === 'ide')) throw new Error('disks need an ide device among the devices');
        const vm = await manager.create({
          name: r.name,
          ramMiB: r.ramMib || undefined,
          backend: r.backend === 'CPU_BACKEND_KVM' ? 'kvm' : 'soft',
          firmware: r.firmware || undefined,
          devices: r.devices.map((d) => ({ device: d.device, address: d.address, ...(d.device === 'ide' && r.disks?.length ? { config: ideConfigFromDisks(r.disks) } : {}) })),
          kernel: r.kernel || undefined,
          initrd: r.initrd || undefined,
          cmdline: r.cmdline || undefined,
        });
        cb(null, vmMessage(vm, host));
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'CreateVm refused');
        cb({ code: grpc.status.INVALID_ARGUMENT, details: (e as Error).message });
      }
    },
    StartVm: withVm((vm) => vm.start()),
    PauseVm: withVm((vm) => vm.pause()),
    ResumeVm: withVm((vm) => vm.resume()),
    ResetVm: withVm((vm) => vm.reset()),
    StopVm: withVm((vm) => vm.stop()),
    GetVm: withVm(() => undefined),
    DeleteVm: async (call, cb) => {
      try {
        await manager.delete(call.request.id);
        cb(null, {});
      } catch (e) {
        cb(toStatus(e));
      }
    },
    ListVms: (_call, cb) => cb(null, { vms: [...manager.vms.values()].map((vm) => vmMessage(vm, host)) }),
    Screenshot: async (call, cb) => {
      try {
        cb(null, await display.screenshot(manager.get(call.request.id)));
      } catch (e) {
        cb(toStatus(e));
      }
    },
    ScreenText: async (call, cb) => {
      try {
        cb(null, { rows: (await display.screenText(manager.get(call.request.id))).rows });
      } catch (e) {
        cb(toStatus(e));
      }
    },
    SendKeys: (call, cb) => {
      try {
        const vm = manager.get(call.request.id);
        if (call.request.text) vm.sendKeys(textToSet2(call.request.text));
        else if (call.request.scancodes?.length) vm.sendKeys(call.request.scancodes);
        else return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'send text or scancodes (PS/2 set 2)' });
        cb(null, {});
      } catch (e) {
        cb(e instanceof VmNotFoundError ? toStatus(e) : { code: grpc.status.INVALID_ARGUMENT, details: (e as Error).message });
      }
    },
    Console: (call) => {
      let vm: Vm | undefined;
      const onSerial = (data: Uint8Array) => call.write({ data: Buffer.from(data) });
      call.on('data', (msg: { id: string; data: Buffer }) => {
        if (!vm) {
          try {
            vm = manager.get(msg.id);
          } catch (e) {
            call.emit('error', toStatus(e));
            return;
          }
          call.write({ data: Buffer.from(vm.serialLog, 'latin1') });
          vm.on('serial', onSerial);
        }
        if (msg.data?.length) vm.sendSerial(msg.data);
      });
      const end = () => vm?.off('serial', onSerial);
      call.on('end', () => {
        end();
        call.end();
      });
      call.on('cancelled', end);
      call.on('error', end);
    },
    WatchEvents: (call) => {
      let vm: Vm;
      try {
        vm = manager.get(call.request.id);
      } catch (e) {
        call.emit('error', toStatus(e));
        return;
      }
      const send = (kind: string, detail: unknown) => call.write({ vmId: vm.id, kind, detailJson: JSON.stringify(detail), timeMs: Date.now() });
      const onState = (state: string, reason?: string) => send('state', { state, reason });
      const onEvent = (e: unknown) => send('event', e);
      vm.on('state', onState);
      vm.on('event', onEvent);
      send('state', { state: vm.state, reason: vm.exitReason });
      call.on('cancelled', () => {
        vm.off('state', onState);
        vm.off('event', onEvent);
      });
    },
    WatchDisplay: (call) => {
      let upstream: ReturnType<DisplayForwarding['watch']>;
      try {
        upstream = display.watch(manager.get(call.request.id), call.request.maxFps || 30);
      } catch (e) {
        call.emit('error', toStatus(e));
        return;
      }
      upstream.on('data', (frame) => call.write(frame));
      upstream.on('error', (e: grpc.ServiceError) => e.code !== grpc.status.CANCELLED && call.emit('error', toStatus(e)));
      upstream.on('end', () => call.end());
      call.on('cancelled', () => upstream.cancel());
    },
    MoveDevice: async (call, cb) => {
      const { id, device, address } = call.request;
      let vm: Vm;
      try {
        vm = manager.get(id);
      } catch (e) {
        return cb(toStatus(e));
      }
      try {
        const o = await vm.moveDevice(device, address);
        log.info({ vmId: id, ...o }, 'device moved');
        cb(null, { vm: vmMessage(vm, host), device: o.device, fromAddress: o.fromAddress, toAddress: o.toAddress, heldMs: o.heldMs, stateBytes: o.stateBytes });
      } catch (e) {
        log.warn({ vmId: id, device, address, err: (e as Error).message }, 'device move failed');
        cb({ code: grpc.status.FAILED_PRECONDITION, details: (e as Error).message });
      }
    },
    // Traffic comes from NATS; the gateway serves it.
    WatchTraffic: (call) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'device traffic is served by the gateway from NATS' }),
  };
}

export function createVmControlServer(manager: VmManager, log: Logger, host: string): grpc.Server {
  const server = new grpc.Server();
  server.addService(loadVmProto().quasivm.vm.v1.VmControl.service, vmControlHandlers(manager, log, host));
  return server;
}
