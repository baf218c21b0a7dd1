import { randomUUID } from 'node:crypto';
import { TrafficTap, validSubjectToken } from '@quasivm/nats-tap';
import type { Logger } from '@quasivm/device-sdk';
import { Vm, type VmSpec, type RemoteDeviceSpec } from './vm.js';

export class VmNotFoundError extends Error {
  constructor(id: string) {
    super(`no VM with id ${JSON.stringify(id)}`);
    this.name = 'VmNotFoundError';
  }
}

export interface CreateVmOptions {
  id?: string;
  name?: string;
  ramMiB?: number;
  backend?: 'soft' | 'kvm' | 'auto';
  firmware?: string | Uint8Array;
  devices?: RemoteDeviceSpec[];
  realtime?: boolean;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
}

/** The VMs one vcpu service hosts, by id. */
export class VmManager {
  readonly vms = new Map<string, Vm>();

  constructor(
    private readonly log: Logger,
    private readonly natsUrl?: string,
  ) {}

  async create(o: CreateVmOptions): Promise<Vm> {
    const id = o.id || randomUUID().slice(0, 8);
    if (!validSubjectToken(id) || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new Error(`VM id ${JSON.stringify(id)} must be 1-64 letters, digits, '-' or '_'`);
    if (this.vms.has(id)) throw new Error(`a VM with id ${id} already exists`);
    const tap = this.natsUrl ? new TrafficTap({ servers: this.natsUrl, vmId: id, logger: this.log }).start() : undefined;
    const spec: VmSpec = { ...o, id, tap };
    try {
      const vm = await Vm.create(spec);
      this.vms.set(id, vm);
      vm.on('state', (state: string, reason?: string) => this.log.info({ vmId: id, state, reason }, 'VM state'));
      vm.on('device-error', (e: { device: string; message: string }) => this.log.warn({ vmId: id, ...e }, 'device error'));
      return vm;
    } catch (e) {
      await tap?.close();
      throw e;
    }
  }

  get(id: string): Vm {
    const vm = this.vms.get(id);
    if (!vm) throw new VmNotFoundError(id);
    return vm;
  }

  async delete(id: string): Promise<void> {
    const vm = this.get(id);
    await vm.stop();
    await vm.spec.tap?.close();
    this.vms.delete(id);
  }

  async shutdown(): Promise<void> {
    for (const id of [...this.vms.keys()]) await this.delete(id).catch(() => undefined);
  }
}
