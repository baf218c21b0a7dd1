import { allOnes, BlockingFastLane, DATA_OUT_BUFFER_BYTES, LocalDma, LocalForecast, LocalStatusForecast, sessionTag, type AccessSize, type GuestTimeNs, type LaneGuestMemory, type LaneIrqs, type PortForecast } from '@quasivm/device-sdk';
import { CommandsAhead, deviceControlKeepsAhead } from './commands-ahead.js';
import { DmaAsks } from './dma-asks.js';
import { SharedRing } from './shared-ring.js';
import { createGateBuffer, DeviceGates, GateState, type LaneTarget } from './device-gates.js';

/**
 * Port I/O from the CPU thread to devices served by other processes. The CPU thread
 * cannot await a gRPC reply, so it hands each access to the main thread through a
 * SharedRing: writes are posted (the CPU goes on), reads block the CPU thread with
 * Atomics.wait until the main thread has the device's answer. Order is kept because
 * one ring carries both, and the main thread applies them in ring order.
 */
export const enum BridgeOp {
  Write = 1,
  Read = 2,
  ReadString = 3,
  WriteString = 4,
  MemRead = 5,
  MemWrite = 6,
  PciConfigRead = 7,
  PciConfigWrite = 8,
  /** The CPU thread holds the device (DeviceGates): everything before this record is the device's. */
  Held = 9,
}

const TWO32 = 0x1_0000_0000;
/** The ATA Device register's offset in the command block. */
const ATA_DEVICE_OFFSET = 6;

/** The rings one bridge needs; created on the main thread, shared with the CPU thread. */
export interface BridgeBuffers {
  requests: SharedArrayBuffer;
  replies: SharedArrayBuffer;
  /** DeviceGates: where a device being moved to another service holds its I/O. */
  gates?: SharedArrayBuffer;
}

export function createBridgeBuffers(requestWords = 1 << 18, replyWords = 1 << 17): BridgeBuffers {
  return { requests: SharedRing.create(requestWords).buffer, replies: SharedRing.create(replyWords).buffer, gates: createGateBuffer() };
}

/** Packs bytes into 32-bit words (little-endian), the last one zero-padded. */
export function bytesToWords(data: Uint8Array): Int32Array {
  const words = new Int32Array(Math.ceil(data.byteLength / 4));
  new Uint8Array(words.buffer).set(data);
  return words;
}

/** CPU-thread side: looks like a local device model to the bus, but blocks on reads. */
export class RemoteIoProxy {
  private readonly requests: SharedRing;
  private readonly replies: SharedRing;
  /** Time the CPU thread spent blocked on remote reads, in ms (for the user and benches). */
  blockedMs = 0;

  /** The device service's fast lane, when it offers one on this host: then every access goes there. */
  private lane: BlockingFastLane | null;
  private readonly gates: DeviceGates | null;
  /**
   * A PIO data phase the device offered with a read's reply (proto ReadAhead/WriteAhead),
   * served here: data and status reads without a round trip each, reported to the device
   * as Consumed in order with everything else. Any other access ends it.
   */
  private ahead: LocalAhead | null = null;
  /** Reads of a port the device forecast (proto CounterForecast, StatusForecast), answered here until any other access. */
  private forecast: PortForecast | null = null;
  /** Commands the device predicted the guest issues next (proto CommandAhead), from the last read's reply. */
  private readonly commands = new CommandsAhead();
  /** DMA commands the device predicted (proto CommandAhead.dma), followed and carried out here until anything else happens. */
  private dma: LocalDma | null = null;
  /** Predicted DMA commands carried out on this thread (proto DmaServed). */
  dmaServed = 0;
  /** The DmaMore requests in flight for `asks.dma`, whose replies are taken as it runs out. */
  private asks: DmaAsks | null = null;
  /** The bus master's command port of `dma` (where DmaMore requests go). */
  private dmaPort = 0;
  /** DmaMore requests sent (the vCPU did not wait for them unless it ran out first). */
  dmaMoreAsked = 0;
  /** Bytes of DMA commands served since the lane was last drained (a DmaMore's reply read as it comes). */
  private dmaDrained = 0;
  /** Bytes of DMA commands served since the lane was last flushed. */
  private dmaPostedBytes = 0;
  /**
   * Guest memory the device would ask for after certain writes (proto MemoryHint), from the
   * last read's reply: sent with such a write (MemorySnapshot) when this thread serves memory.
   */
  private hints: Array<{ port: number; mask: number; addr: number; length: number; gatherMax: number; gatherUnless: number }> = [];
  /** Reads answered from an offer, and requests that waited for the device (for the user and benches). */
  aheadReads = 0;
  /** Memory snapshots sent with writes the device named (proto MemorySnapshot). */
  memorySnapshots = 0;
  roundTrips = 0;
  /** The device moved its ports (answer to a PCI config write): the machine routes them at once. */
  onClaimsChanged: ((ports: Array<{ base: number; length: number }>, windows: Array<{ base: number; length: number }>) => void) | null = null;

  /**
   * `memory`: guest RAM this thread serves to the device's DMA on the fast lane; `irqs`: where
   * IRQ line changes that come on the lane go (see BlockingFastLane).
   */
  constructor(
    buffers: BridgeBuffers,
    readonly deviceIndex: number,
    fastLane?: { path: string; sessionId: string },
    private readonly memory?: LaneGuestMemory,
    private readonly irqs?: LaneIrqs,
  ) {
    this.requests = new SharedRing(buffers.requests);
    this.replies = new SharedRing(buffers.replies);
    this.lane = fastLane ? new BlockingFastLane(fastLane.path, fastLane.sessionId, memory, irqs) : null;
    this.gates = buffers.gates ? new DeviceGates(buffers.gates) : null;
  }

  /**
   * Takes a hold the main thread asked for (DeviceGates): drops any offer, waits until the
   * device has applied everything sent on the fast lane (Barrier), marks the hold in the
   * bridge ring behind every earlier request, and from then on accesses wait. Called
   * between slices (Control.HoldDevice) and at the device's next access, whichever is first.
   */
  holdIfAsked(now: GuestTimeNs): void {
    if (!this.gates || this.gates.state(this.deviceIndex) !== GateState.HoldAsked) return;
    this.ahead = null;
    this.dropDma();
    this.commands.clear();
    try {
      if (this.lane) this.laneRequest((seq) => ({ timeNs: now, size: 1, barrier: { seq } }));
    } catch {
      // A lane that failed has nothing in flight: the main thread's SaveState tells whether the session lives.
    }
    this.gates.held(this.deviceIndex);
    this.requests.pushBlocking(this.header(BridgeOp.Held, 0, 1, now));
  }

  /** Every access passes here: it waits while the device is held, and follows it when it moved. */
  private pass(now: GuestTimeNs): void {
    const g = this.gates;
    if (!g) return;
    const s = g.state(this.deviceIndex);
    if (s === GateState.Open) return;
    if (s === GateState.HoldAsked) this.holdIfAsked(now);
    const t0 = performance.now();
    const r = g.waitWhileHeld(this.deviceIndex);
    this.blockedMs += performance.now() - t0;
    if (r.moved) this.follow(r.lane);
  }

  /** The session lives elsewhere now: its fast lane, or the bridge (the main thread's new client). */
  private follow(target: LaneTarget): void {
    this.dropDma();
    this.lane?.close();
    this.lane = null;
    this.ahead = null;
    this.commands.clear();
    this.hints = [];
    if (!target) return;
    try {
      this.lane = new BlockingFastLane(target.path, target.sessionId, this.memory, this.irqs);
    } catch {
      this.lane = null; // the gRPC stream through the main thread still reaches the session
    }
  }

  /**
   * IRQ change `seq` of the session `tag` names (sessionTag) came through the gRPC stream:
   * whether to apply it (false: its copy came on the fast lane first, proto IrqLine.resent).
   */
  takeStreamIrq(seq: number, tag: number): boolean {
    const lane = this.lane;
    if (!lane || sessionTag(lane.sessionId) !== tag) return true;
    if (seq <= lane.irqSeqApplied) return false;
    lane.irqSeqApplied = seq;
    return true;
  }

  /** The session's fast lane, or null when accesses go through the main thread. */
  get fastLane(): BlockingFastLane | null {
    return this.lane;
  }

  /** Sends posted writes now (the CPU thread calls this when it stops running guest code). */
  flush(): void {
    this.dmaPostedBytes = 0;
    this.lane?.flush();
  }

  close(): void {
    this.lane?.close();
  }

  /** A request the thread waits for on the fast lane, counted and timed for the user. */
  private laneRequest(make: (seq: number) => Parameters<BlockingFastLane['post']>[0]): ReturnType<BlockingFastLane['request']> {
    const t0 = performance.now();
    this.roundTrips++;
    this.dmaPostedBytes = 0; // the batch leaves with the request
    const e = this.lane!.request(make);
    this.blockedMs += performance.now() - t0;
    return e;
  }

  private laneRead(make: (seq: number) => Parameters<BlockingFastLane['post']>[0], ones: number): number {
    const e = this.laneRequest(make);
    return e.readReply ? e.readReply.value >>> 0 : ones;
  }

  /** A port read served from the current offer, or null when it must go to the device (the offer then ends). */
  private aheadRead(port: number, size: AccessSize, now: GuestTimeNs): number | null {
    const a = this.ahead!;
    if (port === a.dataPort && a.data && (size === 2 || size === 4) && a.pos + size <= a.data.length) {
      const d = a.data;
      const p = a.pos;
      a.pos += size;
      this.lane!.postConsumed(port, size, 1, now);
      this.aheadReads++;
      return size === 2 ? d[p] | (d[p + 1] << 8) : (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24)) >>> 0;
    }
    const left = a.data ? a.pos < a.data.length : a.written < a.length;
    if ((port === a.statusPort || port === a.altStatusPort) && size === 1 && (left || a.complete)) {
      // Status has a side effect (it clears the device's pending interrupt); Alternate Status has none.
      if (port === a.statusPort) this.lane!.postConsumed(port, 1, 1, now);
      this.aheadReads++;
      return left ? a.statusDuring : a.statusAfter;
    }
    // The Device register once the phase is over (SeaBIOS reads it before selecting the drive).
    if (a.deviceAfter !== undefined && a.registers && port === a.registers.base + ATA_DEVICE_OFFSET && size === 1 && a.complete && !left) {
      this.lane!.postConsumed(port, 1, 1, now);
      this.aheadReads++;
      return a.deviceAfter;
    }
    this.ahead = null;
    return null;
  }

  /** Posts the guest memory a hint names for this write (before it), as it is now. */
  private snapshotFor(port: number, value: number, now: GuestTimeNs): void {
    for (const h of this.hints) {
      if (h.port !== port || !(value & h.mask) || h.length <= 0) continue;
      let data: Uint8Array;
      try {
        data = this.memory!.read(h.addr, h.length);
      } catch {
        continue; // outside RAM: the device asks, and hears why
      }
      this.memorySnapshots++;
      this.lane!.post({ timeNs: now, port, size: 1, memorySnapshot: { addr: h.addr, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } });
      if (h.gatherMax > 0 && !(value & h.gatherUnless)) this.gatherFor(port, data, h.gatherMax, now);
    }
  }

  /** The regions a PRD table snapshot describes (proto MemoryHint.gather_max), each posted as it is now. */
  private gatherFor(port: number, table: Uint8Array, max: number, now: GuestTimeNs): void {
    const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
    let total = 0;
    for (let i = 0; i + 8 <= table.byteLength; i += 8) {
      const addr = view.getUint32(i, true) & ~1;
      const flags = view.getUint32(i + 4, true);
      const length = flags & 0xfffe || 0x10000;
      if (total + length > max) return;
      let data: Uint8Array;
      try {
        // The buffers as they are (no copy): the batch leaves before the device can start (LaneGuestMemory.view).
        data = this.memory!.view ? this.memory!.view(addr >>> 0, length) : this.memory!.read(addr >>> 0, length);
      } catch {
        return; // outside RAM: the device asks for the rest, and hears why
      }
      total += length;
      this.memorySnapshots++;
      this.lane!.post({ timeNs: now, port, size: 1, memorySnapshot: { addr: addr >>> 0, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } });
      if (flags & 0x8000_0000) return;
    }
  }

  /** Takes the offer a read's reply carries, if any, and the commands it predicts after it. */
  private takeAhead(e: ReturnType<BlockingFastLane['request']>, now: GuestTimeNs): void {
    const r = e.readReply;
    this.forecast = LocalForecast.from(r?.counterForecast) ?? LocalStatusForecast.from(r?.statusForecast);
    const offer = localAhead(r?.readAhead, r?.writeAhead);
    if (offer) this.ahead = offer;
    this.commands.load(r?.commandsAhead);
    const dmas = r?.commandsAhead.filter((c) => c.dma) ?? [];
    this.dropDma();
    this.dma = this.memory && dmas.length ? LocalDma.from(r?.dmaChannel, dmaCommands(dmas), r?.dmaAheadData) : null;
    if (!this.dma) return;
    // The drive's Status until the next command comes with the DMA predictions (DmaChannel.status).
    this.ahead = null;
    // The run's next predictions asked for now, while the guest starts on these (the device is
    // still right after the command that completed): they come one after another behind this reply.
    const first = dmas[0].dma!;
    this.dmaPort = r!.dmaChannel!.busMasterBase;
    this.asks = DMA_AHEAD ? DmaAsks.for(this.dma, first.toMemory, first.byteLength) : null;
    if (this.askDmaMore(now)) this.lane!.flush();
  }

  /** Posts the DmaMore requests due (right after a command completed); how many. */
  private askDmaMore(now: GuestTimeNs): number {
    const a = this.asks;
    const lane = this.lane;
    if (!a || !lane || a.dma !== this.dma) return 0;
    const n = a.ask((skip) => lane.requestAhead((seq) => ({ timeNs: now, port: this.dmaPort, size: 1, dmaMore: { seq, skip, maxBytes: a.maxBytes } }), false));
    this.dmaMoreAsked += n;
    return n;
  }

  /**
   * The START write that begins a predicted DMA command, carried out here (LocalDma.serve): the
   * table and (to the drive) the buffers it used are posted as MemorySnapshots, then the write
   * as DmaServed, and sent at once (the buffers are views of guest RAM). False: not served.
   */
  private serveDma(port: number, size: AccessSize, value: number, now: GuestTimeNs): boolean {
    const served = this.dma!.serve(this.memory!, value);
    if (!served) return false;
    const lane = this.lane!;
    const snapshot = (addr: number, data: Uint8Array) => {
      this.memorySnapshots++;
      lane.post({ timeNs: now, port, size: 1, memorySnapshot: { addr, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } });
    };
    snapshot(served.table.addr, served.table.data);
    // Copied (the guest may change its buffers before the batch leaves) into the lane's reused data-out buffer.
    for (const r of served.regions) snapshot(r.addr, lane.copyOut(r.data));
    // The reply those bytes came in is done with (copied into guest RAM): its buffer takes a later one.
    if (served.dataDone) lane.recycle(served.dataDone);
    lane.post({ timeNs: now, port, size, dmaServed: { value: value >>> 0, byteLength: served.byteLength } });
    this.dmaServed++;
    // The predictions after those held and asked for, asked for now: they ride with the batch
    // (DmaAsks keeps them far enough ahead that its flush is soon enough).
    this.askDmaMore(now);
    // Nothing waits for the device here: the batch goes with the slice's flush or the next request,
    // or once it holds DMA_FLUSH_BYTES of writes' buffers (the lane's copy buffer is reused after a
    // flush) or DMA_READ_FLUSH_BYTES of reads. Each batch costs the device an IRQ pulse on the gRPC
    // stream (the changes its commands make, collapsed): reads, which post little, go in large ones.
    this.dmaPostedBytes += served.byteLength;
    if (this.dmaPostedBytes >= (served.regions.length ? DMA_FLUSH_BYTES : DMA_READ_FLUSH_BYTES)) this.flush();
    // The DmaMore reply (up to 8 MiB) taken in as it comes, so it is there when these run out
    // (the device writes the rest as the socket drains); a look (FIONREAD, ~2 us) per 512 KiB served.
    this.dmaDrained += served.byteLength;
    if (this.asks && this.dmaDrained >= DRAIN_EVERY_BYTES) {
      this.dmaDrained = 0;
      lane.drain();
    }
    return true;
  }

  /** Forgets the DMA predictions and the DmaMore requests asked for them. */
  private dropDma(): void {
    this.dma = null;
    this.forgetAsks();
  }

  private forgetAsks(): void {
    for (const seq of this.asks?.stop() ?? []) this.lane?.forget(seq);
    this.asks = null;
  }

  /**
   * The next reply to the DmaMore requests asked for `dma`, added to it when it is still the one
   * they extend and has none left to issue (waiting for the reply if it has not come), or all of
   * them dropped. A reply with fewer commands than asked (or none) ends the asks until a read's
   * reply brings new predictions.
   */
  private takeDmaMore(): void {
    const a = this.asks!;
    if (!this.lane || a.dma !== this.dma) return this.forgetAsks();
    const next = a.due();
    if (!next) return;
    const t0 = performance.now();
    const e = this.lane.reply(next.seq);
    this.blockedMs += performance.now() - t0;
    const r = e.readReply;
    const dmas = r?.commandsAhead.filter((c) => c.dma) ?? [];
    const extended = dmas.length > 0 && a.dma.extend(dmaCommands(dmas), r?.dmaAheadData);
    if (!extended || dmas.length !== next.count) for (const seq of a.stop()) this.lane.forget(seq);
  }

  private header(op: BridgeOp, port: number, size: number, now: GuestTimeNs): number[] {
    return [op, this.deviceIndex, port, size, now % TWO32 | 0, Math.floor(now / TWO32)];
  }

  private awaitReply(): Int32Array {
    let rec: Int32Array | null;
    const t0 = performance.now();
    while ((rec = this.replies.pop()) === null) this.replies.waitForData(1000);
    this.blockedMs += performance.now() - t0;
    return rec;
  }

  /**
   * A write: it continues a data-out offer when it is the data the device expects; a Device
   * Control write (`value` known) that does not reset keeps it (deviceControlKeepsAhead).
   * Anything else at the registers ends it.
   */
  private aheadWrite(port: number, size: AccessSize, bytes: number, value?: number): void {
    const a = this.ahead!;
    if (a.data === null && port === a.dataPort && size !== 1 && a.written + bytes <= a.length) a.written += bytes;
    else if (port === a.altStatusPort && a.registers && value !== undefined && deviceControlKeepsAhead(size, value)) return;
    else if (!a.registers || port === a.altStatusPort || (port >= a.registers.base && port < a.registers.base + a.registers.length)) this.ahead = null;
  }

  ioWrite(port: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    this.pass(now);
    this.forecast = null;
    if (this.asks) this.takeDmaMore();
    if (this.dma && this.lane) {
      const r = this.dma.write(port, size, value);
      if (r === 'start' && this.serveDma(port, size, value, now)) return;
      if (r !== 'post') this.dma = null;
    }
    if (this.ahead) this.aheadWrite(port, size, size, value);
    // The command a sequential run was predicted to issue next: its data phase is the offer now.
    const next = this.commands.onWrite(port, size, value);
    if (next) this.ahead = localAhead(next.read, next.write);
    if (this.lane) {
      if (this.hints.length) this.snapshotFor(port, value, now);
      return this.lane.post({ timeNs: now, port, size, write: { value: value >>> 0 } });
    }
    this.requests.pushBlocking([...this.header(BridgeOp.Write, port, size, now), value | 0]);
  }

  ioRead(port: number, size: AccessSize, now: GuestTimeNs): number {
    this.pass(now);
    if (this.dma) {
      const a = this.dma.read(port, size);
      if (a) {
        if (a.consumed) this.lane!.postConsumed(port, size, 1, now);
        this.aheadReads++;
        return a.value;
      }
      this.dma = null;
    }
    if (this.forecast) {
      if (port === this.forecast.port && size === 1) {
        this.lane!.postConsumed(port, 1, 1, now);
        this.aheadReads++;
        return this.forecast.read(now);
      }
      this.forecast = null;
    }
    if (this.ahead) {
      const v = this.aheadRead(port, size, now);
      if (v !== null) return v;
    }
    if (this.lane) {
      const e = this.laneRequest((seq) => ({ timeNs: now, port, size, read: { seq, aheadMax: AHEAD_MAX_BYTES, memoryHints: !!this.memory, dmaAheadMax: this.memory && DMA_AHEAD ? DMA_AHEAD_MAX_BYTES : 0, dmaAheadFirst: DMA_AHEAD_FIRST_BYTES } }));
      this.takeAhead(e, now);
      this.hints = e.readReply?.memoryHints.map((h) => ({ port: h.port, mask: h.mask, addr: Number(h.addr), length: h.length, gatherMax: h.gatherMax, gatherUnless: h.gatherUnless })) ?? [];
      return e.readReply ? e.readReply.value >>> 0 : allOnes(size);
    }
    this.requests.pushBlocking(this.header(BridgeOp.Read, port, size, now));
    return this.awaitReply()[0] >>> 0;
  }

  ioReadString(port: number, size: AccessSize, count: number, now: GuestTimeNs): Uint8Array {
    this.pass(now);
    this.forecast = null;
    this.dma = null;
    const a = this.ahead;
    if (a) {
      if (a.data && port === a.dataPort && size !== 1 && a.pos + count * size <= a.data.length) {
        // A view of the offer's bytes (every caller copies them into guest memory): no allocation per sector.
        const out = a.data.subarray(a.pos, a.pos + count * size);
        a.pos += count * size;
        this.lane!.postConsumed(port, size, count, now);
        this.aheadReads += count;
        return out;
      }
      this.ahead = null;
    }
    if (this.lane) {
      this.commands.clear();
      const e = this.laneRequest((seq) => ({ timeNs: now, port, size, readString: { seq, count } }));
      const data = e.readReply?.data;
      return data && data.byteLength === count * size ? new Uint8Array(data) : new Uint8Array(count * size).fill(0xff);
    }
    this.requests.pushBlocking([...this.header(BridgeOp.ReadString, port, size, now), count]);
    const rec = this.awaitReply();
    return new Uint8Array(rec.buffer, rec.byteOffset + 4, rec[0]).slice();
  }

  ioWriteString(port: number, size: AccessSize, data: Uint8Array, now: GuestTimeNs): void {
    this.pass(now);
    this.forecast = null;
    this.dma = null;
    this.commands.onStringWrite(port);
    if (this.ahead) {
      this.aheadWrite(port, size, data.byteLength);
      // Data the offered data-out phase takes: it travels with the phase's other blocks and Status reads as one operation.
      if (this.ahead?.data === null && port === this.ahead.dataPort && this.lane && data.byteLength % size === 0) return this.lane.postDataOut(port, size, data, now);
    }
    if (this.lane) return this.lane.post({ timeNs: now, port, size, writeString: { data: Buffer.from(data) } });
    const words = bytesToWords(data);
    const rec = new Int32Array(7 + words.length);
    rec.set(this.header(BridgeOp.WriteString, port, size, now));
    rec[6] = data.byteLength;
    rec.set(words, 7);
    this.requests.pushBlocking(rec);
  }

  memRead(addr: number, size: AccessSize, now: GuestTimeNs): number {
    this.forecast = null;
    this.pass(now);
    this.ahead = null;
    this.dma = null;
    if (this.lane) return this.laneRead((seq) => ({ timeNs: now, size, memRead: { seq, addr } }), allOnes(size));
    this.requests.pushBlocking([...this.header(BridgeOp.MemRead, 0, size, now), addr % TWO32 | 0, Math.floor(addr / TWO32)]);
    return this.awaitReply()[0] >>> 0;
  }

  memWrite(addr: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    this.forecast = null;
    this.pass(now);
    this.ahead = null;
    this.dma = null;
    if (this.lane) return this.lane.post({ timeNs: now, size, memWrite: { addr, value: value >>> 0 } });
    this.requests.pushBlocking([...this.header(BridgeOp.MemWrite, 0, size, now), addr % TWO32 | 0, Math.floor(addr / TWO32), value | 0]);
  }

  /** PCI configuration space of the device's function `fn` (the `port` slot carries fn). */
  pciConfigRead(fn: number, offset: number, size: AccessSize, now: GuestTimeNs): number {
    this.forecast = null;
    this.pass(now);
    this.ahead = null;
    this.dma = null;
    if (this.lane) return this.laneRead((seq) => ({ timeNs: now, size, pciConfigRead: { seq, function: fn, offset } }), allOnes(size));
    this.requests.pushBlocking([...this.header(BridgeOp.PciConfigRead, fn, size, now), offset]);
    return this.awaitReply()[0] >>> 0;
  }

  /**
   * Waits for the device to apply the write (PCI config writes are rare: firmware and
   * drivers at start): when it moves a BAR the answer names the new ports, and they are
   * routed before the guest's next access instead of when the ClaimsChanged event arrives.
   */
  pciConfigWrite(fn: number, offset: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    this.forecast = null;
    this.pass(now);
    this.ahead = null;
    this.dma = null;
    this.commands.clear();
    if (this.lane) {
      const e = this.laneRequest((seq) => ({ timeNs: now, size, pciConfigWrite: { function: fn, offset, value: value >>> 0, seq } }));
      const c = e.readReply?.claims;
      if (c) this.onClaimsChanged?.(c.ports.map((p) => ({ base: p.base, length: p.length })), c.memoryWindows.map((w) => ({ base: Number(w.base), length: Number(w.length) })));
      return;
    }
    this.requests.pushBlocking([...this.header(BridgeOp.PciConfigWrite, fn, size, now), offset, value | 0]);
  }
}

/**
 * Largest PIO data a read's reply may offer: the command's and the commands predicted after it
 * (a 256-sector READ SECTORS is 128 KiB; the service's string limit, 1 MiB, bounds it too). Every
 * status read between two commands brings the predictions again, so more than the next command
 * or two is carried for nothing: syslinux loading the kernel (127-sector commands) took 1.1 s
 * with 512 KiB, 1.0 s with 256 KiB, 0.75-0.8 s with 128 KiB.
 */
const AHEAD_MAX_BYTES = 128 * 1024;

/**
 * Largest data of predicted DMA commands a read's or DmaMore's reply may carry (proto
 * Read.dma_ahead_max, DmaMore.max_bytes): 128 READ DMAs of 64 KiB, or 16 READ DMA EXTs of 512 KiB.
 */
const DMA_AHEAD_MAX_BYTES = 8 << 20;
/**
 * Read data the first predictions bring (proto Read.dma_ahead_first; at least one command):
 * the guest starts on them after ~1 MiB crossed instead of 8 (at 64 MiB that first wait was
 * ~50 ms of ~270); the DmaMore requests after them ask for about as much each (dma-asks.ts).
 */
const DMA_AHEAD_FIRST_BYTES = 1 << 20;
/** QUASIVM_DMA_AHEAD=0: every DMA command goes to the device (A/B, and tests of that path). */
const DMA_AHEAD = process.env.QUASIVM_DMA_AHEAD !== '0';
/**
 * Bytes of served DMA commands posted before the lane is flushed (they ride otherwise with the
 * slice's flush or the next request): writes' buffers fill the lane's copy buffer
 * (DATA_OUT_BUFFER_BYTES, used again after each flush); each batch costs the device an IRQ pulse
 * on the gRPC stream (1 MiB: 127 of them per 64 MiB of WRITE DMA).
 */
const DMA_FLUSH_BYTES = DATA_OUT_BUFFER_BYTES;
/** The same for reads (what they post is a few dozen bytes per command). */
const DMA_READ_FLUSH_BYTES = 4 << 20;
/** Read data served between two looks for the DmaMore reply's bytes (BlockingFastLane.drain). */
const DRAIN_EVERY_BYTES = 512 * 1024;

/** The DMA commands of a reply's CommandAhead list, as LocalDma takes them. */
function dmaCommands(dmas: NonNullable<ReturnType<BlockingFastLane['request']>['readReply']>['commandsAhead']) {
  return dmas.map((c) => (c.dma ? { command: c.command, registers: c.registers, ...c.dma } : null));
}

type ReadAheadMsg = NonNullable<NonNullable<ReturnType<BlockingFastLane['request']>['readReply']>['readAhead']>;
type WriteAheadMsg = NonNullable<NonNullable<ReturnType<BlockingFastLane['request']>['readReply']>['writeAhead']>;

/** A ReadAhead or WriteAhead as the offer this thread serves. */
function localAhead(read: ReadAheadMsg | null | undefined, write: WriteAheadMsg | null | undefined): LocalAhead | null {
  if (read) {
    // The reply's bytes as they are: a frame's buffer is its own (no copy, no fresh pages to fault in).
    const data = new Uint8Array(read.data.buffer, read.data.byteOffset, read.data.byteLength);
    return { dataPort: read.dataPort, statusPort: read.statusPort, altStatusPort: read.altStatusPort, data, pos: 0, length: 0, written: 0, statusDuring: read.statusDuring, statusAfter: read.statusAfter, complete: read.complete, registers: read.registers ?? null, deviceAfter: read.deviceAfter?.value };
  }
  if (write) {
    // status_after: the command completes once its data is in, so the Status after the last byte is known too.
    const after = write.statusAfter ?? 0;
    return { dataPort: write.dataPort, statusPort: write.statusPort, altStatusPort: write.altStatusPort, data: null, pos: 0, length: write.length, written: 0, statusDuring: write.statusDuring, statusAfter: after, complete: after !== 0, registers: write.registers ?? null, deviceAfter: write.deviceAfter?.value };
  }
  return null;
}

interface LocalAhead {
  dataPort: number;
  statusPort: number;
  altStatusPort: number;
  /** Data-in: the bytes to come, and how far the guest has read; null for data-out. */
  data: Uint8Array | null;
  pos: number;
  /** Data-out: bytes the device takes, and how many the guest has written. */
  length: number;
  written: number;
  statusDuring: number;
  statusAfter: number;
  /** The Status after the last byte is statusAfter (data-in: the command ends there; data-out: WriteAhead.status_after). */
  complete: boolean;
  /** Writes outside these ports (other than the alternate status port) leave the offer; null: every write ends it. */
  registers: { base: number; length: number } | null;
  /** What the Device register (registers.base + 6) reads once the phase is over (proto ReadAhead.device_after). */
  deviceAfter: number | undefined;
}

/** What the main thread forwards bridge requests to (a RemoteDevice). */
export interface AsyncDevice {
  ioRead(port: number, size: AccessSize, now: GuestTimeNs): Promise<number> | number;
  ioWrite(port: number, size: AccessSize, value: number, now: GuestTimeNs): void;
  ioReadString(port: number, size: AccessSize, count: number, now: GuestTimeNs): Promise<Uint8Array> | Uint8Array;
  ioWriteString(port: number, size: AccessSize, data: Uint8Array, now: GuestTimeNs): void;
  memRead?(addr: number, size: AccessSize, now: GuestTimeNs): Promise<number> | number;
  memWrite?(addr: number, size: AccessSize, value: number, now: GuestTimeNs): void;
  pciConfigRead?(fn: number, offset: number, size: AccessSize, now: GuestTimeNs): Promise<number> | number;
  pciConfigWrite?(fn: number, offset: number, size: AccessSize, value: number, now: GuestTimeNs): void;
}

/**
 * Main-thread side: drains the request ring in order and answers reads. A device that
 * fails a read (service down, refused) answers all ones, as an absent device would, and
 * the failure is reported once per device through `onError`.
 */
export class RemoteIoPump {
  private readonly requests: SharedRing;
  private readonly replies: SharedRing;
  private running = false;
  private readonly failedDevices = new Set<number>();
  private readonly heldWaiters = new Map<number, () => void>();

  constructor(
    buffers: BridgeBuffers,
    readonly devices: Array<AsyncDevice | null>,
    private readonly onError: (deviceIndex: number, error: Error) => void = () => undefined,
  ) {
    this.requests = new SharedRing(buffers.requests);
    this.replies = new SharedRing(buffers.replies);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    Atomics.notify(this.requests.words, 0);
  }

  /** Resolves when the CPU thread's Held record for device `index` comes through (every earlier request forwarded). */
  whenHeld(index: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.heldWaiters.delete(index);
        reject(new Error(`the CPU thread did not hold device ${index} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.heldWaiters.set(index, () => {
        clearTimeout(timer);
        this.heldWaiters.delete(index);
        resolve();
      });
    });
  }

  private reply(words: ArrayLike<number>): void {
    while (!this.replies.tryPush(words)) {
      /* the CPU thread consumes replies one at a time; never full in practice */
    }
  }

  private async answer(deviceIndex: number, fallback: () => ArrayLike<number>, read: () => Promise<ArrayLike<number>>): Promise<void> {
    try {
      this.reply(await read());
    } catch (e) {
      if (!this.failedDevices.has(deviceIndex)) {
        this.failedDevices.add(deviceIndex);
        this.onError(deviceIndex, e as Error);
      }
      this.reply(fallback());
    }
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const rec = this.requests.pop();
      if (!rec) {
        await this.requests.waitForDataAsync(200);
        continue;
      }
      const [op, index, port, size, lo, hi] = rec;
      const now = (lo >>> 0) + hi * TWO32;
      const dev = this.devices[index];
      const sz = size as AccessSize;
      const ones = allOnes(sz) | 0;
      switch (op) {
        case BridgeOp.Write:
          dev?.ioWrite(port, sz, rec[6] >>> 0, now);
          break;
        case BridgeOp.Read:
          await this.answer(index, () => [ones], async () => [dev ? (await dev.ioRead(port, sz, now)) | 0 : ones]);
          break;
        case BridgeOp.ReadString: {
          const count = rec[6];
          const asRecord = (data: Uint8Array) => {
            const words = bytesToWords(data);
            const out = new Int32Array(1 + words.length);
            out[0] = data.byteLength;
            out.set(words, 1);
            return out;
          };
          await this.answer(index, () => asRecord(new Uint8Array(count * size).fill(0xff)), async () => {
            if (!dev) throw new Error('no device');
            return asRecord(await dev.ioReadString(port, sz, count, now));
          });
          break;
        }
        case BridgeOp.WriteString: {
          const len = rec[6];
          dev?.ioWriteString(port, sz, new Uint8Array(rec.buffer, rec.byteOffset + 28, len).slice(), now);
          break;
        }
        case BridgeOp.MemRead: {
          const addr = (rec[6] >>> 0) + rec[7] * TWO32;
          await this.answer(index, () => [ones], async () => [dev?.memRead ? (await dev.memRead(addr, sz, now)) | 0 : ones]);
          break;
        }
        case BridgeOp.MemWrite:
          dev?.memWrite?.((rec[6] >>> 0) + rec[7] * TWO32, sz, rec[8] >>> 0, now);
          break;
        case BridgeOp.PciConfigRead:
          await this.answer(index, () => [ones], async () => [dev?.pciConfigRead ? (await dev.pciConfigRead(port, rec[6], sz, now)) | 0 : ones]);
          break;
        case BridgeOp.PciConfigWrite:
          dev?.pciConfigWrite?.(port, rec[6], sz, rec[7] >>> 0, now);
          break;
        case BridgeOp.Held:
          this.heldWaiters.get(index)?.();
          break;
      }
    }
  }
}
