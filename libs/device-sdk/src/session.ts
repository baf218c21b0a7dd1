import { randomUUID } from 'node:crypto';
import type { DeviceDescription, DeviceFactory, DeviceHost, DeviceModel, GuestTimeNs } from './model.js';
import type { IoEvent__Input } from '@quasivm/proto';

/** Most stream-sent IRQ changes copied onto a fast lane ahead of a new one (beyond it, the stream is used until the vCPU catches up). */
const MAX_RESENT_IRQS = 64;
/** Most stream-sent IRQ changes kept for that. */
const MAX_TRACKED_IRQS = 4096;

/** Where a session sends device -> vCPU messages; the open Io stream, if any. */
export type EventSink = (event: IoEvent__Input) => void;

/**
 * One VM's instance of a device inside a device service: the model, its description
 * (for port checks) and the DeviceHost that turns the model's requests into stream events.
 * Events raised while no stream is open are queued and delivered when one opens.
 */
export class DeviceSession {
  readonly id = randomUUID();
  readonly model: DeviceModel;
  readonly description: DeviceDescription;
  private sink: EventSink | null = null;
  /**
   * Set while a vCPU thread that serves guest memory is blocked on this session's fast lane
   * waiting for a reply: guest-memory requests go there, and it answers them at once.
   */
  memoryLane: EventSink | null = null;
  /** Guest memory [0, n) the memory lane serves: writes inside it are posted there. */
  memoryLaneBytes = 0;
  /**
   * Set with memoryLane when that lane's vCPU thread applies IRQ line changes at once
   * (proto OpenStream.irqs_on_lane): changes made meanwhile go there.
   */
  irqLane: EventSink | null = null;
  /** The highest IrqLine.seq the vCPU said it applied (IoBatch.irq_seq_applied). */
  irqSeqApplied = 0;
  /** IrqLine.seq of the last line change sent. */
  private irqSeq = 0;
  /** Changes sent through the gRPC stream that the vCPU has not said it applied, oldest first. */
  private streamIrqs: Array<{ line: number; level: boolean; timeNs: number; seq: number }> = [];
  /** Changes up to this seq went through the stream without copies kept: the lane waits until all are applied. */
  private untracked = 0;
  /** Memory requests sent on a fast lane, not yet answered. */
  private readonly laneRequests = new Set<number>();
  private queued: IoEvent__Input[] = [];
  private nextMemoryRequest = 1;
  private pendingMemory = new Map<number, { resolve: (d: Uint8Array) => void; reject: (e: Error) => void }>();
  /** Guest time of the latest request: stamps device-initiated events. */
  lastTime: GuestTimeNs = 0;
  /** While a batch of operations is applied: the IRQ levels each line went through, sent once it is done. */
  private heldIrqs: Map<number, boolean[]> | null = null;
  /** Whether the vCPU was last told it may map a window as RAM (it may then hold bytes the device has not seen). */
  vcpuMapsWindows = false;
  private nextWindowSync = 1;
  private pendingWindowSyncs = new Map<number, () => void>();

  constructor(readonly vmId: string, factory: DeviceFactory, readonly config: Record<string, string>) {
    this.description = factory.describe(config);
    this.model = factory.create(this.host(), config);
  }

  /**
   * True when the access's first port is claimed. Like the ISA bus, decoding goes by the
   * start address: a 16-bit access to Bochs VBE's data port 0x1CF is the device's.
   */
  claimsPort(port: number, _size: number): boolean {
    return this.description.ports.some((r) => port >= r.base && port < r.base + r.length);
  }

  claimsMemory(addr: number, size: number): boolean {
    return this.description.memoryWindows.some((w) => addr >= w.base && addr + size <= w.base + w.length);
  }

  attachStream(sink: EventSink): void {
    this.sink = sink;
    const queued = this.queued;
    this.queued = [];
    for (const e of queued) sink(e);
  }

  detachStream(sink: EventSink): void {
    if (this.sink !== sink) return;
    this.sink = null;
    for (const p of this.pendingMemory.values()) p.reject(new Error('I/O stream closed'));
    this.pendingMemory.clear();
    for (const done of [...this.pendingWindowSyncs.values()]) done();
  }

  hasStream(): boolean {
    return this.sink !== null;
  }

  memoryReply(requestId: number, data: Uint8Array, error: string): void {
    const p = this.pendingMemory.get(requestId);
    if (!p) return;
    this.pendingMemory.delete(requestId);
    this.laneRequests.delete(requestId);
    if (error) p.reject(new Error(error));
    else p.resolve(data);
  }

  /**
   * Asks the vCPU for the bytes the guest wrote to direct windows and resolves once they
   * are applied (WindowSynced), so what follows (a screenshot, SaveState) sees the guest's
   * latest writes. Resolves at once when the vCPU maps no window or no stream is open, and
   * after `timeoutMs` when the vCPU does not answer (a paused worker, an older vCPU): a
   * screenshot is then as old as the last display-rate sync, never missing.
   */
  syncWindows(timeoutMs = 500): Promise<void> {
    if (!this.vcpuMapsWindows || !this.sink) return Promise.resolve();
    const requestId = this.nextWindowSync++;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pendingWindowSyncs.delete(requestId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.pendingWindowSyncs.set(requestId, done);
      this.send({ windowSync: { requestId } });
    });
  }

  /** The vCPU's WindowSynced: every MemorySync before it has been applied. */
  windowSynced(requestId: number): void {
    this.pendingWindowSyncs.get(requestId)?.();
  }

  /**
   * Applies a batch of operations (everything one message from the vCPU carried) with the
   * IRQ line changes it causes collapsed to at most two per line (sendHeldIrqs), so the final
   * level and the last edge stay as they were. A PIO command answered from a ReadAhead
   * comes back as one batch that pulses INTRQ once per sector; the vCPU would see them all
   * at once anyway, and an 8259 latches one edge as well as 128. Held changes are sent
   * before any reply, so they keep their order with the answers to reads.
   */
  applyBatch(fn: () => void): void {
    if (this.heldIrqs) return fn();
    this.heldIrqs = new Map();
    try {
      fn();
    } finally {
      this.sendHeldIrqs();
      this.heldIrqs = null;
    }
  }

  /** Sends the IRQ changes held so far (before a reply, so what happened before a read still arrives before its answer). */
  sendHeldIrqs(): void {
    const held = this.heldIrqs;
    if (!held?.size) return;
    // A line's changes alternate (a model sends a level only when it changes): an odd number of
    // them ends at the other level, reached by the last alone; an even number is a pulse, the last two.
    for (const [line, levels] of held) for (const level of levels.slice(levels.length % 2 ? -1 : -2)) this.sendIrq(line, level);
    held.clear();
  }

  /**
   * A line change, numbered. It takes the fast lane whose vCPU thread waits there, behind
   * copies of the changes the gRPC stream carried that the vCPU has not said it applied
   * (IrqLine.resent): the vCPU applies each number once, in order, whichever copy comes
   * first, so a change never overtakes an earlier one still on its way through the stream.
   */
  private sendIrq(line: number, level: boolean): void {
    const irq = { line, level, timeNs: this.lastTime, seq: ++this.irqSeq };
    const lane = this.irqLane;
    const unapplied = this.streamIrqs.filter((c) => c.seq > this.irqSeqApplied);
    if (lane && unapplied.length <= MAX_RESENT_IRQS && this.irqSeqApplied >= this.untracked) {
      for (const c of unapplied) lane({ irq: { ...c, resent: true } });
      this.streamIrqs = [];
      return lane({ irq });
    }
    this.streamIrqs = unapplied;
    this.streamIrqs.push(irq);
    if (this.streamIrqs.length > MAX_TRACKED_IRQS) {
      // A vCPU that stopped answering on its lane: stop keeping copies; the lane waits until it says it has them all.
      this.untracked = irq.seq;
      this.streamIrqs = [];
    }
    this.send({ irq });
  }

  /** A fast lane that carried memory requests closed: those not answered fail. */
  laneClosed(lane: EventSink): void {
    if (this.memoryLane === lane) this.memoryLane = null;
    if (this.irqLane === lane) this.irqLane = null;
    for (const [id, p] of [...this.pendingMemory]) {
      if (this.laneRequests.delete(id)) {
        this.pendingMemory.delete(id);
        p.reject(new Error('fast lane closed'));
      }
    }
  }

  private send(event: IoEvent__Input): void {
    if (this.sink) this.sink(event);
    else this.queued.push(event);
  }

  private requestMemory(addr: number, length: number, writeData?: Uint8Array): Promise<Uint8Array> {
    const lane = this.memoryLane;
    if (!this.sink && !lane) return Promise.reject(new Error('no I/O stream open: guest memory unreachable'));
    if (lane && writeData && addr + writeData.byteLength <= this.memoryLaneBytes) {
      // In order on the lane, before the answer the vCPU waits for: nothing to wait for here.
      lane({ memoryRequest: { requestId: 0, addr, length: writeData.byteLength, isWrite: true, posted: true, writeData: Buffer.from(writeData.buffer, writeData.byteOffset, writeData.byteLength) } });
      return Promise.resolve(new Uint8Array(0));
    }
    const requestId = this.nextMemoryRequest++;
    if (lane) this.laneRequests.add(requestId);
    return new Promise((resolve, reject) => {
      this.pendingMemory.set(requestId, { resolve, reject });
      (lane ?? ((e: IoEvent__Input) => this.send(e)))({
        memoryRequest: {
          requestId,
          addr,
          length,
          isWrite: writeData !== undefined,
          writeData: writeData ? Buffer.from(writeData.buffer, writeData.byteOffset, writeData.byteLength) : undefined,
        },
      });
    });
  }

  private host(): DeviceHost {
    return {
      setIrq: (line, level) => {
        if (!this.heldIrqs) return this.sendIrq(line, level);
        const levels = this.heldIrqs.get(line);
        if (levels) levels.push(level);
        else this.heldIrqs.set(line, [level]);
      },
      setIrqDeadline: (line, at, periodNs) =>
        this.send({ deadline: at === null ? { line, cancel: true } : { line, atNs: Math.round(at), periodNs: periodNs ?? 0 } }),
      readMemory: (addr, length) => this.requestMemory(addr, length),
      writeMemory: async (addr, data) => {
        await this.requestMemory(addr, data.byteLength, data);
      },
      emitEvent: (kind, detail) => this.send({ event: { kind, detailJson: JSON.stringify(detail) } }),
      claimsChanged: (ports, memoryWindows) => {
        this.description.ports = ports.map((p) => ({ ...p }));
        this.description.memoryWindows = memoryWindows.map((w) => ({ ...w }));
        this.send({ claimsChanged: { ports, memoryWindows } });
      },
    };
  }
}
