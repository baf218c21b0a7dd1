import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { loadDeviceProto, type DeviceHandlers, type CommandAhead__Input, type IoEvent__Input, type IoOp, type IoRequest, type ReadAhead__Input, type WriteAhead__Input } from '@quasivm/proto';
import { DeviceSession } from './session.js';
import { DeviceStateError, allOnes, readStringBySingles, writeStringBySingles, type AccessSize, type DeviceFactory, type DeviceModel, type DeviceState, type DmaChannelNow, type DmaOffer, type PhaseAhead } from './model.js';
import { createLogger, type Logger } from './logger.js';
import { FastLaneServer } from './fast-lane/fast-lane-server.js';
import { MORE_READS } from './fast-lane/frame-codec.js';

export interface DeviceServiceOptions {
  /** Largest string I/O payload accepted in one request (bytes). */
  maxStringBytes?: number;
  /** Largest number of sessions held at once. */
  maxSessions?: number;
  logger?: Logger;
  /** Unix socket path of the fast lane; default: beside a unix listen address ("<path>.io"), none for TCP. */
  fastLanePath?: string | null;
  /** Adds more gRPC services (e.g. Display) to the same server before it listens. */
  setup?: (service: DeviceService) => void;
}

const DEFAULT_MAX_STRING_BYTES = 1 << 20;
const DEFAULT_MAX_SESSIONS = 1024;

function fail(code: grpc.status, details: string): Partial<grpc.StatusObject> {
  return { code, details };
}

function validSize(size: number): size is AccessSize {
  return size === 1 || size === 2 || size === 4;
}

/**
 * Serves one device kind over the device protocol: Describe, Attach/Detach of per-VM
 * sessions, the ordered Io stream, SaveState/LoadState and gRPC health checking.
 * Bad requests get a status code; they never disturb other sessions.
 */
export class DeviceService {
  readonly sessions = new Map<string, DeviceSession>();
  readonly server = new grpc.Server({ 'grpc.max_receive_message_length': 64 << 20 });
  readonly health = new HealthImplementation({ '': 'SERVING', 'quasivm.device.v1.Device': 'SERVING' });
  readonly log: Logger;
  private readonly maxStringBytes: number;
  private readonly maxSessions: number;
  private fastLane: FastLaneServer | null = null;

  constructor(readonly factory: DeviceFactory, readonly name: string, private readonly options: DeviceServiceOptions = {}) {
    this.log = options.logger ?? createLogger(`${name}-service`);
    this.maxStringBytes = options.maxStringBytes ?? DEFAULT_MAX_STRING_BYTES;
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    const proto = loadDeviceProto();
    this.server.addService(proto.quasivm.device.v1.Device.service, this.handlers());
    this.health.addToServer(this.server);
    options.setup?.(this);
  }

  /** The session of a VM, for services that act on a VM's device (the first one attached). */
  sessionOfVm(vmId: string): DeviceSession | undefined {
    for (const s of this.sessions.values()) if (s.vmId === vmId) return s;
    return undefined;
  }

  /** Binds `address` (host:port, or unix:/path) and resolves with the bound port (0 for unix). */
  async listen(address: string): Promise<number> {
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    const fastPath = this.options.fastLanePath !== undefined ? this.options.fastLanePath : address.startsWith('unix:') ? `${address.slice(5)}.io` : null;
    if (fastPath) {
      this.fastLane = new FastLaneServer(fastPath, (id) => this.sessions.get(id), (s, op, send) => this.apply(s, op, send), this.log);
      await this.fastLane.listen();
    }
    this.log.info({ address, port, fastLane: fastPath }, 'device service listening');
    return port;
  }

  /** Stops taking new calls, lets running ones finish for up to `graceMs`, then forces. */
  shutdown(graceMs = 2000): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    // Models holding resources (disk images, locks) release them: nothing is lost on SIGTERM.
    for (const s of this.sessions.values()) (s.model as { close?: () => void }).close?.();
    this.fastLane?.close();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private session(id: string): DeviceSession | undefined {
    return this.sessions.get(id);
  }

  private handlers(): DeviceHandlers {
    return {
      Describe: (call, cb) => {
        try {
          const d = this.factory.describe(call.request.config ?? {});
          cb(null, { ...d, pciFunctions: d.pciFunctions ?? [], windowModePorts: d.windowModePorts ?? [], maxStringBytes: this.maxStringBytes });
        } catch (e) {
          cb(fail(grpc.status.INVALID_ARGUMENT, (e as Error).message));
        }
      },
      Attach: (call, cb) => {
        const { vmId, config } = call.request;
        if (!vmId) return cb(fail(grpc.status.INVALID_ARGUMENT, 'vm_id is required'));
        if (this.sessions.size >= this.maxSessions)
          return cb(fail(grpc.status.RESOURCE_EXHAUSTED, `this service holds its maximum of ${this.maxSessions} sessions`));
        let session: DeviceSession;
        try {
          session = new DeviceSession(vmId, this.factory, config ?? {});
        } catch (e) {
          this.log.warn({ vmId, err: (e as Error).message }, 'attach refused');
          return cb(fail(grpc.status.FAILED_PRECONDITION, `cannot attach ${this.name} for VM ${vmId}: ${(e as Error).message}`));
        }
        this.sessions.set(session.id, session);
        this.log.info({ vmId, session: session.id }, 'session attached');
        cb(null, { sessionId: session.id, fastLanePath: this.fastLane?.path ?? '', description: { ...session.description, pciFunctions: session.description.pciFunctions ?? [], windowModePorts: session.description.windowModePorts ?? [], maxStringBytes: this.maxStringBytes } });
      },
      Detach: (call, cb) => {
        const s = this.session(call.request.sessionId);
        if (!s) return cb(fail(grpc.status.NOT_FOUND, `unknown session ${JSON.stringify(call.request.sessionId)}`));
        this.sessions.delete(s.id);
        (s.model as { close?: () => void }).close?.();
        this.log.info({ vmId: s.vmId, session: s.id }, 'session detached');
        cb(null, {});
      },
      SaveState: async (call, cb) => {
        const s = this.session(call.request.sessionId);
        if (!s) return cb(fail(grpc.status.NOT_FOUND, `unknown session ${JSON.stringify(call.request.sessionId)}`));
        // Window bytes the vCPU holds are device state: fetch them first. Work the model
        // started on its own (a DMA transfer) finishes first too, so the state is whole.
        await s.syncWindows();
        await settle(s.model.busy?.() ?? null, BUSY_SETTLE_MS);
        const state = s.model.saveState();
        cb(null, { device: state.device, version: state.version, stateJson: Buffer.from(JSON.stringify(state)) });
      },
      LoadState: (call, cb) => {
        const s = this.session(call.request.sessionId);
        if (!s) return cb(fail(grpc.status.NOT_FOUND, `unknown session ${JSON.stringify(call.request.sessionId)}`));
        let state: DeviceState;
        try {
          const parsed: unknown = JSON.parse(Buffer.from(call.request.state?.stateJson ?? []).toString('utf8'));
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new DeviceStateError('state is not a JSON object');
          state = parsed as DeviceState;
          s.model.loadState(state);
        } catch (e) {
          return cb(fail(grpc.status.INVALID_ARGUMENT, `malformed ${this.name} state: ${(e as Error).message}`));
        }
        this.log.info({ vmId: s.vmId, session: s.id }, 'state loaded');
        cb(null, {});
      },
      Io: (call) => this.serveIo(call),
    };
  }

  private serveIo(call: grpc.ServerDuplexStream<IoRequest, IoEvent__Input>): void {
    let session: DeviceSession | undefined;
    const sink = (e: IoEvent__Input) => call.write(e);
    call.on('data', (req: IoRequest) => {
      if (!session) {
        const id = req.open?.sessionId;
        session = id ? this.session(id) : undefined;
        if (!session) {
          call.emit('error', { code: grpc.status.NOT_FOUND, details: id ? `unknown session ${JSON.stringify(id)}` : 'the first Io message must be open{session_id}' });
          return;
        }
        if (session.hasStream()) {
          const s = session;
          session = undefined;
          call.emit('error', { code: grpc.status.ALREADY_EXISTS, details: `session ${s.id} already has an open I/O stream` });
          return;
        }
        session.attachStream(sink);
        call.write({ opened: { sessionId: session.id } });
        return;
      }
      if (req.batch) {
        const s = session;
        s.applyBatch(() => {
          for (const op of req.batch!.ops) this.apply(s, op, sink);
        });
      } else if (req.memoryReply) {
        const r = req.memoryReply;
        session.memoryReply(r.requestId, r.data, r.error);
      }
    });
    const close = () => {
      session?.detachStream(sink);
    };
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('error', close);
    call.on('cancelled', close);
  }

  /** Applies one operation in stream order. Never throws: refusals become IoError events. */
  // No closures per operation: tsx names every function it creates (a defineProperty each), which
  // cost ~10 % of the IDE service's time at ~14 operations per DMA command.
  private apply(s: DeviceSession, op: IoOp, reply: (e: IoEvent__Input) => void): void {
    const now = op.timeNs;
    s.lastTime = now;
    const size = op.size;
    const seq = op.read?.seq ?? op.readString?.seq ?? op.memRead?.seq ?? op.pciConfigRead?.seq ?? op.pciConfigWrite?.seq ?? op.windowQuery?.seq ?? op.memoryFetch?.seq ?? op.barrier?.seq ?? op.dmaMore?.seq ?? 0;
    if (!validSize(size)) return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, `access size ${size} is not 1, 2 or 4`);
    const m = s.model;
    try {
      switch (op.op) {
        case 'dataOut': {
          // Every run checked before any is applied: a refused operation changes nothing.
          const { data, runs } = op.dataOut!;
          if (data.byteLength > this.maxStringBytes) return refuseOp(s, reply, seq, grpc.status.RESOURCE_EXHAUSTED, `data-out of ${data.byteLength} bytes exceeds the limit of ${this.maxStringBytes}`);
          if (runs.length % 4 !== 0) return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, 'data-out runs are not (port, size, count, write) quadruples');
          let bytes = 0;
          for (let i = 0; i < runs.length; i += 4) {
            const [port, sz, count, write] = [runs[i], runs[i + 1], runs[i + 2], runs[i + 3]];
            if (!validSize(sz)) return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, `access size ${sz} is not 1, 2 or 4`);
            if (!s.claimsPort(port, sz)) return refuseOp(s, reply, seq, grpc.status.OUT_OF_RANGE, `port 0x${port.toString(16)} (size ${sz}) is outside the ports ${this.name} claims`);
            if (count * sz > this.maxStringBytes) return refuseOp(s, reply, seq, grpc.status.RESOURCE_EXHAUSTED, `data-out run of ${count * sz} bytes exceeds the limit of ${this.maxStringBytes}`);
            if (write > 1) return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, `data-out run kind ${write} is not 0 (reads) or 1 (writes)`);
            if (write) bytes += count * sz;
          }
          if (bytes !== data.byteLength) return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, `data-out runs write ${bytes} bytes, the operation carries ${data.byteLength}`);
          break;
        }
        case 'write': {
          const more = op.write!.more ?? [];
          if (more.length % 4 !== 0) return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, 'further writes are not (port, size, value, dt) quadruples');
          for (let i = 0; i < more.length; i += 4) {
            // A size with MORE_READS: `value` reads the vCPU answered (as Consumed).
            const sz = more[i + 1] & ~MORE_READS;
            if (!validSize(sz)) return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, `access size ${more[i + 1]} is not 1, 2 or 4 (with 0x100 for reads)`);
            if (!s.claimsPort(more[i], sz)) return refuseOp(s, reply, seq, grpc.status.OUT_OF_RANGE, `port 0x${more[i].toString(16)} (size ${sz}) is outside the ports ${this.name} claims`);
            if (more[i + 1] & MORE_READS && more[i + 2] * sz > this.maxStringBytes) return refuseOp(s, reply, seq, grpc.status.RESOURCE_EXHAUSTED, `consumed reads of ${more[i + 2] * sz} bytes exceed the limit of ${this.maxStringBytes}`);
          }
          if (!s.claimsPort(op.port, size)) return refuseOp(s, reply, seq, grpc.status.OUT_OF_RANGE, `port 0x${op.port.toString(16)} (size ${size}) is outside the ports ${this.name} claims`);
          break;
        }
        case 'read':
        case 'dmaServed':
        case 'dmaMore':
        case 'readString':
        case 'writeString':
        case 'consumed':
          if (!s.claimsPort(op.port, size))
            return refuseOp(s, reply, seq, grpc.status.OUT_OF_RANGE, `port 0x${op.port.toString(16)} (size ${size}) is outside the ports ${this.name} claims`);
          break;
        case 'memRead':
        case 'memWrite': {
          const addr = op.memRead?.addr ?? op.memWrite?.addr ?? 0;
          if (!s.claimsMemory(addr, size))
            return refuseOp(s, reply, seq, grpc.status.OUT_OF_RANGE, `address 0x${addr.toString(16)} is outside the memory windows ${this.name} claims`);
          break;
        }
        case 'memorySync':
        case 'memoryFetch': {
          const addr = op.memorySync?.addr ?? op.memoryFetch?.addr ?? 0;
          const length = op.memorySync ? op.memorySync.data.byteLength : op.memoryFetch!.length;
          if (length > this.maxStringBytes) return refuseOp(s, reply, seq, grpc.status.RESOURCE_EXHAUSTED, `window transfer of ${length} bytes exceeds the limit of ${this.maxStringBytes}`);
          if (!s.claimsMemory(addr, length))
            return refuseOp(s, reply, seq, grpc.status.OUT_OF_RANGE, `window bytes 0x${addr.toString(16)}+${length} are outside the memory windows ${this.name} claims`);
          break;
        }
        case 'memorySnapshot': {
          const length = op.memorySnapshot!.data.byteLength;
          if (length > this.maxStringBytes) return refuseOp(s, reply, seq, grpc.status.RESOURCE_EXHAUSTED, `memory snapshot of ${length} bytes exceeds the limit of ${this.maxStringBytes}`);
          if (!s.claimsPort(op.port, size))
            return refuseOp(s, reply, seq, grpc.status.OUT_OF_RANGE, `port 0x${op.port.toString(16)} (size ${size}) is outside the ports ${this.name} claims`);
          break;
        }
        case 'windowQuery':
        case 'windowSynced':
        case 'barrier':
          break;
        case 'pciConfigRead':
        case 'pciConfigWrite': {
          const fn = op.pciConfigRead?.function ?? op.pciConfigWrite?.function ?? 0;
          const offset = op.pciConfigRead?.offset ?? op.pciConfigWrite?.offset ?? 0;
          if (fn >= (s.description.pciFunctions?.length ?? 0)) return refuseOp(s, reply, seq, grpc.status.OUT_OF_RANGE, `${this.name} has no PCI function ${fn}`);
          if (offset % size !== 0 || offset + size > 256) return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, `PCI config offset 0x${offset.toString(16)} size ${size} is not aligned inside 256 bytes`);
          break;
        }
        default:
          return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, 'empty I/O operation');
      }
      switch (op.op) {
        case 'pciConfigRead': {
          const r = op.pciConfigRead!;
          sendOp(s, reply, { readReply: { seq, value: m.pciConfigRead ? m.pciConfigRead(r.function, r.offset, size) >>> 0 : allOnes(size) } });
          break;
        }
        case 'pciConfigWrite': {
          const w = op.pciConfigWrite!;
          const before = JSON.stringify(s.description.ports);
          m.pciConfigWrite?.(w.function, w.offset, size, w.value);
          // Asked for an answer: say which ports the device decodes now if the write moved them.
          if (w.seq) {
            const moved = JSON.stringify(s.description.ports) !== before;
            sendOp(s, reply, { readReply: { seq, claims: moved ? { ports: s.description.ports, memoryWindows: s.description.memoryWindows } : null } });
          }
          break;
        }
        case 'read': {
          const value = m.ioRead(op.port, size, now) >>> 0;
          const ahead = op.read!.aheadMax > 0 && m.accessAhead ? m.accessAhead(op.port, Math.min(op.read!.aheadMax, this.maxStringBytes), { dmaMaxBytes: Math.min(op.read!.dmaAheadMax, MAX_DMA_AHEAD_BYTES), dmaFirstBytes: op.read!.dmaAheadFirst }) : null;
          const hints = op.read!.memoryHints && m.memoryHints ? m.memoryHints() : undefined;
          const memoryHints = hints?.length ? hints.map((h) => ({ ...h, length: Math.min(h.length, this.maxStringBytes) })) : undefined;
          if (!ahead) {
            const counterForecast = op.read!.aheadMax > 0 ? (m.counterForecast?.(op.port) ?? undefined) : undefined;
            const statusForecast = op.read!.aheadMax > 0 && !counterForecast ? (m.statusForecast?.(op.port) ?? undefined) : undefined;
            sendOp(s, reply, { readReply: { seq, value, memoryHints, counterForecast, statusForecast } });
          }
          else {
            const { next, dma, ...phase } = ahead;
            const commandsAhead = next?.map((c) => {
              const m = phaseMessage(c.phase);
              return { command: c.command, registers: c.registers, read: m.readAhead, write: m.writeAhead };
            });
            sendOp(s, reply, { readReply: { seq, value, memoryHints, ...phaseMessage(phase), commandsAhead, ...(dma && op.read!.dmaAheadMax ? dmaMessage(dma) : {}) } });
          }
          break;
        }
        case 'memorySnapshot': {
          const sn = op.memorySnapshot!;
          m.memorySnapshot?.(op.port, sn.addr, sn.data);
          break;
        }
        case 'consumed': {
          // Reads the vCPU answered from a ReadAhead/WriteAhead: apply them in order, their values are known.
          const more = op.consumed!.moreRuns ?? [];
          if (more.length % 3 !== 0) return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, 'consumed runs are not (port, size, count) triples');
          for (let i = -3; i < more.length; i += 3) {
            const [port, sz, count] = i < 0 ? [op.port, size as number, op.consumed!.count] : [more[i], more[i + 1], more[i + 2]];
            if (!validSize(sz)) return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, `access size ${sz} is not 1, 2 or 4`);
            if (!s.claimsPort(port, sz)) return refuseOp(s, reply, seq, grpc.status.OUT_OF_RANGE, `port 0x${port.toString(16)} (size ${sz}) is outside the ports ${this.name} claims`);
            if (count * sz > this.maxStringBytes) return refuseOp(s, reply, seq, grpc.status.RESOURCE_EXHAUSTED, `consumed reads of ${count * sz} bytes exceed the limit of ${this.maxStringBytes}`);
            if (count === 1) m.ioRead(port, sz, now);
            else consumeReads(m, port, sz, count, now);
          }
          break;
        }
        case 'dataOut': {
          // The writes and the reads the vCPU answered between them, in their order (checked above).
          const { data, runs } = op.dataOut!;
          let at = 0;
          for (let i = 0; i < runs.length; i += 4) {
            const [port, sz, count, write] = [runs[i], runs[i + 1] as AccessSize, runs[i + 2], runs[i + 3]];
            if (write) {
              const chunk = data.subarray(at, at + count * sz);
              at += count * sz;
              if (m.ioWriteString) m.ioWriteString(port, sz, chunk, now);
              else writeStringBySingles(m, port, sz, chunk, now);
            } else if (count === 1) m.ioRead(port, sz, now);
            else consumeReads(m, port, sz, count, now);
          }
          break;
        }
        case 'write': {
          m.ioWrite(op.port, size, op.write!.value, now);
          const more = op.write!.more;
          for (let i = 0, t = now; i < (more?.length ?? 0); i += 4) {
            t += more[i + 3];
            s.lastTime = t;
            const sz = more[i + 1];
            if (!(sz & MORE_READS)) m.ioWrite(more[i], sz as AccessSize, more[i + 2], t);
            else if (more[i + 2] === 1) m.ioRead(more[i], (sz & ~MORE_READS) as AccessSize, t);
            else consumeReads(m, more[i], (sz & ~MORE_READS) as AccessSize, more[i + 2], t);
          }
          break;
        }
        case 'dmaServed': {
          const d = op.dmaServed!;
          if (m.dmaServed) m.dmaServed(op.port, size, d.value, d.byteLength, now);
          else m.ioWrite(op.port, size, d.value, now);
          break;
        }
        case 'dmaMore': {
          const d = op.dmaMore!;
          const more = m.dmaMore?.(op.port, d.skip, Math.min(d.maxBytes, MAX_DMA_AHEAD_BYTES)) ?? null;
          const commandsAhead = more?.commands.map(({ command, registers, ...dma }) => ({ command, registers, dma })) ?? [];
          const dmaAheadData = more?.data.byteLength ? Buffer.from(more.data.buffer, more.data.byteOffset, more.data.byteLength) : undefined;
          // Not after the IRQ changes held so far (sendOp): the reply says nothing those changes
          // could contradict (it changes no state, the vCPU takes it later), and sending them
          // would cut the batch's collapsed changes into a pulse on the gRPC stream per request.
          reply({ readReply: { seq, commandsAhead, dmaAheadData } });
          break;
        }
        case 'readString': {
          const count = op.readString!.count;
          if (count * size > this.maxStringBytes)
            return refuseOp(s, reply, seq, grpc.status.RESOURCE_EXHAUSTED, `string read of ${count * size} bytes exceeds the limit of ${this.maxStringBytes}`);
          const data = m.ioReadString ? m.ioReadString(op.port, size, count, now) : readStringBySingles(m, op.port, size, count, now);
          sendOp(s, reply, { readReply: { seq, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } });
          break;
        }
        case 'writeString': {
          const data = op.writeString!.data;
          if (data.byteLength > this.maxStringBytes)
            return refuseOp(s, reply, seq, grpc.status.RESOURCE_EXHAUSTED, `string write of ${data.byteLength} bytes exceeds the limit of ${this.maxStringBytes}`);
          if (data.byteLength % size !== 0) return refuseOp(s, reply, seq, grpc.status.INVALID_ARGUMENT, `string write of ${data.byteLength} bytes is not a multiple of size ${size}`);
          if (m.ioWriteString) m.ioWriteString(op.port, size, data, now);
          else writeStringBySingles(m, op.port, size, data, now);
          break;
        }
        case 'memRead':
          sendOp(s, reply, { readReply: { seq, value: m.memRead ? m.memRead(op.memRead!.addr, size, now) >>> 0 : allOnes(size) } });
          break;
        case 'memWrite':
          m.memWrite?.(op.memWrite!.addr, size, op.memWrite!.value, now);
          break;
        case 'windowQuery': {
          const windows = m.windowModes?.() ?? [];
          s.vcpuMapsWindows = windows.some((w) => w.direct);
          sendOp(s, reply, { readReply: { seq, windows } });
          break;
        }
        case 'windowSynced':
          s.windowSynced(op.windowSynced!.requestId);
          break;
        case 'barrier':
          sendOp(s, reply, { readReply: { seq } });
          break;
        case 'memoryFetch': {
          const f = op.memoryFetch!;
          const data = m.memoryFetch?.(f.addr, f.length) ?? new Uint8Array(f.length).fill(0xff);
          sendOp(s, reply, { readReply: { seq, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } });
          break;
        }
        case 'memorySync':
          m.memorySync?.(op.memorySync!.addr, op.memorySync!.data);
          break;
      }
    } catch (e) {
      // A model must not throw; if one does, the guest sees a refused access, the service lives on.
      this.log.error({ vmId: s.vmId, port: op.port, err: (e as Error).message }, 'device model threw');
      refuseOp(s, reply, seq, grpc.status.INTERNAL, `device model failed: ${(e as Error).message}`);
    }
  }
}

/** A reply or event for an operation: after the IRQ changes held so far, so they keep their order with it. */
function sendOp(s: DeviceSession, reply: (e: IoEvent__Input) => void, e: IoEvent__Input): void {
  s.sendHeldIrqs();
  reply(e);
}

function refuseOp(s: DeviceSession, reply: (e: IoEvent__Input) => void, seq: number, code: grpc.status, message: string): void {
  sendOp(s, reply, { error: { seq, code, message } });
}

/** Reads the vCPU already answered (proto Consumed): their effects, the values dropped. */
function consumeReads(m: DeviceModel, port: number, size: AccessSize, count: number, now: number): void {
  if (m.consumeReadString) m.consumeReadString(port, size, count, now);
  else if (m.ioReadString) m.ioReadString(port, size, count, now);
  else readStringBySingles(m, port, size, count, now);
}

/** Most bytes of predicted DMA data a reply carries (Read.dma_ahead_max): a frame stays well inside MAX_FRAME_BYTES. */
const MAX_DMA_AHEAD_BYTES = 8 << 20;

/** Predicted DMA commands as their proto messages (CommandAhead.dma, ReadReply.dma_channel and dma_ahead_data). */
function dmaMessage(d: DmaOffer): { commandsAhead: CommandAhead__Input[]; dmaChannel: DmaChannelNow; dmaAheadData: Buffer } {
  return {
    commandsAhead: d.commands.map(({ command, registers, ...dma }) => ({ command, registers, dma })),
    dmaChannel: d.channel,
    dmaAheadData: Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength),
  };
}

/** A data phase offer as its proto message (ReadAhead or WriteAhead). */
function phaseMessage(p: PhaseAhead): { readAhead?: ReadAhead__Input; writeAhead?: WriteAhead__Input } {
  const deviceAfter = p.deviceAfter === undefined ? null : { value: p.deviceAfter };
  if (p.kind === 'read') {
    const { data, kind: _k, ...rest } = p;
    return { readAhead: { ...rest, deviceAfter, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } };
  }
  const { kind: _k, ...rest } = p;
  return { writeAhead: { ...rest, deviceAfter } };
}

/** Longest SaveState waits for a model's own work (DMA) to finish. */
const BUSY_SETTLE_MS = 5000;

function settle(work: Promise<void> | null, ms: number): Promise<void> {
  if (!work) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}

/**
 * Runs a device service as a process: listens on `address`, logs in JSON, and shuts down
 * cleanly on SIGTERM/SIGINT.
 */
export async function serveDevice(factory: DeviceFactory, name: string, address: string, options: DeviceServiceOptions = {}): Promise<DeviceService> {
  const service = new DeviceService(factory, name, options);
  await service.listen(address);
  const stop = (signal: string) => {
    service.log.info({ signal, sessions: service.sessions.size }, 'shutting down');
    void service.shutdown().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return service;
}
