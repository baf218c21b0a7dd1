// The VM control operations, independent of transport: HTTP, WebSocket and gRPC all call these.
import * as grpc from '@grpc/grpc-js';
import { ApiError, notFound } from './errors.js';
import type { ConsoleStream, CreateVmRequest, DisplayStream, EventStream, MoveDeviceReply, MoveDeviceRequest, ScreenTextReply, ScreenshotReply, SendKeysRequest, Vm, VmAction } from './proto-types.js';
import type { VcpuClient } from './vcpu-client.js';
import type { VcpuPool } from './vcpu-pool.js';

/** Vm messages name the vcpu instance by the address the gateway reaches it at. */
const placed = (vm: Vm, client: VcpuClient): Vm => ({ ...vm, vcpuHost: client.address });

export class VmService {
  constructor(private readonly pool: VcpuPool) {}

  async create(req: CreateVmRequest): Promise<Vm> {
    const client = await this.pool.leastLoaded();
    const vm = await client.create(req);
    this.pool.remember(vm.id, client);
    return placed(vm, client);
  }

  async list(): Promise<Vm[]> {
    const listings = await this.pool.survey();
    if (listings.every((l) => !l.vms)) throw new ApiError(grpc.status.UNAVAILABLE, `no vcpu instance is reachable: ${listings.map((l) => l.error).join('; ')}`);
    return listings.flatMap((l) => (l.vms ?? []).map((vm) => placed(vm, l.client)));
  }

  /** Runs `fn` against the instance hosting `id`; a NOT_FOUND from it means our location was stale. */
  private async onHost<T>(id: string, fn: (client: VcpuClient) => Promise<T>): Promise<T> {
    if (!id) throw new ApiError(grpc.status.INVALID_ARGUMENT, 'field "id": a VM id is required');
    const client = await this.pool.locate(id);
    try {
      return await fn(client);
    } catch (e) {
      if (e instanceof ApiError && e.code === grpc.status.NOT_FOUND) {
        this.pool.forget(id);
        throw notFound(id);
      }
      throw e;
    }
  }

  get(id: string): Promise<Vm> {
    return this.onHost(id, async (c) => placed(await c.get(id), c));
  }

  act(action: VmAction, id: string): Promise<Vm> {
    return this.onHost(id, async (c) => placed(await c.action(action, id), c));
  }

  async delete(id: string): Promise<void> {
    await this.onHost(id, (c) => c.delete(id));
    this.pool.forget(id);
  }

  screenshot(id: string): Promise<ScreenshotReply> {
    return this.onHost(id, (c) => c.screenshot(id));
  }

  screenText(id: string): Promise<ScreenTextReply> {
    return this.onHost(id, (c) => c.screenText(id));
  }

  /** Moves a running VM's device session to another service (VmControl.MoveDevice). */
  moveDevice(req: MoveDeviceRequest): Promise<MoveDeviceReply> {
    return this.onHost(req.id ?? '', async (c) => {
      const r = await c.moveDevice(req);
      return { ...r, vm: r.vm ? placed(r.vm, c) : r.vm };
    });
  }

  sendKeys(req: SendKeysRequest): Promise<void> {
    return this.onHost(req.id ?? '', (c) => c.sendKeys(req));
  }

  /** Checks that the VM exists (404 otherwise) before a stream to it is opened. */
  openConsole(id: string): Promise<ConsoleStream> {
    return this.onHost(id, async (c) => {
      await c.get(id);
      return c.console(id);
    });
  }

  watchEvents(id: string): Promise<EventStream> {
    return this.onHost(id, async (c) => {
      await c.get(id);
      return c.watchEvents(id);
    });
  }

  watchDisplay(id: string, maxFps: number): Promise<DisplayStream> {
    return this.onHost(id, async (c) => {
      await c.get(id);
      return c.watchDisplay(id, maxFps);
    });
  }
}
