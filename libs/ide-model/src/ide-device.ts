import { AtaReg, ErrorBit, Status } from './ata-registers.js';
import type { IdeCounters } from './counters.js';
import { bool, bytes, num, obj, toBase64, type Json } from './state-check.js';
import { TaskFile, type TaskFileState } from './task-file.js';
import type { PredictedCommand } from './sequential-prediction.js';
import type { DmaCommandAhead } from '@quasivm/device-sdk';

/** A transfer the device is ready to do through the bus master (SFF-8038i). */
export interface DmaRequest {
  /** true: device-to-memory (READ DMA); false: memory-to-device (WRITE DMA). */
  toMemory: boolean;
  byteLength: number;
}

/** Largest PIO data buffer a device holds (an ATAPI DRQ block of up to 0xFFFE bytes). */
export const MAX_BUFFER = 0x10000;

/**
 * What the two kinds of device on an IDE channel share: the register copy, Status and
 * Error, the pending interrupt (INTRQ, ATA-6 5.2.9) and the PIO data buffer of the
 * current DRQ data block.
 */
export abstract class IdeDevice {
  readonly tf = new TaskFile();
  status = 0;
  error = 0;
  /** The device wants to assert INTRQ (cleared by a Status read or a new command). */
  intPending = false;
  /** Current DRQ data block and the position of the next byte. */
  protected buffer: Uint8Array = new Uint8Array(0);
  protected bufPos = 0;
  /** Direction of the current PIO block: true device-to-host. */
  protected dataIn = true;
  /** Set while a DMA command waits for, or runs on, the bus master. */
  dmaRequest: DmaRequest | null = null;

  constructor(protected readonly counters: IdeCounters) {}

  abstract readonly kind: 'ata' | 'atapi';
  /** Execute a command written to the Command register (this device is selected). */
  abstract command(cmd: number): void;
  /** Put the signature and reset status in place (power-on, SRST, DEVICE RESET). */
  abstract reset(): void;
  /** The current PIO data block has been fully read or written. */
  protected abstract blockDone(): void;
  /** Device-to-memory DMA: produce the data of dmaRequest. */
  abstract dmaRead(): Uint8Array;
  /**
   * Memory-to-device DMA: consume the data of dmaRequest, the PRD regions' bytes in order (not
   * joined). `posted`: the guest was already told it completed (a vCPU carried out a predicted
   * command, proto DmaServed), so a failure is kept for FLUSH CACHE instead of thrown.
   */
  abstract dmaWrite(parts: readonly Uint8Array[], posted?: boolean): void;
  /** The bus master finished (ok) or failed the transfer of dmaRequest. */
  abstract dmaDone(ok: boolean): void;
  /** Make completed writes durable (no-op for read-only media). */
  abstract flushMedia(): void;
  /** Release the image. */
  abstract closeMedia(): void;

  get drq(): boolean {
    return (this.status & Status.DRQ) !== 0;
  }

  /** Status register read: also clears the pending interrupt (ATA-6 7.15.3). */
  readStatus(clearInterrupt: boolean): number {
    if (clearInterrupt) this.intPending = false;
    return this.status;
  }

  readRegister(reg: AtaReg, hob: boolean): number {
    if (reg === AtaReg.ErrorFeatures) return this.error;
    return this.tf.read(reg, hob);
  }

  /** Begin a PIO data block: DRQ set, buffer loaded. `interrupt` asserts INTRQ for it. */
  protected startBlock(data: Uint8Array, toHost: boolean, interrupt: boolean, extraStatus = 0): void {
    this.buffer = data;
    this.bufPos = 0;
    this.dataIn = toHost;
    this.status = Status.DRDY | Status.DSC | Status.DRQ | extraStatus;
    if (interrupt) this.intPending = true;
  }

  /** End of a command without error; `interrupt` asserts INTRQ. */
  protected finish(interrupt = true): void {
    this.buffer = new Uint8Array(0);
    this.bufPos = 0;
    this.dmaRequest = null;
    this.status = Status.DRDY | Status.DSC;
    if (interrupt) this.intPending = true;
  }

  /** End of a command with ERR and the given Error bits (ABRT by default). */
  protected fail(errorBits: number = ErrorBit.ABRT): void {
    this.buffer = new Uint8Array(0);
    this.bufPos = 0;
    this.dmaRequest = null;
    this.error = errorBits;
    this.status = Status.DRDY | Status.DSC | Status.ERR;
    this.intPending = true;
    if (errorBits & ErrorBit.ABRT) this.counters.abortedCommands++;
  }

  /** Data register read of `width` bytes (2 or 4), little-endian. */
  readData(width: 2 | 4): number {
    if (!this.drq || !this.dataIn || this.dmaRequest) {
      this.counters.dataWithoutDrq++;
      return width === 2 ? 0xffff : 0xffffffff;
    }
    let v = 0;
    for (let i = 0; i < width; i++) {
      const b = this.bufPos < this.buffer.length ? this.buffer[this.bufPos] : 0xff;
      this.bufPos++;
      v |= b << (8 * i);
    }
    if (this.bufPos >= this.buffer.length) this.blockDone();
    return v >>> 0;
  }

  writeData(width: 2 | 4, value: number): void {
    if (!this.drq || this.dataIn || this.dmaRequest) {
      this.counters.dataWithoutDrq++;
      return;
    }
    for (let i = 0; i < width; i++) {
      if (this.bufPos < this.buffer.length) this.buffer[this.bufPos] = (value >>> (8 * i)) & 0xff;
      this.bufPos++;
    }
    if (this.bufPos >= this.buffer.length) this.blockDone();
  }

  /**
   * The PIO data phase in progress, as a vCPU may serve it locally (DeviceModel.accessAhead):
   * data-in: the rest of the current DRQ block, and what follows it when the device can
   * tell; data-out: how many bytes it still takes before the command's end. Changes nothing.
   */
  pioAhead(maxBytes: number): PioAhead | null {
    // Idle (no command running): Status and the Device register stay as they are until the next write to the channel.
    if (!(this.status & (Status.BSY | Status.DRQ)) && !this.dmaRequest) {
      return { kind: 'read', data: new Uint8Array(0), statusDuring: this.status, statusAfter: this.status, complete: true, deviceAfter: this.tf.device };
    }
    if (!this.drq || this.dmaRequest || this.bufPos >= this.buffer.length) return null;
    if (!this.dataIn) {
      const rest = this.buffer.length - this.bufPos + this.bytesAfterBlock();
      const length = Math.min(maxBytes, rest);
      if (length <= 0) return null;
      const statusAfter = length === rest ? this.statusAfterDataOut() : null;
      return statusAfter === null ? { kind: 'write', length, statusDuring: this.status } : { kind: 'write', length, statusDuring: this.status, statusAfter };
    }
    const rest = this.buffer.subarray(this.bufPos, Math.min(this.buffer.length, this.bufPos + maxBytes));
    const more = rest.length < this.buffer.length - this.bufPos ? null : this.dataAfterBlock(maxBytes - rest.length);
    const data = new Uint8Array(rest.length + (more?.data.length ?? 0));
    data.set(rest);
    if (more) data.set(more.data, rest.length);
    const complete = more !== null && more.complete;
    return { kind: 'read', data, statusDuring: this.status, statusAfter: more?.statusAfter ?? 0, complete, deviceAfter: complete ? more.deviceAfter : undefined };
  }

  /**
   * Data-in: the bytes of the DRQ blocks after the current one (at most `maxBytes`, whole
   * blocks) and the Status once all are read; complete = the command ends there. The
   * default knows nothing beyond the current block.
   */
  protected dataAfterBlock(_maxBytes: number): { data: Uint8Array; complete: boolean; statusAfter: number; deviceAfter?: number } | null {
    return null;
  }

  /** Data-out: bytes the command takes after the current DRQ block. */
  protected bytesAfterBlock(): number {
    return 0;
  }

  /** The commands the guest may issue after the running one, and their data phases (proto CommandAhead). */
  commandsAhead(_maxBytes: number): PredictedCommand[] {
    return [];
  }

  /**
   * The DMA commands the guest may issue after the one that just completed (proto
   * CommandAhead.dma) and the data of those to memory, in order; offered once per completed command,
   * and again with `more` (proto DmaMore) until the next command. `skip`: start after that many of
   * them (the vCPU holds or asked for those already).
   */
  dmaAhead(_maxBytes: number, _skip = 0, _firstBytes = 0, _more = false): { commands: DmaCommandAhead[]; data: Uint8Array } | null {
    return null;
  }

  /**
   * Data-out: the Status once the command's data is all in, when nothing the medium does can
   * change what the guest sees then (proto WriteAhead.status_after); null: ask the device.
   */
  protected statusAfterDataOut(): number | null {
    return null;
  }

  /**
   * `rep insw/insd`: up to `length` bytes, crossing DRQ blocks while the device keeps
   * offering data. Bytes past the end of the data read as 0xFF (and are counted).
   */
  readDataString(length: number): Uint8Array {
    const out = new Uint8Array(length).fill(0xff);
    let done = 0;
    while (done < length && this.drq && this.dataIn && !this.dmaRequest) {
      const n = Math.min(length - done, this.buffer.length - this.bufPos);
      out.set(this.buffer.subarray(this.bufPos, this.bufPos + n), done);
      this.bufPos += n;
      done += n;
      if (this.bufPos >= this.buffer.length) this.blockDone();
    }
    if (done < length) this.counters.dataWithoutDrq++;
    return out;
  }

  /** readDataString without the bytes: the same effects (blocks done, counters), nothing copied. */
  skipDataString(length: number): void {
    let done = 0;
    while (done < length && this.drq && this.dataIn && !this.dmaRequest) {
      const n = Math.min(length - done, this.buffer.length - this.bufPos);
      this.bufPos += n;
      done += n;
      if (this.bufPos >= this.buffer.length) this.blockDone();
    }
    if (done < length) this.counters.dataWithoutDrq++;
  }

  writeDataString(data: Uint8Array): void {
    let done = 0;
    while (done < data.length && this.drq && !this.dataIn && !this.dmaRequest) {
      const n = Math.min(data.length - done, this.buffer.length - this.bufPos);
      this.buffer.set(data.subarray(done, done + n), this.bufPos);
      this.bufPos += n;
      done += n;
      if (this.bufPos >= this.buffer.length) this.blockDone();
    }
    if (done < data.length) this.counters.dataWithoutDrq++;
  }

  protected saveCommon(): IdeDeviceCommonState {
    return {
      taskFile: this.tf.save(),
      status: this.status,
      error: this.error,
      intPending: this.intPending,
      buffer: toBase64(this.buffer),
      bufPos: this.bufPos,
      dataIn: this.dataIn,
      dmaRequest: this.dmaRequest ? { ...this.dmaRequest } : null,
    };
  }

  protected static checkCommon(v: Json, where: string): IdeDeviceCommonState {
    const o = obj(v, where);
    const buffer = toBase64(bytes(o.buffer, `${where}.buffer`, MAX_BUFFER));
    const bufLen = Buffer.from(buffer, 'base64').length;
    let dmaRequest: DmaRequest | null = null;
    if (o.dmaRequest !== null) {
      const d = obj(o.dmaRequest, `${where}.dmaRequest`);
      dmaRequest = { toMemory: bool(d.toMemory, `${where}.dmaRequest.toMemory`), byteLength: num(d.byteLength, `${where}.dmaRequest.byteLength`, 0, 65536 * 512) };
    }
    return {
      taskFile: TaskFile.check(o.taskFile, `${where}.taskFile`),
      status: num(o.status, `${where}.status`, 0, 0xff),
      error: num(o.error, `${where}.error`, 0, 0xff),
      intPending: bool(o.intPending, `${where}.intPending`),
      buffer,
      bufPos: num(o.bufPos, `${where}.bufPos`, 0, bufLen),
      dataIn: bool(o.dataIn, `${where}.dataIn`),
      dmaRequest,
    };
  }

  protected restoreCommon(s: IdeDeviceCommonState): void {
    this.tf.restore(s.taskFile);
    this.status = s.status;
    this.error = s.error;
    this.intPending = s.intPending;
    this.buffer = new Uint8Array(Buffer.from(s.buffer, 'base64'));
    this.bufPos = s.bufPos;
    this.dataIn = s.dataIn;
    this.dmaRequest = s.dmaRequest ? { ...s.dmaRequest } : null;
  }

  abstract saveState(): Record<string, unknown>;
  /** Validate without applying; returns a token for restoreState. Throws DeviceStateError. */
  abstract checkState(v: Json, where: string): unknown;
  abstract restoreState(checked: unknown): void;
}

/** See IdeDevice.pioAhead; the channel adds the ports. `deviceAfter`: the Device register once the phase is over. */
export type PioAhead =
  | { kind: 'read'; data: Uint8Array; statusDuring: number; statusAfter: number; complete: boolean; deviceAfter?: number }
  | { kind: 'write'; length: number; statusDuring: number; statusAfter?: number; deviceAfter?: number };

export interface IdeDeviceCommonState {
  taskFile: TaskFileState;
  status: number;
  error: number;
  intPending: boolean;
  buffer: string;
  bufPos: number;
  dataIn: boolean;
  dmaRequest: DmaRequest | null;
}
