import net from 'node:net';
import { rmSync } from 'node:fs';
import type { IoEvent__Input } from '@quasivm/proto';
import { decodeRequest, encodeEventParts, prepareCodec } from './frame-codec.js';
import { FrameReceiver } from './frame-receiver.js';
import { setSendBuffer } from './unix-socket.js';
import type { DeviceSession } from '../session.js';
import type { IoOp } from '@quasivm/proto';

/** Longest a lane waits for a model's own work (DMA) before applying the next operation anyway. */
const HOLD_MS = 5000;

/** What a turn's output may hold before it is written mid-turn (a DMA reply's data). */
const OUT_FLUSH_BYTES = 256 * 1024;

/** Frames this large are read into buffers of their own (FrameReceiver), which are reused once spent. */
const SPENT_BYTES = 16 * 1024;
/** Most spent frames remembered while the model keeps message bytes (the rest are left to the GC). */
const MAX_SPENT = 64;

/** Operations the vCPU waits for an answer to. */
function needsReply(op: IoOp): boolean {
  return !!(op.read || op.readString || op.memRead || op.pciConfigRead || op.windowQuery || op.memoryFetch || op.barrier || op.pciConfigWrite?.seq);
}

/**
 * The fast lane: a plain unix socket beside the gRPC server, for a vCPU on the same host.
 * It carries the same IoRequest/IoEvent messages as the Io stream's I/O half (reads,
 * posted writes, string I/O, PCI config), so a vCPU thread can block on a read with one
 * syscall instead of waking two event loops through HTTP/2. Device -> vCPU events (IRQs,
 * deadlines) stay on the gRPC stream; so do DMA memory requests, unless the vCPU thread
 * said it serves guest memory here (then they come while it waits for a reply), and IRQ
 * line changes made meanwhile when it also said it applies them (OpenStream.irqs_on_lane).
 */
export class FastLaneServer {
  private readonly server: net.Server;

  constructor(
    readonly path: string,
    private readonly sessions: (id: string) => DeviceSession | undefined,
    private readonly apply: (s: DeviceSession, op: IoOp, send: (e: IoEvent__Input) => void) => void,
    private readonly log: { warn(o: object, m: string): void },
    /** Longest the lane waits for a model's own work before applying the next operation anyway. */
    private readonly holdMs = HOLD_MS,
  ) {
    // Paused: serve() wraps the connection's handle in a socket that reads into buffers it chooses.
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => this.serve(socket));
  }

  listen(): Promise<void> {
    // The codec ready before the first vCPU opens a lane (it waited 30-50 ms per cold service).
    prepareCodec();
    rmSync(this.path, { force: true });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => resolve());
    });
  }

  close(): void {
    this.server.close();
    rmSync(this.path, { force: true });
  }

  private serve(accepted: net.Socket): void {
    // Reads go where the FrameReceiver says (net.Socket's onread, which net.Server does not offer
    // for the sockets it accepts; a new socket on the accepted handle does): the rest of a large
    // frame (a WRITE DMA's 64 KiB buffers) straight into a buffer of its own, not read in 64 KiB
    // pieces and joined with Buffer.concat (~1/5 of the service's time in WRITE DMA).
    const receiver = new FrameReceiver();
    const handle = (accepted as unknown as { _handle: unknown })._handle;
    const socket = new net.Socket({ handle, readable: true, writable: true, onread: { buffer: () => receiver.space(), callback: (n: number) => void received(n) } } as net.SocketConstructorOpts);
    // The accepted socket lets go of the handle (its destroy then closes nothing) and ends.
    (accepted as unknown as { _handle: unknown })._handle = null;
    accepted.destroy();
    socket.setNoDelay?.(true);
    // A large reply (DMA data, predicted PIO sectors) in one write, not in 208 KiB pieces the vCPU must drain first.
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd === 'number' && fd >= 0) setSendBuffer(fd);
    let session: DeviceSession | undefined;
    // What this turn sent, written together (one writev, one wake-up of the vCPU thread): a
    // DMA's posted memory writes and the reply to the read that waited for them leave as one.
    // A large payload (DMA data) goes as it is; its owner does not change it afterwards (DeviceHost.writeMemory).
    let out: Buffer[] = [];
    let outBytes = 0;
    let flushQueued = false;
    const flushOut = () => {
      flushQueued = false;
      if (!out.length) return;
      const parts = out;
      out = [];
      outBytes = 0;
      if (parts.length === 1) return void socket.write(parts[0]);
      socket.cork();
      for (const p of parts) socket.write(p);
      socket.uncork();
    };
    const send = (e: IoEvent__Input) => {
      for (const p of encodeEventParts(e)) {
        out.push(p);
        outBytes += p.length;
      }
      // A request the device waits for goes now, and so does a large reply (DMA data: several
      // DmaMore replies in one turn each leave as they are made, so the vCPU can take the first
      // while the others are read and cross); anything else leaves with the turn's end (drain),
      // or at the next turn of the event loop when something outside a turn sent it.
      if ((e.memoryRequest && !e.memoryRequest.posted) || outBytes >= OUT_FLUSH_BYTES) return flushOut();
      if (!flushQueued) {
        flushQueued = true;
        setImmediate(flushOut);
      }
    };
    // Operations not applied yet because the model is finishing work of its own (DMA), in order.
    const queue: IoOp[] = [];
    let holding = false;
    let servesMemory = false;
    let memoryBytes = 0;
    let irqsOnLane = false;
    // The last frame said more of the same write follow (IoBatch.more): apply when they are in.
    let more = false;
    // Large frames applied or being applied, whose buffers the receiver may reuse once the model
    // keeps none of their bytes (DeviceModel.holdsMessageBytes): each served WRITE DMA's frame
    // (~64 KiB) otherwise took a fresh buffer, and their sum started a major GC every ~40 ms.
    const spent: Buffer[] = [];
    const reuseSpent = () => {
      const m = session?.model;
      if (!spent.length || queue.length || holding || !m?.holdsMessageBytes || m.holdsMessageBytes()) return;
      for (const body of spent) receiver.recycle(body);
      spent.length = 0;
    };
    // Work the lane stopped waiting for (HOLD_MS passed): later operations do not wait for it again.
    const gaveUp = new WeakSet<Promise<void>>();
    const drain = () => {
      const s = session!;
      while (queue.length && !holding) {
        let busy: Promise<void> | null = null;
        s.applyBatch(() => {
          while (queue.length && !busy) {
            // A read at the end of what arrived means the vCPU thread is blocked waiting for
            // its answer: memory requests made meanwhile (DMA) can go to it on this lane.
            s.memoryLane = servesMemory && needsReply(queue[queue.length - 1]) ? send : null;
            s.irqLane = irqsOnLane ? s.memoryLane : null;
            s.memoryLaneBytes = memoryBytes;
            this.apply(s, queue.shift()!, send);
            busy = s.model.busy?.() ?? null;
            if (busy && gaveUp.has(busy)) busy = null;
          }
        });
        if (busy) {
          // The guest's next access sees the transfer finished (it takes no guest time);
          // a transfer that hangs (guest memory unreachable) holds the lane once, holdMs at most.
          holding = true;
          const work: Promise<void> = busy;
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<void>((r) => (timer = setTimeout(() => (gaveUp.add(work), r()), this.holdMs)));
          void Promise.race([work.catch(() => undefined), timedOut]).then(() => {
            clearTimeout(timer);
            holding = false;
            drain();
          });
        }
      }
      if (!holding) {
        s.memoryLane = null;
        s.irqLane = null;
        flushOut();
        reuseSpent();
      }
    };
    const received = (n: number) => {
      let bodies: Buffer[];
      try {
        bodies = receiver.received(n);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'fast lane: bad frame, closing');
        socket.destroy();
        return;
      }
      for (const body of bodies) {
        if (body.length >= SPENT_BYTES && session?.model.holdsMessageBytes && spent.length < MAX_SPENT) spent.push(body);
        const req = decodeRequest(body);
        if (session && req.memoryReply) {
          const r = req.memoryReply;
          session.memoryReply(r.requestId, r.data, r.error);
          continue;
        }
        if (!session) {
          servesMemory = req.open?.servesMemory === true;
          memoryBytes = servesMemory ? Number(req.open?.memoryBytes ?? 0) : 0;
          irqsOnLane = servesMemory && req.open?.irqsOnLane === true;
          session = req.open?.sessionId ? this.sessions(req.open.sessionId) : undefined;
          if (!session) {
            send({ error: { seq: 0, code: 5, message: `unknown session ${JSON.stringify(req.open?.sessionId ?? '')}` } });
            flushOut();
            socket.end();
            return;
          }
          send({ opened: { sessionId: session.id } });
          continue;
        }
        if (!this.sessions(session.id)) {
          send({ error: { seq: 0, code: 5, message: 'session detached' } });
          flushOut();
          socket.end();
          return;
        }
        if (irqsOnLane && req.batch) session.irqSeqApplied = Math.max(session.irqSeqApplied, Number(req.batch.irqSeqApplied ?? 0));
        for (const op of req.batch?.ops ?? []) queue.push(op);
        if (req.batch) more = req.batch.more === true;
      }
      // Frames written together are applied together: a vCPU cuts its batch after each large
      // payload (so it is sent uncopied) and marks all but the last (IoBatch.more); the
      // operations of one batch are one applyBatch (the IRQ changes they cause collapsed), as
      // they were in one frame, and the vCPU thread is known to wait for the read at its end.
      if (session && queue.length && !more) drain();
      else flushOut();
    };
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      // Memory requests this lane carried will not be answered: fail them (the DMA ends with ERROR).
      if (session && servesMemory) session.laneClosed(send);
    });
    socket.resume();
  }
}
