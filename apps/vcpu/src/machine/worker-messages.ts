/**
 * Messages between a VM's main-thread object and its CPU thread.
 * CPU thread -> main: postMessage (never blocks the CPU). Main -> CPU thread: records in
 * the control SharedRing, read between instruction slices or while halted (the CPU thread
 * does not run an event loop while the guest runs).
 */
export type VmRunState = 'created' | 'running' | 'paused' | 'halted' | 'shut-down' | 'crashed';

export type FromCpu =
  | { type: 'serial'; data: Uint8Array }
  | { type: 'debug-console'; data: Uint8Array }
  | { type: 'state'; state: VmRunState; reason?: string; registers?: Record<string, string> }
  | { type: 'event'; kind: string; detail: Record<string, unknown> }
  | { type: 'io-trace'; device: string; dir: 'in' | 'out'; port: number; size: number; value: number; t: number }
  | { type: 'irq'; line: number; level: boolean; t: number; device?: string }
  | { type: 'stats'; stats: CpuStats };

export interface CpuStats {
  instructions: number;
  guestTimeNs: number;
  unclaimedReads: Record<string, number>;
  unclaimedWrites: Record<string, number>;
  ioCounts: Record<string, { reads: number; writes: number }>;
  remoteBlockedMs: number;
  /** Requests the CPU thread waited for a device's answer to, and reads it answered from a device's offer (fast lane). */
  remoteRoundTrips?: number;
  remoteAheadReads?: number;
  /** Guest memory sent with writes a device named, saving it a request (proto MemorySnapshot). */
  remoteMemorySnapshots?: number;
  /** Predicted DMA commands the CPU thread carried out itself (proto DmaServed). */
  remoteDmaServed?: number;
  /** Further DMA predictions asked for before those held ran out, not waited for (proto DmaMore). */
  remoteDmaMore?: number;
  /** IRQ line changes that came on a device's fast lane instead of through the gRPC stream (proto OpenStream.irqs_on_lane). */
  remoteLaneIrqs?: number;
  /** Soft backend: pages compiled to wasm regions, and of those, on the VM's compile thread. */
  wasmRegions?: number;
  wasmRegionsCompiledElsewhere?: number;
}

/** Control record codes (first word of a record in the control ring). */
export const enum Control {
  /** [line, level, device index, seq low, seq high, sessionTag] a remote device drove an IRQ line (its change seq of that session). */
  Irq = 1,
  /** [line, atLo, atHi, period as float64 (2 words), cancel] a remote device set an IRQ deadline. */
  IrqDeadline = 2,
  /** [byte...] input for the serial port. */
  SerialInput = 3,
  /** [scancode...] keyboard input, PS/2 scan code set 2 (what a keyboard sends). */
  Keys = 4,
  Pause = 5,
  Resume = 6,
  Stop = 7,
  Reset = 8,
  /** Ask for a 'stats' message. */
  Stats = 9,
  /** [deviceIndex, portCount, (base, length)..., windowCount, (baseLo, baseHi, length)...] a remote device decodes other ports / memory now. */
  ClaimsChanged = 10,
  /** [addrLo, addrHi, length] guest RAM was written from outside the CPU (device DMA): drop decoded code there. */
  InvalidateCode = 11,
  /** [char...] the devices to trace, names joined by ',' ('*' = all; empty = none). */
  Trace = 12,
  /** [deviceIndex, requestId] the device asks for the bytes the guest wrote to its mapped windows (WindowSyncRequest). */
  SyncWindows = 13,
  /** [deviceIndex] the main thread asked to hold the device's I/O (DeviceGates): take the hold now if not yet taken. */
  HoldDevice = 14,
}

export const encodeNames = (names: string[]): number[] => Array.from(names.join(','), (c) => c.charCodeAt(0));
export const decodeNames = (rec: Int32Array): string[] => (rec.length ? String.fromCharCode(...rec).split(',') : []);
