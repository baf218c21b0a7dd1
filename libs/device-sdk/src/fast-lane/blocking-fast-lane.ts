import { readSync, writeSync, writevSync } from 'node:fs';
import type { IoEvent, IoOp__Input, IoRequest__Input } from '@quasivm/proto';
import { FrameReceiver } from './frame-receiver.js';
import { decodeEvent, encodeRequest, encodeRequestParts, hasLargePayload, MORE_READS } from './frame-codec.js';
import { bytesReadable, closeFd, connectUnixBlocking } from './unix-socket.js';
import type { AccessSize, GuestTimeNs } from '../model.js';

/** Largest DataOut the lane builds (a WRITE SECTORS of 256 sectors is 128 KiB). */
const DATA_OUT_MAX_BYTES = 256 * 1024;
/**
 * Data-out bytes gathered between two flushes before a new buffer is taken (predicted commands:
 * several per batch; a vCPU flushes served WRITE DMAs every 2 MiB, remote-io-bridge.ts).
 */
export const DATA_OUT_BUFFER_BYTES = 2 << 20;

/** Guest memory as a blocking vCPU thread serves it to a device (DMA); throws outside RAM. */
export interface LaneGuestMemory {
  /** Guest memory [0, bytes) is served (writes inside it may then be posted by the device). */
  readonly bytes: number;
  read(addr: number, length: number): Uint8Array;
  /**
   * The bytes themselves, not a copy: for what is sent before the device can act on it (a
   * WRITE DMA's buffers ride with the write that starts the transfer, and the bus master may
   * read them at any time until it ends, so a change meanwhile is one the guest raced with).
   */
  view?(addr: number, length: number): Uint8Array;
  write(addr: number, data: Uint8Array): void;
}

/**
 * A session id as a 32-bit number (FNV-1a), for records that name the session whose IRQ
 * changes they carry: a vCPU that moved to a new session ignores the old one's.
 */
export function sessionTag(sessionId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i++) h = Math.imul(h ^ sessionId.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Where IRQ line changes that come on a fast lane go (the vCPU's interrupt controller). */
/** `resent`: a copy of a change the gRPC stream carried too (proto IrqLine.resent): traffic taps count that copy. */
export type LaneIrqs = (line: number, level: boolean, timeNs: GuestTimeNs, resent: boolean) => void;

/**
 * A device session's I/O over the fast lane, for a thread that may block (a vCPU thread):
 * writes are posted into a batch, a read sends the batch and waits in read(2) for its reply.
 * Same ordering rule as the gRPC stream: everything posted before a read is applied first.
 */
export class BlockingFastLane {
  private readonly fd: number;
  private readonly receiver = new FrameReceiver();
  private readonly ready: IoEvent[] = [];
  private batch: IoOp__Input[] = [];
  /** The DataOut at the end of the batch that later data-out writes and Status reads join, until anything else is posted. */
  private out: { op: IoOp__Input; start: number; bytes: number; runs: number[] } | null = null;
  /**
   * Where data-out bytes are gathered (one copy, no buffer per block): DataOut ops take
   * consecutive regions of it, and it is used again from the start once the batch holding
   * them has been written (flush). A new one is taken when a batch needs more.
   */
  private outBuf = Buffer.allocUnsafeSlow(DATA_OUT_BUFFER_BYTES);
  private outUsed = 0;
  private seq = 1;
  /** The write that ends the batch, which a following write joins (post), and the guest time of the last write in it. */
  private lastWrite: IoOp__Input | null = null;
  private lastWriteTime = 0;
  /** Refusals the device sent for posted operations (bad port...), most recent last. */
  readonly refusals: string[] = [];
  /**
   * The highest IrqLine.seq of the session this vCPU has applied, from the lane or from the
   * gRPC stream (whoever applies those raises it): sent with every batch (proto IoBatch.irq_seq_applied).
   */
  irqSeqApplied = 0;

  /**
   * `memory`: guest memory this thread may touch; the device's DMA requests then come here
   * while this thread waits for a reply, and are answered at once (proto OpenStream.serves_memory).
   * `irqs` (with `memory`): applies an IRQ line change that comes on the lane, at once
   * (proto OpenStream.irqs_on_lane).
   */
  constructor(path: string, readonly sessionId: string, private readonly memory?: LaneGuestMemory, private readonly irqs?: LaneIrqs) {
    this.fd = connectUnixBlocking(path);
    writeSync(this.fd, encodeRequest({ open: { sessionId, servesMemory: !!memory, memoryBytes: memory?.bytes ?? 0, irqsOnLane: !!memory && !!irqs } }));
    const first = this.next();
    if (!first.opened) throw new Error(`fast lane refused session ${sessionId}: ${first.error?.message ?? 'no reply'}`);
  }

  private next(): IoEvent {
    while (this.ready.length === 0) this.readOnce(Infinity);
    return this.ready.shift()!;
  }

  /**
   * Reads what has come without waiting (FIONREAD says how much), into the frames it belongs
   * to: a large reply the device is sending (DMA data ahead) then moves while this thread does
   * other work, instead of waiting in the device's queue for the read that needs it (the
   * socket buffer holds a few MiB; the device writes the rest as it drains). Its events are
   * handled in order later, when a request waits.
   */
  drain(): void {
    for (let n = bytesReadable(this.fd); n > 0; n = bytesReadable(this.fd)) {
      while (n > 0) n -= this.readOnce(n);
    }
  }

  /** The reply bytes `data` came in are not used any more, not any of them (FrameReceiver.recycle). */
  recycle(data: Uint8Array): void {
    this.receiver.recycle(data);
  }

  /** One read(2) of at most `max` bytes (it blocks until some come); returns how many. */
  private readOnce(max: number): number {
    const space = this.receiver.space();
    const n = readSync(this.fd, space, 0, Math.min(max, space.length), null);
    if (n === 0) throw new Error('fast lane closed by the device service');
    for (const body of this.receiver.received(n)) this.ready.push(decodeEvent(body));
    return n;
  }

  post(op: IoOp__Input): void {
    this.seal();
    // A write right after a write joins it (proto Write.more): one operation to encode, decode and dispatch, not one each.
    const last = this.batch[this.batch.length - 1];
    const w = op.write;
    const dt = Number(op.timeNs ?? 0) - this.lastWriteTime;
    if (w && last?.write && last === this.lastWrite && dt >= 0 && dt <= 0xffff_ffff && (last.write.more?.length ?? 0) < 4 * 1024) {
      ((last.write.more ??= []) as number[]).push(op.port ?? 0, op.size ?? 1, (w.value ?? 0) >>> 0, dt);
      this.lastWriteTime += dt;
      return;
    }
    this.batch.push(op);
    if (w) {
      this.lastWrite = op;
      this.lastWriteTime = Number(op.timeNs ?? 0);
    }
    if (this.batch.length >= 256) this.flush();
  }

  /**
   * A string write of a data-out phase the device offered (proto WriteAhead), posted like
   * a write: the phase's writes and the Status reads answered between them travel as one
   * DataOut, so a 128-sector WRITE SECTORS is one operation instead of 255.
   */
  postDataOut(port: number, size: AccessSize, data: Uint8Array, now: GuestTimeNs): void {
    let o = this.out;
    if (!o || o.bytes + data.byteLength > DATA_OUT_MAX_BYTES || o.start + o.bytes + data.byteLength > this.outBuf.length) {
      this.seal();
      if (this.outUsed + Math.min(data.byteLength, DATA_OUT_MAX_BYTES) > this.outBuf.length || data.byteLength > this.outBuf.length) {
        // Regions of the current buffer are still waiting to be written: a new one (the old goes with its batch).
        this.outBuf = Buffer.allocUnsafeSlow(Math.max(DATA_OUT_BUFFER_BYTES, data.byteLength));
        this.outUsed = 0;
      }
      o = this.out = { op: { timeNs: now, port, size }, start: this.outUsed, bytes: 0, runs: [] };
      this.batch.push(o.op);
    }
    this.outBuf.set(data, o.start + o.bytes); // copied: the caller may reuse its buffer
    o.bytes += data.byteLength;
    this.outUsed = o.start + o.bytes;
    const count = data.byteLength / size;
    const r = o.runs;
    const n = r.length;
    if (n && r[n - 4] === port && r[n - 3] === size && r[n - 1] === 1) r[n - 2] += count;
    else r.push(port, size, count, 1);
  }

  /**
   * A copy of `data` for an operation posted next (a WRITE DMA's buffers as a MemorySnapshot),
   * valid until the batch is written (flush): a region of the data-out buffer, reused after each
   * flush, instead of a fresh copy each time (slice() of 64 KiB of the shared guest memory took
   * ~3x as long, most of it the new buffer's first touch).
   */
  copyOut(data: Uint8Array): Buffer {
    this.seal(); // an open DataOut grows at the end of the used part: it ends here
    if (this.outUsed + data.byteLength > this.outBuf.length) {
      // Regions of the current buffer are still waiting to be written: a new one (the old goes with its batch).
      this.outBuf = Buffer.allocUnsafeSlow(Math.max(DATA_OUT_BUFFER_BYTES, data.byteLength));
      this.outUsed = 0;
    }
    const region = this.outBuf.subarray(this.outUsed, this.outUsed + data.byteLength);
    region.set(data);
    this.outUsed += data.byteLength;
    return region;
  }

  /** Closes the open DataOut: its data in one buffer. */
  private seal(): void {
    const o = this.out;
    if (!o) return;
    this.out = null;
    o.op.dataOut = { data: this.outBuf.subarray(o.start, o.start + o.bytes), runs: o.runs };
  }

  /**
   * Reports reads answered from a ReadAhead/WriteAhead (proto Consumed), posted like a write;
   * runs of the same port and size in a row travel as one operation.
   */
  postConsumed(port: number, size: AccessSize, count: number, now: GuestTimeNs): void {
    const o = this.out;
    if (o) {
      // A Status read between two blocks of an open data-out phase: one more run of it.
      const r = o.runs;
      const n = r.length;
      if (r[n - 4] === port && r[n - 3] === size && r[n - 1] === 0) r[n - 2] += count;
      else r.push(port, size, count, 0);
      return;
    }
    // Right after a write (and what joined it): the reads join it too (proto Write.more, MORE_READS),
    // so a DMA command's register writes and the Status reads between them are one operation.
    const last = this.batch[this.batch.length - 1];
    const w = last?.write;
    const dt = Number(now) - this.lastWriteTime;
    if (w && last === this.lastWrite && dt >= 0 && dt <= 0xffff_ffff && (w.more?.length ?? 0) < 4 * 1024) {
      const more = (w.more ??= []) as number[];
      const n = more.length;
      if (n && more[n - 4] === port && more[n - 3] === (size | MORE_READS)) more[n - 2] += count;
      else more.push(port, size | MORE_READS, count, dt);
      this.lastWriteTime += dt;
      return;
    }
    // Runs in a row go into one Consumed (a PIO sector loop alternates Status and Data):
    // a 128-sector READ SECTORS reports 256 runs in one op, not 256 ops to encode, decode
    // and dispatch. Nothing on the device waits for them: they ride with the next request
    // or the slice's flush, and do not count towards the 256-op flush.
    const c = last?.consumed;
    if (c) {
      const more = (c.moreRuns ??= []) as number[];
      const n = more.length;
      if (n === 0 ? last.port === port && last.size === size : more[n - 3] === port && more[n - 2] === size) {
        if (n === 0) c.count = (c.count ?? 0) + count;
        else more[n - 1] += count;
        return;
      }
      if (n < 3 * 4096) {
        more.push(port, size, count);
        return;
      }
    }
    this.batch.push({ timeNs: now, port, size, consumed: { count, moreRuns: [] } });
    if (this.batch.length >= 16384) this.flush();
  }

  flush(): void {
    this.seal();
    if (this.batch.length === 0) return;
    const ops = this.batch;
    this.batch = [];
    // An operation with a large payload (a string write, DMA buffers sent with a write) ends
    // a frame, so its bytes go out uncopied; the frames leave in one writev, in order.
    const parts: Buffer[] = [];
    let start = 0;
    const irqSeqApplied = this.irqs ? this.irqSeqApplied : undefined;
    for (let i = 0; i < ops.length - 1; i++) {
      if (!hasLargePayload(ops[i])) continue;
      parts.push(...encodeRequestParts({ batch: { ops: ops.slice(start, i + 1), irqSeqApplied, more: true } }));
      start = i + 1;
    }
    parts.push(...encodeRequestParts({ batch: { ops: start ? ops.slice(start) : ops, irqSeqApplied } }));
    this.writeParts(parts);
    this.outUsed = 0; // written: the data-out buffer is free again
  }

  /** Sends `op` (with everything posted before it) and waits for its reply. */
  request(make: (seq: number) => IoOp__Input): IoEvent {
    const seq = this.seq++;
    this.seal();
    this.batch.push(make(seq));
    this.flush();
    return this.awaitReply(seq);
  }

  /**
   * Sends `op` (with everything posted before it) without waiting: its reply is kept when it
   * comes (while the thread waits for another) until reply(seq) takes it or forget(seq).
   * `send` false: posted like a write (several go in one batch; flush() sends them).
   */
  requestAhead(make: (seq: number) => IoOp__Input, send = true): number {
    const seq = this.seq++;
    this.seal();
    this.batch.push(make(seq));
    if (send) this.flush();
    this.kept.set(seq, null);
    return seq;
  }

  /** The reply to requestAhead `seq`, waited for if it has not come yet. */
  reply(seq: number): IoEvent {
    const e = this.kept.get(seq);
    if (e === undefined) throw new Error(`fast lane: no request ${seq} waits for its reply`);
    if (e) {
      this.kept.delete(seq);
      return e;
    }
    return this.awaitReply(seq);
  }

  /** The reply to requestAhead `seq` is not wanted: dropped now or when it comes. */
  forget(seq: number): void {
    if (this.kept.get(seq)) this.kept.delete(seq);
    else if (this.kept.has(seq)) this.forgotten.add(seq);
  }

  /** Replies (or refusals) to requests sent ahead, kept until taken; null: not come yet. */
  private readonly kept = new Map<number, IoEvent | null>();
  private readonly forgotten = new Set<number>();

  /** Serves what comes until the reply to `seq` does (replies to requests sent ahead are kept). */
  private awaitReply(seq: number): IoEvent {
    for (;;) {
      const e = this.next();
      const replied = e.readReply?.seq ?? e.error?.seq;
      if (replied === seq) {
        this.kept.delete(seq);
        return e;
      }
      if (replied && this.kept.has(replied)) {
        if (this.forgotten.delete(replied)) this.kept.delete(replied);
        else this.kept.set(replied, e);
        continue;
      }
      if (e.memoryRequest) {
        this.serveMemory(e.memoryRequest);
        continue;
      }
      if (e.irq && this.irqs) {
        // Each change once, in seq order: a copy of one the gRPC stream already brought is skipped.
        const s = Number(e.irq.seq);
        if (s > this.irqSeqApplied) {
          this.irqSeqApplied = s;
          this.irqs(e.irq.line, e.irq.level, e.irq.timeNs, e.irq.resent);
        }
        continue;
      }
      if (e.error) {
        this.refusals.push(e.error.message);
        if (this.refusals.length > 100) this.refusals.shift();
      }
    }
  }

  /** Writes one request frame; a large payload (string output, DMA data) is not copied on the way. */
  private send(req: IoRequest__Input): void {
    this.writeParts(encodeRequestParts(req));
  }

  private writeParts(parts: Buffer[]): void {
    if (parts.length === 1) return void writeSync(this.fd, parts[0]);
    let written = writevSync(this.fd, parts);
    // A blocking stream socket takes it all unless a signal interrupts it: then write the rest.
    for (const p of parts) {
      if (written >= p.length) {
        written -= p.length;
        continue;
      }
      let off = written;
      while (off < p.length) off += writeSync(this.fd, p, off, p.length - off);
      written = 0;
    }
  }

  private serveMemory(r: NonNullable<IoEvent['memoryRequest']>): void {
    const written = () => new Uint8Array(r.writeData.buffer, r.writeData.byteOffset, r.writeData.byteLength);
    if (r.posted) {
      // Inside the memory this lane said it serves (the device checked): nothing to answer.
      try {
        this.memory?.write(r.addr, written());
      } catch {
        /* the device checked the range; nothing else can fail */
      }
      return;
    }
    let reply: { requestId: number; data?: Uint8Array; error?: string };
    try {
      if (!this.memory) throw new Error('this lane does not serve guest memory');
      if (r.isWrite) {
        this.memory.write(r.addr, written());
        reply = { requestId: r.requestId };
      } else reply = { requestId: r.requestId, data: this.memory.read(r.addr, r.length) };
    } catch (e) {
      reply = { requestId: r.requestId, error: (e as Error).message };
    }
    this.send({ memoryReply: reply });
  }

  read(port: number, size: AccessSize, now: GuestTimeNs): number | null {
    const e = this.request((seq) => ({ timeNs: now, port, size, read: { seq } }));
    return e.readReply ? e.readReply.value : null;
  }

  write(port: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    this.post({ timeNs: now, port, size, write: { value: value >>> 0 } });
  }

  close(): void {
    try {
      this.flush();
    } finally {
      closeFd(this.fd);
    }
  }
}
