// A running stack with a screen: NATS, the remote VGA service, a vcpu service publishing to
// NATS and the gateway in front; VMs run the vga-echo guest on the soft CPU.
import { PNG } from 'pngjs';
import { startNatsServer, type NatsServer, type ServiceProcess } from '@quasivm/testing';
import { guestImages } from './guests.js';
import { startGatewayProcess, startVcpu, startVga, type GatewayProcess } from './processes.js';

export interface ScreenStack {
  nats: NatsServer;
  vga: ServiceProcess;
  vcpu: ServiceProcess;
  gw: GatewayProcess;
  /** CreateVm body (HTTP JSON) for a vga-echo VM with the remote VGA. */
  spec(name: string): { name: string; ramMib: number; backend: string; firmware: string; devices: Array<{ device: string; address: string }> };
  stop(): Promise<void>;
}

export async function startScreenStack(): Promise<ScreenStack> {
  const [nats, vga] = await Promise.all([startNatsServer(), startVga()]);
  const vcpu = await startVcpu({ nats: nats.url });
  const gw = await startGatewayProcess({ vcpus: [vcpu.address], args: ['--nats', nats.url] });
  return {
    nats,
    vga,
    vcpu,
    gw,
    spec: (name) => ({ name, ramMib: 2, backend: 'soft', firmware: guestImages['vga-echo'], devices: [{ device: 'vga', address: vga.address }] }),
    stop: async () => {
      await gw.stop();
      await Promise.all([vcpu.stop('SIGKILL'), vga.stop('SIGKILL')]);
      await nats.stop();
    },
  };
}

/** Rows of the 9x16 text cells of a 720x400 text-mode picture holding lit (light) pixels. */
export function litCells(png: PNG, row: number, fromCol: number, toCol: number): number {
  let cells = 0;
  for (let col = fromCol; col < toCol; col++) {
    let lit = 0;
    for (let y = row * 16; y < row * 16 + 16; y++)
      for (let x = col * 9; x < col * 9 + 9; x++) {
        const i = (y * png.width + x) * 4;
        if (png.data[i] > 0x80 && png.data[i + 1] > 0x80) lit++;
      }
    if (lit > 0) cells++;
  }
  return cells;
}
