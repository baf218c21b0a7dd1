// A VmControl client for the containerised stack: create a VM whose devices are other
// containers, start it, and wait for lines on its serial console. Talks to the gateway's
// gRPC port (bearer token) or straight to a vcpu service (no token).
import * as grpc from '@grpc/grpc-js';
import { loadVmProto, type VmControlClient } from '@quasivm/proto';

export interface BootSpec {
  name: string;
  firmware: string; // a path inside the vcpu container, or "seabios"
  backend: 'soft' | 'kvm' | 'auto';
  ramMib: number;
  devices: Array<{ device: string; address: string }>;
  disks?: Array<{ slot: string; image: string; readOnly?: boolean }>;
}

export interface SerialWait {
  vmId: string;
  /** ms since the call started at which each expected line was first seen, in order. */
  seenAtMs: number[];
  output: string;
}

const BACKENDS = { soft: 'CPU_BACKEND_SOFT', kvm: 'CPU_BACKEND_KVM', auto: 'CPU_BACKEND_AUTO' } as const;

export class VmClient {
  readonly client: VmControlClient;
  private readonly metadata = new grpc.Metadata();

  constructor(address: string, token?: string) {
    this.client = new (loadVmProto().quasivm.vm.v1.VmControl)(address, grpc.credentials.createInsecure());
    if (token) this.metadata.set('authorization', `Bearer ${token}`);
  }

  private unary<Res>(method: string, req: object): Promise<Res> {
    const fn = (this.client as unknown as Record<string, Function>)[method];
    return new Promise((resolve, reject) =>
      fn.call(this.client, req, this.metadata, { deadline: Date.now() + 30_000 }, (e: grpc.ServiceError | null, r: Res) => (e ? reject(e) : resolve(r))),
    );
  }

  /** Resolves once the API answers ListVms (the stack is ready for VMs). */
  async waitReady(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.unary('ListVms', {});
        return;
      } catch (e) {
        if (Date.now() > until) throw new Error(`VmControl not answering: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Creates and starts a VM, resolving when every `expect` line has appeared on its serial port. */
  async bootAndWait(spec: BootSpec, expect: string[], timeoutMs: number): Promise<SerialWait> {
    const t0 = performance.now();
    const vm = await this.unary<{ id: string; backend: string }>('CreateVm', { ...spec, backend: BACKENDS[spec.backend] });
    const console$ = this.client.Console(this.metadata);
    const seenAtMs: number[] = [];
    let output = '';
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms; serial so far: ${JSON.stringify(output)}`)), timeoutMs);
      console$.on('data', (m: { data: Buffer }) => {
        output += m.data.toString('latin1');
        while (seenAtMs.length < expect.length && output.includes(expect[seenAtMs.length])) seenAtMs.push(performance.now() - t0);
        if (seenAtMs.length === expect.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      console$.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    console$.write({ id: vm.id });
    await this.unary('StartVm', { id: vm.id });
    try {
      await done;
    } finally {
      console$.end();
      console$.cancel();
    }
    return { vmId: vm.id, seenAtMs, output };
  }

  /** The VM's text screen, row by row (from its VGA service, through the API). */
  async screenText(id: string): Promise<string[]> {
    return (await this.unary<{ rows: string[] }>('ScreenText', { id })).rows;
  }

  /** Moves the running VM's session of `device` to the service at `address`. */
  moveDevice(id: string, device: string, address: string): Promise<{ fromAddress: string; toAddress: string; heldMs: number; stateBytes: number }> {
    return this.unary('MoveDevice', { id, device, address });
  }

  /** Creates and starts a VM and keeps its serial output in `serial.text` until `serial.close()`. */
  async bootWithSerial(spec: BootSpec): Promise<{ vmId: string; serial: { text: string; close(): void } }> {
    const vm = await this.unary<{ id: string }>('CreateVm', { ...spec, backend: BACKENDS[spec.backend] });
    const console$ = this.client.Console(this.metadata);
    const serial = {
      text: '',
      close: () => {
        console$.end();
        console$.cancel();
      },
    };
    console$.on('data', (m: { data: Buffer }) => (serial.text += m.data.toString('latin1')));
    console$.on('error', () => undefined);
    console$.write({ id: vm.id });
    await this.unary('StartVm', { id: vm.id });
    return { vmId: vm.id, serial };
  }

  getVm(id: string): Promise<{ id: string; state: string; backend: string; exitReason: string }> {
    return this.unary('GetVm', { id });
  }

  async deleteVm(id: string): Promise<void> {
    await this.unary('StopVm', { id }).catch(() => undefined);
    await this.unary('DeleteVm', { id });
  }

  close(): void {
    this.client.close();
  }
}
