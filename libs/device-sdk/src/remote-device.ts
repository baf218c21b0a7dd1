import * as grpc from '@grpc/grpc-js';
import { loadDeviceProto, type DeviceClient, type IoEvent, type IoOp__Input, type IoRequest__Input } from '@quasivm/proto';
import type { AccessSize, DeviceDescription, DeviceState, GuestTimeNs } from './model.js';

/** What a remote device tells the vCPU side (the device -> vCPU half of the stream). */
export interface RemoteDeviceEvents {
  /** `seq`: the change's number in session `sessionId` (proto IrqLine.seq; 0 from an older device). */
  onIrq?(line: number, level: boolean, timeNs: number, seq: number, sessionId: string): void;
  onIrqDeadline?(line: number, atNs: number | null, periodNs: number): void;
  /** Serve a device's DMA / memory request from guest memory. */
  onMemoryRead?(addr: number, length: number): Uint8Array | Promise<Uint8Array>;
  onMemoryWrite?(addr: number, data: Uint8Array): void | Promise<void>;
  onEvent?(kind: string, detail: unknown): void;
  /** The device decodes other ports / memory now (after a BAR move). `description` is already updated. */
  onClaimsChanged?(ports: Array<{ base: number; length: number }>, memoryWindows: Array<{ base: number; length: number }>): void;
  /**
   * The device asks for the bytes the guest wrote to its direct windows (before a
   * screenshot or SaveState): send them, then WindowSynced with `requestId`, on the channel
   * MemorySync travels. Without a handler the request is answered at once (nothing mapped).
   */
  onWindowSync?(requestId: number): void;
  /** A request the device refused (bad port, oversized string...), or the stream failing. */
  onError?(error: RemoteDeviceError): void;
}

export class RemoteDeviceError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'RemoteDeviceError';
  }
}

interface Pending {
  resolve(v: number | Uint8Array): void;
  reject(e: Error): void;
}

/** Opens a gRPC client to a device service at `address` (host:port or unix:/path). */
export function deviceClient(address: string): DeviceClient {
  const proto = loadDeviceProto();
  return new proto.quasivm.device.v1.Device(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 << 20,
  });
}

function unary<Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res as Res))));
}

/**
 * The vCPU-side stand-in for a device that lives in another process. To the bus it looks
 * like a local model: reads answer a value (as a promise), writes are posted (queued and
 * sent in one batch with whatever else this turn of the event loop produced, and always
 * before a later read, so order is kept), save/restore are calls.
 */
export class RemoteDevice {
  sessionId = '';
  description: DeviceDescription | null = null;
  /** The service's fast lane for this session (same host only), or '' when not offered. */
  fastLanePath = '';
  private stream: grpc.ClientDuplexStream<IoRequest__Input, IoEvent> | null = null;
  private batch: IoOp__Input[] = [];
  private flushScheduled = false;
  private nextSeq = 1;
  private pending = new Map<number, Pending>();
  private closed = false;

  constructor(readonly client: DeviceClient, readonly events: RemoteDeviceEvents = {}) {}

  static async connect(address: string, vmId: string, config: Record<string, string>, events: RemoteDeviceEvents = {}): Promise<RemoteDevice> {
    const dev = new RemoteDevice(deviceClient(address), events);
    await dev.attach(vmId, config);
    return dev;
  }

  async attach(vmId: string, config: Record<string, string>): Promise<void> {
    const res = await unary(this.client.Attach.bind(this.client), { vmId, config });
    this.sessionId = res.sessionId;
    this.fastLanePath = res.fastLanePath ?? '';
    const d = res.description!;
    this.description = {
      name: d.name,
      version: d.version,
      ports: d.ports.map((p) => ({ base: p.base, length: p.length })),
      irqs: [...d.irqs],
      memoryWindows: d.memoryWindows.map((w) => ({ base: Number(w.base), length: Number(w.length) })),
      pciFunctions: d.pciFunctions.map((f) => ({ device: f.device, function: f.function })),
      windowModePorts: (d.windowModePorts ?? []).map((p) => ({ base: p.base, length: p.length })),
    };
    await this.openStream();
  }

  /** (Re)opens the I/O stream of the current session, e.g. after LoadState on a new replica. */
  openStream(): Promise<void> {
    this.stream?.end();
    const stream = this.client.Io();
    this.stream = stream;
    return new Promise((resolve, reject) => {
      let opened = false;
      stream.on('data', (e: IoEvent) => {
        if (e.opened) {
          opened = true;
          resolve();
          return;
        }
        this.onEvent(e);
      });
      stream.on('error', (err: grpc.ServiceError) => {
        if (!opened) reject(new RemoteDeviceError(err.code, err.details || err.message));
        this.failAll(new RemoteDeviceError(err.code, err.details || err.message));
      });
      stream.on('end', () => this.failAll(new RemoteDeviceError(grpc.status.UNAVAILABLE, 'device stream ended')));
      stream.write({ open: { sessionId: this.sessionId } });
    });
  }

  ioRead(port: number, size: AccessSize, now: GuestTimeNs): Promise<number> {
    const seq = this.nextSeq++;
    return this.request(seq, { timeNs: now, port, size, read: { seq } }) as Promise<number>;
  }

  ioWrite(port: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    this.post({ timeNs: now, port, size, write: { value: value >>> 0 } });
  }

  ioReadString(port: number, size: AccessSize, count: number, now: GuestTimeNs): Promise<Uint8Array> {
    const seq = this.nextSeq++;
    return this.request(seq, { timeNs: now, port, size, readString: { seq, count } }) as Promise<Uint8Array>;
  }

  ioWriteString(port: number, size: AccessSize, data: Uint8Array, now: GuestTimeNs): void {
    this.post({ timeNs: now, port, size, writeString: { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } });
  }

  memRead(addr: number, size: AccessSize, now: GuestTimeNs): Promise<number> {
    const seq = this.nextSeq++;
    return this.request(seq, { timeNs: now, size, memRead: { seq, addr } }) as Promise<number>;
  }

  memWrite(addr: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    this.post({ timeNs: now, size, memWrite: { addr, value: value >>> 0 } });
  }

  pciConfigRead(fn: number, offset: number, size: AccessSize, now: GuestTimeNs): Promise<number> {
    const seq = this.nextSeq++;
    return this.request(seq, { timeNs: now, size, pciConfigRead: { seq, function: fn, offset } }) as Promise<number>;
  }

  pciConfigWrite(fn: number, offset: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    this.post({ timeNs: now, size, pciConfigWrite: { function: fn, offset, value: value >>> 0 } });
  }

  /** Resolves once the service has applied everything sent on the stream before it (proto Barrier). */
  async barrier(): Promise<void> {
    const seq = this.nextSeq++;
    await this.request(seq, { timeNs: 0, size: 1, barrier: { seq } });
  }

  async saveState(): Promise<DeviceState> {
    this.flush();
    const blob = await unary(this.client.SaveState.bind(this.client), { sessionId: this.sessionId });
    return JSON.parse(Buffer.from(blob.stateJson).toString('utf8')) as DeviceState;
  }

  async loadState(state: DeviceState): Promise<void> {
    this.flush();
    await unary(this.client.LoadState.bind(this.client), {
      sessionId: this.sessionId,
      state: { device: state.device, version: state.version, stateJson: Buffer.from(JSON.stringify(state)) },
    });
  }

  async detach(): Promise<void> {
    this.flush();
    this.closed = true;
    this.stream?.end();
    this.stream = null;
    await unary(this.client.Detach.bind(this.client), { sessionId: this.sessionId });
  }

  close(): void {
    this.closed = true;
    this.stream?.end();
    this.client.close();
  }

  /** Sends queued posted writes now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0 || !this.stream) return;
    const ops = this.batch;
    this.batch = [];
    this.stream.write({ batch: { ops } });
  }

  private post(op: IoOp__Input): void {
    this.batch.push(op);
    if (this.batch.length >= 512) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private request(seq: number, op: IoOp__Input): Promise<number | Uint8Array> {
    if (this.closed || !this.stream) return Promise.reject(new RemoteDeviceError(grpc.status.UNAVAILABLE, 'device not connected'));
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.batch.push(op);
      this.flush();
    });
  }

  private onEvent(e: IoEvent): void {
    if (e.readReply) {
      const r = e.readReply;
      const p = this.pending.get(r.seq);
      if (!p) return;
      this.pending.delete(r.seq);
      p.resolve(r.data && r.data.byteLength > 0 ? new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength) : r.value);
    } else if (e.irq) {
      this.events.onIrq?.(e.irq.line, e.irq.level, e.irq.timeNs, Number(e.irq.seq ?? 0), this.sessionId);
    } else if (e.deadline) {
      const d = e.deadline;
      this.events.onIrqDeadline?.(d.line, d.cancel ? null : d.atNs, d.periodNs);
    } else if (e.memoryRequest) {
      void this.serveMemory(e.memoryRequest.requestId, e.memoryRequest.addr, e.memoryRequest.length, e.memoryRequest.isWrite ? e.memoryRequest.writeData : null);
    } else if (e.event) {
      let detail: unknown = e.event.detailJson;
      try {
        detail = JSON.parse(e.event.detailJson);
      } catch {
        /* keep the raw text */
      }
      this.events.onEvent?.(e.event.kind, detail);
    } else if (e.claimsChanged) {
      const ports = e.claimsChanged.ports.map((p) => ({ base: p.base, length: p.length }));
      const windows = e.claimsChanged.memoryWindows.map((w) => ({ base: Number(w.base), length: Number(w.length) }));
      if (this.description) {
        this.description.ports = ports;
        this.description.memoryWindows = windows;
      }
      this.events.onClaimsChanged?.(ports, windows);
    } else if (e.windowSync) {
      if (this.events.onWindowSync) this.events.onWindowSync(e.windowSync.requestId);
      else this.post({ timeNs: 0, size: 1, windowSynced: { requestId: e.windowSync.requestId } });
    } else if (e.error) {
      const err = new RemoteDeviceError(e.error.code, e.error.message);
      const p = e.error.seq ? this.pending.get(e.error.seq) : undefined;
      if (p) {
        this.pending.delete(e.error.seq);
        p.reject(err);
      }
      this.events.onError?.(err);
    }
  }

  private async serveMemory(requestId: number, addr: number, length: number, writeData: Buffer | null): Promise<void> {
    try {
      if (writeData) {
        if (!this.events.onMemoryWrite) throw new Error('this vCPU does not serve guest memory writes');
        await this.events.onMemoryWrite(addr, new Uint8Array(writeData.buffer, writeData.byteOffset, writeData.byteLength));
        this.stream?.write({ memoryReply: { requestId } });
      } else {
        if (!this.events.onMemoryRead) throw new Error('this vCPU does not serve guest memory reads');
        const data = await this.events.onMemoryRead(addr, length);
        this.stream?.write({ memoryReply: { requestId, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } });
      }
    } catch (e) {
      this.stream?.write({ memoryReply: { requestId, error: (e as Error).message } });
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (!this.closed) this.events.onError?.(err as RemoteDeviceError);
  }
}
