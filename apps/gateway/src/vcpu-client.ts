// A gRPC client for one vcpu service instance: the VmControl calls as promises,
// each with a deadline, errors turned into ApiErrors naming the instance.
import * as grpc from '@grpc/grpc-js';
import { loadVmProto, type VmControlClient } from '@quasivm/proto';
import { toApiError } from './errors.js';
import { ACTION_METHOD, type ConsoleStream, type CreateVmRequest, type DisplayStream, type EventStream, type ListVmsReply, type MoveDeviceReply, type MoveDeviceRequest, type ScreenTextReply, type ScreenshotReply, type SendKeysRequest, type Vm, type VmAction } from './proto-types.js';

const DEFAULT_DEADLINE_MS = 15_000;

export class VcpuClient {
  private readonly client: VmControlClient;

  constructor(
    readonly address: string,
    private readonly deadlineMs = DEFAULT_DEADLINE_MS,
  ) {
    const VmControl = loadVmProto().quasivm.vm.v1.VmControl;
    this.client = new VmControl(address, grpc.credentials.createInsecure());
  }

  private unary<R>(invoke: (options: grpc.CallOptions, cb: grpc.requestCallback<R>) => grpc.ClientUnaryCall): Promise<R> {
    return new Promise((resolve, reject) => {
      invoke({ deadline: Date.now() + this.deadlineMs }, (err, reply) => (err ? reject(toApiError(err, this.address)) : resolve(reply!)));
    });
  }

  create(req: CreateVmRequest): Promise<Vm> {
    return this.unary((o, cb) => this.client.CreateVm(req, o, cb));
  }

  action(action: VmAction, id: string): Promise<Vm> {
    const method = ACTION_METHOD[action];
    return this.unary((o, cb) => this.client[method]({ id }, o, cb));
  }

  get(id: string): Promise<Vm> {
    return this.unary((o, cb) => this.client.GetVm({ id }, o, cb));
  }

  async delete(id: string): Promise<void> {
    await this.unary((o, cb) => this.client.DeleteVm({ id }, o, cb));
  }

  list(deadlineMs = this.deadlineMs): Promise<ListVmsReply> {
    return new Promise((resolve, reject) => {
      this.client.ListVms({}, { deadline: Date.now() + deadlineMs }, (err, reply) => (err ? reject(toApiError(err, this.address)) : resolve(reply!)));
    });
  }

  screenshot(id: string): Promise<ScreenshotReply> {
    return this.unary((o, cb) => this.client.Screenshot({ id }, o, cb));
  }

  screenText(id: string): Promise<ScreenTextReply> {
    return this.unary((o, cb) => this.client.ScreenText({ id }, o, cb));
  }

  /** Moving a session waits for the device and two services: a longer deadline than other calls. */
  moveDevice(req: MoveDeviceRequest): Promise<MoveDeviceReply> {
    return new Promise((resolve, reject) => {
      this.client.MoveDevice(req, { deadline: Date.now() + Math.max(this.deadlineMs, 60_000) }, (err, reply) => (err ? reject(toApiError(err, this.address)) : resolve(reply!)));
    });
  }

  async sendKeys(req: SendKeysRequest): Promise<void> {
    await this.unary((o, cb) => this.client.SendKeys(req, o, cb));
  }

  /** Opens the serial console of VM `id`: write input bytes, read output chunks. */
  console(id: string): ConsoleStream {
    const stream = this.client.Console();
    stream.write({ id });
    return stream;
  }

  watchEvents(id: string): EventStream {
    return this.client.WatchEvents({ id });
  }

  /** The VM's screen: a full frame, then dirty rectangles, at most `maxFps` a second. */
  watchDisplay(id: string, maxFps: number): DisplayStream {
    return this.client.WatchDisplay({ id, maxFps });
  }

  close(): void {
    this.client.close();
  }
}
