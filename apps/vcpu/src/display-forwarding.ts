import * as grpc from '@grpc/grpc-js';
import { loadDisplayProto, type DisplayClient, type DisplayFrame } from '@quasivm/proto';
import type { Vm } from './vm.js';

/**
 * Screenshots and screen text come from the VM's VGA device service (its Display API);
 * the vcpu knows which service that is from the VM spec and asks it on the user's behalf
 * (the frame stream is piped through as it comes).
 */
export class DisplayForwarding {
  private readonly clients = new Map<string, DisplayClient>();

  private client(vm: Vm): DisplayClient {
    const vga = vm.spec.devices?.find((d) => d.device === 'vga');
    if (!vga) throw new NoDisplayError(vm.id);
    let c = this.clients.get(vga.address);
    if (!c) {
      c = new (loadDisplayProto().quasivm.display.v1.Display)(vga.address, grpc.credentials.createInsecure());
      this.clients.set(vga.address, c);
    }
    return c;
  }

  screenshot(vm: Vm): Promise<{ png: Buffer; width: number; height: number }> {
    const c = this.client(vm);
    return new Promise((resolve, reject) => c.Screenshot({ vmId: vm.id }, { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r!))));
  }

  screenText(vm: Vm): Promise<{ rows: string[] }> {
    const c = this.client(vm);
    return new Promise((resolve, reject) => c.ScreenText({ vmId: vm.id }, { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r!))));
  }

  /** The VGA service's frame stream for the VM: a full frame, then dirty rectangles. */
  watch(vm: Vm, maxFps: number): grpc.ClientReadableStream<DisplayFrame> {
    return this.client(vm).Watch({ vmId: vm.id, maxFps });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
  }
}

export class NoDisplayError extends Error {
  constructor(vmId: string) {
    super(`VM ${vmId} has no VGA device, so it has no screen`);
    this.name = 'NoDisplayError';
  }
}
