/**
 * The surface every device model has (DESIGN.md, "Names the code should use").
 * A model is a plain class for one chip: no gRPC, no NATS, no host clock, no files
 * opened on its own. The bus, or a device service session, drives it.
 */

/** Guest virtual time in nanoseconds, owned by the vCPU. */
export type GuestTimeNs = number;

/** Width of one port access in bytes. */
export type AccessSize = 1 | 2 | 4;

/** A contiguous range of I/O ports [base, base + length). */
export interface PortRange {
  base: number;
  length: number;
}

/** A guest-physical memory window a device owns (e.g. VGA 0xA0000-0xBFFFF). */
export interface MemoryWindow {
  base: number;
  length: number;
}

/**
 * What a model may ask of the machine around it. Given to the model at construction by
 * whoever hosts it (the vCPU's bus in-process, or a device service session remotely).
 */
export interface DeviceHost {
  /** Drive an interrupt line to a level. Edge-triggered lines: raise then lower. */
  setIrq(line: number, level: boolean): void;
  /**
   * Ask the vCPU to pulse `line` at guest time `at`, and then every `periodNs` if given.
   * Replaces any earlier deadline of the same line; `at === null` cancels it.
   * This is how a timer delivers interrupts on time without a message per tick.
   */
  setIrqDeadline(line: number, at: GuestTimeNs | null, periodNs?: number): void;
  /** DMA: read guest-physical memory. */
  readMemory(addr: number, length: number): Promise<Uint8Array>;
  /**
   * DMA: write guest-physical memory. `data` may be sent as it is, after the call returns
   * (a fast lane writes it without copying): do not change it afterwards.
   */
  writeMemory(addr: number, data: Uint8Array): Promise<void>;
  /** A device event a user may care about (speaker frequency, mode change...). */
  emitEvent(kind: string, detail: Record<string, unknown>): void;
  /**
   * The model decodes other ports or memory now (firmware moved a PCI BAR). Optional for
   * hosts: the vCPU re-routes; a device service also updates the ranges it accepts.
   */
  claimsChanged?(ports: PortRange[], memoryWindows: MemoryWindow[]): void;
}

/**
 * A versioned, named snapshot of a model (never positional, never empty).
 * Serialised as JSON, so it must hold only JSON values (Uint8Array -> base64 string).
 */
export interface DeviceState {
  device: string;
  version: number;
  [field: string]: unknown;
}

/** Thrown by loadState() on a malformed or foreign state blob. The model is left unchanged. */
export class DeviceStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceStateError';
  }
}

/**
 * One chip. Port accesses never throw: a bad width or unknown register is a no-op
 * (reads return all ones for the width) and is counted by the model.
 */
export interface DeviceModel {
  ioRead(port: number, size: AccessSize, now: GuestTimeNs): number;
  ioWrite(port: number, size: AccessSize, value: number, now: GuestTimeNs): void;
  /** `rep insb/insw/insd`: `count` accesses of `size` bytes, returned as little-endian bytes. */
  ioReadString?(port: number, size: AccessSize, count: number, now: GuestTimeNs): Uint8Array;
  /**
   * `count` reads of `size` at `port` whose values the vCPU already answered from an offer
   * (proto Consumed): their effects only, without producing the values. Default: ioReadString.
   */
  consumeReadString?(port: number, size: AccessSize, count: number, now: GuestTimeNs): void;
  /** `rep outsb/outsw/outsd`: data holds count * size little-endian bytes. */
  ioWriteString?(port: number, size: AccessSize, data: Uint8Array, now: GuestTimeNs): void;
  /** Configuration space of the model's PCI function `fn` (index into DeviceDescription.pciFunctions). */
  pciConfigRead?(fn: number, offset: number, size: AccessSize): number;
  pciConfigWrite?(fn: number, offset: number, size: AccessSize, value: number): void;
  /** Trapped access to a memory window the model owns. */
  memRead?(addr: number, size: AccessSize, now: GuestTimeNs): number;
  memWrite?(addr: number, size: AccessSize, value: number, now: GuestTimeNs): void;
  /**
   * Memory windows the vCPU may map as RAM ('direct') or must trap, as of now (DESIGN.md
   * "Memory that devices own"); asked after writes to DeviceDescription.windowModePorts.
   */
  windowModes?(): WindowModeInfo[];
  /** The current bytes of part of a direct window (the vCPU fills its RAM copy with them). */
  memoryFetch?(addr: number, length: number): Uint8Array;
  /** Bytes the guest wrote into a direct window, shipped by the vCPU (its dirty ranges). */
  memorySync?(addr: number, data: Uint8Array): void;
  /**
   * What the next accesses will see, offered with the reply of a read of `port` so a vCPU
   * can answer them locally (a PIO data phase: proto ReadAhead / WriteAhead). Must not
   * change the model: the vCPU reports the reads it answered as Consumed, in order, and
   * they are then applied with ioRead / ioReadString as usual. At most `maxBytes` of data.
   */
  accessAhead?(port: number, maxBytes: number, options?: { dmaMaxBytes?: number; dmaFirstBytes?: number }): AccessAhead | null;
  /**
   * The guest's write of `value` to a bus master's command register that started a predicted
   * DMA command (AccessAhead.dma) the vCPU carried out itself, of `byteLength` bytes (proto
   * DmaServed): the write and the transfer's outcome, without moving guest memory (the PRD table
   * and a transfer's buffers came as memorySnapshot just before). A model whose command differs
   * applies it as the plain write.
   */
  dmaServed?(port: number, size: AccessSize, value: number, byteLength: number, now: GuestTimeNs): void;
  /**
   * Right after a dmaServed of `port`: the DMA commands a sequential transfer issues after the
   * served one and the `skip` the vCPU still holds, with the data of those to memory (at most
   * `maxBytes`), as AccessAhead.dma offers them (proto DmaMore); null or none: no more. Must not
   * change the model's state.
   */
  dmaMore?(port: number, skip: number, maxBytes: number): { commands: DmaCommandAhead[]; data: Uint8Array } | null;
  /**
   * What the next reads of `port` will return, when they read a counter that runs down
   * with guest time and reading has no other effect (proto CounterForecast), offered with
   * the reply of a read of `port`; null otherwise. Must not change the model: the vCPU
   * reports the reads it answered as Consumed, which are applied with ioRead as usual.
   */
  counterForecast?(port: number): CounterForecast | null;
  /**
   * What the next reads of `port` will return, when it is a status port whose bits change
   * only with guest time and reading has no other effect (proto StatusForecast), offered
   * with the reply of a read of `port`; null otherwise. Must not change the model.
   */
  statusForecast?(port: number): StatusForecast | null;
  /**
   * Guest memory the model would ask for right after certain writes (proto MemoryHint),
   * sent to a vCPU that may read it at that write and send it first (memorySnapshot).
   * Must not change the model.
   */
  memoryHints?(): MemoryHint[];
  /**
   * Guest memory [addr, addr + data) as it was when the guest made the next operation,
   * a write to `port` one of memoryHints() named (proto MemorySnapshot). A guess from the
   * vCPU: use it only if it is the memory needed, for the work that write starts. `data`
   * is a view into the message: it may be kept (not changed) while holdsMessageBytes() says
   * so; without holdsMessageBytes, nobody reuses a message's bytes.
   */
  memorySnapshot?(port: number, addr: number, data: Uint8Array): void;
  /**
   * Whether the model still keeps bytes of messages it was given (memory snapshots not used
   * yet, a transfer in flight). When it says no, the service may read later messages into
   * those bytes' buffers (a large frame's buffer reused, not allocated: every fresh one counts
   * against V8's external memory, whose growth starts a major GC every few MiB).
   */
  holdsMessageBytes?(): boolean;
  /**
   * Work the model started on its own and has not finished (a DMA transfer waiting for
   * guest memory), as a promise; null when there is none. A service's fast lane applies the
   * session's next operation only once it is done, so the guest sees the transfer finished
   * at its next access instead of polling through many round trips. The same promise for
   * as long as the same work runs (a lane that gave up waiting for it does not wait again).
   */
  busy?(): Promise<void> | null;
  saveState(): DeviceState;
  /** Throws DeviceStateError on a malformed blob and then leaves the model unchanged. */
  loadState(state: DeviceState): void;
}

/**
 * Reads of `port` return bytes of count(t) = (count - (ticks(t) - tick)) mod modulus, where
 * ticks(t) = floor(t * tickNum / tickDen), the i-th read byte bytes[i % bytes.length]
 * (0: low, 1: high) of it (proto CounterForecast).
 */
export interface CounterForecast {
  port: number;
  tick: number;
  count: number;
  modulus: number;
  tickNum: number;
  tickDen: number;
  bytes: number[];
}

/**
 * Reads of `port` return fixed | (toggleMask when floor(ticks(t) / togglePeriod) is odd) |
 * (riseMask when ticks(t) >= riseTick), ticks(t) = floor(t * tickNum / tickDen) (proto
 * StatusForecast).
 */
export interface StatusForecast {
  port: number;
  fixed: number;
  toggleMask: number;
  togglePeriod: number;
  riseMask: number;
  riseTick: number;
  tickNum: number;
  tickDen: number;
}

/** Read [addr, addr + length) when the guest writes `port` with a bit of `mask` set (proto MemoryHint). */
export interface MemoryHint {
  port: number;
  mask: number;
  addr: number;
  length: number;
  /** The memory is a PRD table: also send the regions it describes, up to this many bytes (proto MemoryHint.gather_max). */
  gatherMax?: number;
  /** ...unless the write's value has one of these bits set. */
  gatherUnless?: number;
}

/** A data phase the vCPU may serve locally (see DeviceModel.accessAhead and proto ReadAhead/WriteAhead). */
export type AccessAhead = PhaseAhead & {
  /** The commands the guest may issue next and their data phases (proto CommandAhead). */
  next?: CommandAhead[];
  /** Or the DMA commands it may issue next (proto CommandAhead.dma, only when asked: options.dmaMaxBytes, the most data they carry). */
  dma?: DmaOffer;
};

/** Predicted DMA commands, their channel as it is now and the data of those that move data to memory, in order (proto ReadReply.dma_channel, dma_ahead_data). */
export interface DmaOffer {
  channel: DmaChannelNow;
  commands: DmaCommandAhead[];
  data: Uint8Array;
}

/** proto DmaChannel. */
export interface DmaChannelNow {
  commandBase: number;
  controlPort: number;
  busMasterBase: number;
  bmCommand: number;
  bmStatus: number;
  prdAddress: number;
  status: number;
}

/** proto CommandAhead with DmaAhead: `command` written after `registers` starts a DMA transfer of byteLength bytes. */
export interface DmaCommandAhead {
  command: number;
  registers: number[];
  toMemory: boolean;
  byteLength: number;
  statusDuring: number;
  statusAfter: number;
}

/** `deviceAfter`: what the Device register reads once the phase is over (proto ReadAhead.device_after). */
export type PhaseAhead =
  | ({ kind: 'read'; data: Uint8Array; statusDuring: number; statusAfter: number; complete: boolean; deviceAfter?: number } & AheadPorts)
  | ({ kind: 'write'; length: number; statusDuring: number; statusAfter?: number; deviceAfter?: number } & AheadPorts);

/** proto CommandAhead: `command` written after `registers` (command block offsets 2-6) starts `phase`. */
export interface CommandAhead {
  command: number;
  registers: number[];
  phase: PhaseAhead;
}

export interface AheadPorts {
  dataPort: number;
  statusPort: number;
  altStatusPort: number;
  /** Only writes to these ports (and altStatusPort) can change what the offer predicts; absent: any write. */
  registers?: PortRange;
}

/** How the vCPU treats [base, base + length): map it as RAM (direct) or trap each access. */
export interface WindowModeInfo {
  base: number;
  length: number;
  direct: boolean;
  /** Changes whenever what backs the window changes: pages fetched before are stale. */
  generation: number;
  /** Every byte reads 0 now (never written): the vCPU may start from zeros instead of fetching. */
  zero?: boolean;
}

/** Static description of a device kind, as answered by Describe. */
export interface DeviceDescription {
  name: string;
  version: string;
  ports: PortRange[];
  irqs: number[];
  memoryWindows: MemoryWindow[];
  /** PCI functions and the bus-0 slot each prefers (configuration space via pciConfigRead/Write). */
  pciFunctions?: PciFunctionSlot[];
  /** Ports whose writes may change the window modes (the vCPU asks windowModes() after them). */
  windowModePorts?: PortRange[];
}

export interface PciFunctionSlot {
  device: number;
  function: number;
}

/** How a device service makes a model for one VM session. */
export interface DeviceFactory {
  describe(config: Record<string, string>): DeviceDescription;
  /** Throws an Error with a clear message when the configuration is unusable. */
  create(host: DeviceHost, config: Record<string, string>): DeviceModel;
}

/** All-ones value of an access width: what an unclaimed or bad read returns. */
export function allOnes(size: AccessSize): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

/** Default string I/O in terms of single accesses, for models without a faster path. */
export function readStringBySingles(model: DeviceModel, port: number, size: AccessSize, count: number, now: GuestTimeNs): Uint8Array {
  const out = new Uint8Array(count * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    const v = model.ioRead(port, size, now);
    if (size === 1) view.setUint8(i, v);
    else if (size === 2) view.setUint16(i * 2, v, true);
    else view.setUint32(i * 4, v >>> 0, true);
  }
  return out;
}

export function writeStringBySingles(model: DeviceModel, port: number, size: AccessSize, data: Uint8Array, now: GuestTimeNs): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = Math.floor(data.byteLength / size);
  for (let i = 0; i < count; i++) {
    const v = size === 1 ? view.getUint8(i) : size === 2 ? view.getUint16(i * 2, true) : view.getUint32(i * 4, true);
    model.ioWrite(port, size, v, now);
  }
}
