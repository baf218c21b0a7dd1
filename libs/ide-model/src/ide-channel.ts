import type { AccessSize, DeviceHost } from '@quasivm/device-sdk';
import { addPrdEntries, allOnes, DeviceStateError, emptyPrdList, type PrdList } from '@quasivm/device-sdk';
import {
  AtaCmd, AtaReg, BmCommand, BmStatus, DeviceBit, DeviceControl, DIAG_PASSED, PRD_ENTRY_SIZE, Status,
} from './ata-registers.js';
import { BusMasterChannel, type BusMasterState } from './bus-master.js';
import type { IdeCounters } from './counters.js';
import type { IdeDevice, PioAhead } from './ide-device.js';
import type { PredictedCommand } from './sequential-prediction.js';
import { num, obj, type Json } from './state-check.js';

/** Most memory snapshots (and bytes) kept for one START write: its table and the buffers a vCPU sends. */
const MAX_SNAPSHOTS = 64;
const MAX_SNAPSHOT_BYTES = 4 << 20;
/** Most PRD entries a table may hold: it must not cross a 64 KiB boundary (SFF-8038i 1.2). */
const MAX_PRD_ENTRIES = 8192;

/**
 * One IDE channel (cable): the command block (offsets 0-7), the control block
 * (Alternate Status / Device Control), device selection, INTRQ towards the PIC, soft
 * reset, and the channel's bus-master DMA engine. Devices 0 and 1 may be absent.
 * The channel sees register offsets only; the controller owns port numbers.
 */
export class IdeChannel {
  deviceControl = 0;
  readonly busMaster = new BusMasterChannel();
  /** Current level of the INTRQ line as last told to the host. */
  private irqLevel = false;
  /** Bumped by anything that must abandon a DMA in flight (reset, new command, stop, restore). */
  private generation = 0;
  private inFlight: Promise<void> | null = null;
  /**
   * Guest memory (the PRD table, then the buffers it describes) as the vCPU read it at the
   * bus-master command write that comes next (proto MemorySnapshot), then, once that write
   * set START, for the transfer it starts. Not state: without them the table and buffers
   * are read from guest memory, as they always could be.
   */
  private snapshotsAtCommand: MemorySnapshot[] = [];
  private snapshotsBytes = 0;
  private startSnapshots: MemorySnapshot[] = [];
  /** While a DmaServed write is applied: the transfer's byte count as the vCPU carried it out. */
  private servedBytes: number | null = null;

  constructor(
    private readonly host: DeviceHost,
    readonly irqLine: number,
    readonly devices: readonly [IdeDevice | null, IdeDevice | null],
    private readonly counters: IdeCounters,
    /** Whether the PCI function currently lets the bus master move data. */
    private readonly busMasterEnabled: () => boolean,
  ) {}

  private get selectedIndex(): 0 | 1 {
    // The DEV bit is written to both devices; use whichever copy exists.
    const d = this.devices[0] ?? this.devices[1];
    return d && d.tf.device & DeviceBit.DEV ? 1 : 0;
  }

  get selected(): IdeDevice | null {
    return this.devices[this.selectedIndex];
  }

  private get anyDevice(): IdeDevice | null {
    return this.devices[0] ?? this.devices[1];
  }

  readCommandBlock(offset: number, size: AccessSize): number {
    const dev = this.selected;
    if (offset === AtaReg.Data) {
      if (size === 1) return this.badWidth(size);
      if (!dev) return allOnes(size);
      const v = dev.readData(size);
      this.afterAccess();
      return v;
    }
    if (size !== 1) return this.badWidth(size);
    if (!dev) {
      // No device answers: floating bus when the channel is empty; otherwise device 0
      // answers for an absent device 1 with Status 00h (ATA-6 9.16.1) and shadow copies.
      const other = this.anyDevice;
      if (!other) return 0xff;
      if (offset === AtaReg.StatusCommand || offset === AtaReg.ErrorFeatures) return 0;
      return other.readRegister(offset as AtaReg, (this.deviceControl & DeviceControl.HOB) !== 0);
    }
    if (offset === AtaReg.StatusCommand) {
      const s = dev.readStatus(true);
      this.afterAccess();
      return s;
    }
    // While BSY is set, every command block register reads as Status (ATA-6 7.15.6.1).
    if (dev.status & Status.BSY) return dev.readStatus(false);
    return dev.readRegister(offset as AtaReg, (this.deviceControl & DeviceControl.HOB) !== 0);
  }

  writeCommandBlock(offset: number, size: AccessSize, value: number): void {
    if (offset === AtaReg.Data) {
      if (size === 1) return void this.badWidth(size);
      this.selected?.writeData(size, value);
      return this.afterAccess();
    }
    if (size !== 1) return void this.badWidth(size);
    // A write to any command block register clears HOB (ATA-6 7.9.6).
    this.deviceControl &= ~DeviceControl.HOB;
    if (offset === AtaReg.StatusCommand) return this.command(value & 0xff);
    for (const d of this.devices) {
      if (d && !(d.status & Status.BSY)) d.tf.write(offset as AtaReg, value);
    }
    if (offset === AtaReg.Device) this.afterAccess();
  }

  readControlBlock(size: AccessSize): number {
    if (size !== 1) return this.badWidth(size);
    const dev = this.selected;
    if (!dev) return this.anyDevice ? 0 : 0xff;
    return dev.readStatus(false);
  }

  writeControlBlock(size: AccessSize, value: number): void {
    if (size !== 1) return void this.badWidth(size);
    const was = this.deviceControl;
    this.deviceControl = value & (DeviceControl.HOB | DeviceControl.SRST | DeviceControl.nIEN);
    const srstOn = (value & DeviceControl.SRST) !== 0;
    const srstWas = (was & DeviceControl.SRST) !== 0;
    if (srstOn && !srstWas) {
      // Reset asserted: devices go busy until SRST is cleared (ATA-6 9.2).
      this.abandonDma();
      for (const d of this.devices) {
        if (d) {
          d.intPending = false;
          d.status = Status.BSY;
        }
      }
    } else if (!srstOn && srstWas) {
      this.resetDevices(false);
    }
    this.afterAccess();
  }

  /** The selected device's PIO data phase, when INTRQ handling cannot differ (see IdeDevice.pioAhead). */
  pioAhead(maxBytes: number): PioAhead | null {
    if (this.deviceControl & DeviceControl.SRST) return null;
    return this.selected?.pioAhead(maxBytes) ?? null;
  }

  /** The DMA commands the selected device expects next (see IdeDevice.dmaAhead), when the bus master could run them. */
  dmaAhead(maxBytes: number, skip = 0, firstBytes = 0, more = false): ReturnType<IdeDevice['dmaAhead']> {
    if (this.deviceControl & DeviceControl.SRST || this.inFlight || !this.busMasterEnabled()) return null;
    return this.selected?.dmaAhead(maxBytes, skip, firstBytes, more) ?? null;
  }

  /**
   * The guest's write of `value` to the bus-master command register that started a predicted
   * DMA command a vCPU carried out itself (proto DmaServed): as the write, but the transfer it
   * starts moves no guest memory (a write to the drive takes the buffers the vCPU sent).
   */
  dmaServed(value: number, byteLength: number): void {
    this.servedBytes = byteLength;
    try {
      this.writeBusMaster(0, value);
    } finally {
      this.servedBytes = null;
    }
  }

  /** The commands the selected device expects next (see IdeDevice.commandsAhead). */
  commandsAhead(maxBytes: number): PredictedCommand[] {
    if (this.deviceControl & DeviceControl.SRST) return [];
    return this.selected?.commandsAhead(maxBytes) ?? [];
  }

  /** `rep insw/insd` on the data register. */
  readDataString(length: number): Uint8Array {
    const dev = this.selected;
    const out = dev ? dev.readDataString(length) : new Uint8Array(length).fill(0xff);
    this.afterAccess();
    return out;
  }

  /** readDataString for reads whose bytes are already known (AtaController.consumeReadString). */
  skipDataString(length: number): void {
    const dev = this.selected;
    if (dev) dev.skipDataString(length);
    this.afterAccess();
  }

  writeDataString(data: Uint8Array): void {
    this.selected?.writeDataString(data);
    this.afterAccess();
  }

  private command(cmd: number): void {
    if (cmd === AtaCmd.EXECUTE_DEVICE_DIAGNOSTIC && this.anyDevice) {
      // Both devices run the diagnostic regardless of DEV (ATA-6 8.11).
      this.abandonDma();
      this.resetDevices(true);
      return this.afterAccess();
    }
    const dev = this.selected;
    if (!dev || dev.status & Status.BSY) return; // absent device 1 / in reset: ignored
    this.abandonDma();
    dev.command(cmd);
    this.afterAccess();
  }

  /** Signatures and diagnostic codes after SRST or EXECUTE DEVICE DIAGNOSTIC (ATA-6 9.12, 8.11). */
  private resetDevices(interrupt: boolean): void {
    const [d0, d1] = this.devices;
    d0?.reset();
    d1?.reset();
    if (d0) d0.error = DIAG_PASSED; // device 1, when present, passed too
    if (d1) d1.error = DIAG_PASSED;
    if (interrupt) {
      const first = d0 ?? d1;
      if (first) first.intPending = true;
    }
  }

  // ---- bus master ----

  readBusMaster(offset: number): number {
    return this.busMaster.readByte(offset);
  }

  writeBusMaster(offset: number, value: number): void {
    const change = this.busMaster.writeByte(offset, value);
    if (offset === 0) {
      // Snapshots are of memory at the write that set START, for the transfer that START begins.
      if (change === 'start') this.startSnapshots = this.snapshotsAtCommand;
      else if (!this.busMaster.started) this.startSnapshots = [];
      this.snapshotsAtCommand = [];
      this.snapshotsBytes = 0;
    }
    if (change === 'stop') this.abandonDma();
    this.afterAccess();
  }

  /** Guest memory at `addr` as it was when the guest made the next write, to the bus-master command register. */
  memoryAtCommand(addr: number, data: Uint8Array): void {
    // Bounded: what one START may use (the table and GATHER_MAX_BYTES of buffers), not what a peer may send.
    if (this.snapshotsAtCommand.length >= MAX_SNAPSHOTS || this.snapshotsBytes + data.byteLength > MAX_SNAPSHOT_BYTES) return;
    this.snapshotsBytes += data.byteLength;
    // Kept as it is: a message's bytes are not reused (DeviceModel.memorySnapshot), and a WRITE
    // DMA's buffers (up to GATHER_MAX_BYTES) go to the image from here without a copy.
    this.snapshotsAtCommand.push({ address: addr >>> 0, data });
  }

  /** Whether memory snapshots (views into messages) are kept, or a transfer that may use message bytes runs. */
  get holdsMessageBytes(): boolean {
    return this.inFlight !== null || this.snapshotsAtCommand.length > 0 || this.startSnapshots.length > 0;
  }

  /** The DMA transfer in flight (settles when it ends), or null. */
  get dmaTransfer(): Promise<void> | null {
    return this.inFlight;
  }

  /** Resolves when no DMA is in flight on this channel. */
  async whenIdle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private abandonDma(): void {
    if (this.inFlight) this.generation++;
    this.inFlight = null;
  }

  /** After every access: start DMA if both sides are ready, and drive INTRQ. */
  private afterAccess(): void {
    this.maybeStartDma();
    this.updateIrq();
  }

  private maybeStartDma(): void {
    const dev = this.selected;
    if (this.inFlight || !dev?.dmaRequest || !this.busMaster.started || !this.busMasterEnabled()) return;
    // Carried out by the vCPU only when it is the transfer the device has (a command that differs runs as usual).
    const served = this.servedBytes !== null && this.servedBytes === dev.dmaRequest.byteLength;
    if (served && this.endServedDma(dev)) return;
    const gen = ++this.generation;
    const p = this.runDma(dev, gen, served).finally(() => {
      if (this.generation === gen) this.inFlight = null;
    });
    this.inFlight = p;
  }

  private async runDma(dev: IdeDevice, gen: number, served: boolean): Promise<void> {
    const req = dev.dmaRequest!;
    const bm = this.busMaster;
    let ok = false;
    let tableLonger = false;
    try {
      if (((bm.command & BmCommand.READ) !== 0) !== req.toMemory) throw new Error('bus-master direction does not match the command');
      const snapshots = this.startSnapshots;
      this.startSnapshots = [];
      // The table is the first snapshot at the PRD address; the buffers are the others.
      const table = snapshots.find((s) => s.address === bm.prdAddress) ?? null;
      const buffers = snapshots.filter((s) => s !== table);
      const prds = await this.readPrdTable(bm.prdAddress, req.byteLength, table);
      if (gen !== this.generation) return;
      const available = prds.total;
      tableLonger = available > req.byteLength || !prds.eot;
      if (available >= req.byteLength) {
        if (req.toMemory && served) {
          // The vCPU copied the predicted data (read from the disk when predicted) into the regions itself.
        } else if (req.toMemory) {
          const data = dev.dmaRead();
          let off = 0;
          for (const p of prds) {
            if (off >= req.byteLength) break;
            const n = Math.min(p.length, req.byteLength - off);
            await this.host.writeMemory(p.address, data.subarray(off, off + n));
            if (gen !== this.generation) return;
            off += n;
          }
        } else {
          // Every region asked for at once: one round trip for a 512 KiB WRITE DMA EXT of
          // eight PRD entries, not eight (reads of guest memory do not depend on each other).
          const reads: Array<{ off: number; n: number; chunk: Promise<Uint8Array> }> = [];
          let off = 0;
          for (const p of prds) {
            if (off >= req.byteLength) break;
            const n = Math.min(p.length, req.byteLength - off);
            const snap = buffers.find((s) => s.address === p.address && s.data.length >= n);
            reads.push({ off, n, chunk: snap ? Promise.resolve(snap.data) : this.host.readMemory(p.address, n) });
            off += n;
          }
          const chunks = await Promise.all(reads.map((r) => r.chunk));
          if (gen !== this.generation) return;
          // Each region as it came (a view into the vCPU's message), not copied into one buffer.
          const parts = reads.map((r, i) => chunks[i].subarray(0, r.n));
          if (parts.some((p, i) => p.byteLength < reads[i].n)) throw new Error('guest memory came back short');
          dev.dmaWrite(parts, served);
        }
        ok = true;
      }
    } catch {
      ok = false;
    }
    if (gen !== this.generation) return;
    this.endDma(dev, ok, tableLonger);
  }

  private endDma(dev: IdeDevice, ok: boolean, tableLonger: boolean): void {
    const bm = this.busMaster;
    // SFF-8038i 2.1.2: INTERRUPT set at the end; ACTIVE stays set only when the PRD
    // table described more than the device transferred; ERROR on a failed transfer.
    bm.status |= BmStatus.INTERRUPT;
    if (!ok) bm.status |= BmStatus.ERROR;
    if (!ok || !tableLonger) bm.status &= ~BmStatus.ACTIVE;
    if (!ok) this.counters.dmaErrors++;
    dev.dmaDone(ok);
    this.updateIrq();
  }

  /**
   * A transfer the vCPU carried out (DmaServed), ended within the write that started it when
   * what it sent decides it: the table's entries in the snapshot at the PRD address, and for a
   * write to the drive every region's bytes. Nothing is in flight then, so the lane goes on
   * with the next operation at once. False: left to runDma (which asks for what is missing).
   */
  private endServedDma(dev: IdeDevice): boolean {
    const req = dev.dmaRequest!;
    const bm = this.busMaster;
    if (((bm.command & BmCommand.READ) !== 0) !== req.toMemory) return false;
    const table = this.startSnapshots.find((s) => s.address === bm.prdAddress);
    if (!table) return false;
    const whole = Math.min(prdChunkBytes(bm.prdAddress), table.data.length - (table.data.length % PRD_ENTRY_SIZE));
    const prds = emptyPrdList();
    if (!addPrdEntries(prds, table.data.subarray(0, whole), req.byteLength, MAX_PRD_ENTRIES)) return false;
    const available = prds.total;
    if (available < req.byteLength) return false;
    const parts: Uint8Array[] = [];
    if (!req.toMemory) {
      for (let i = 0, off = 0; off < req.byteLength; i++) {
        const n = Math.min(prds[i].length, req.byteLength - off);
        const snap = this.startSnapshots.find((s) => s !== table && s.address === prds[i].address && s.data.length >= n);
        if (!snap) return false;
        parts.push(snap.data.subarray(0, n));
        off += n;
      }
    }
    this.startSnapshots = [];
    this.generation++;
    if (!req.toMemory) dev.dmaWrite(parts, true);
    this.endDma(dev, true, available > req.byteLength || !prds.eot);
    return true;
  }

  /** Walk the PRD table until end-of-table or until `needed` bytes are described. */
  private async readPrdTable(address: number, needed: number, snapshot: MemorySnapshot | null): Promise<PrdList> {
    const list = emptyPrdList();
    let addr = address;
    while (list.length < MAX_PRD_ENTRIES) {
      const chunk = prdChunkBytes(addr);
      // The table's first chunk (or its first entries) as the vCPU read it when the guest set START.
      const whole = snapshot ? Math.min(chunk, snapshot.data.length - (snapshot.data.length % PRD_ENTRY_SIZE)) : 0;
      const snap = addr === address && snapshot?.address === address && whole > 0 ? snapshot.data.subarray(0, whole) : null;
      const raw = snap ?? (await this.host.readMemory(addr, chunk));
      if (raw.length < PRD_ENTRY_SIZE) throw new Error('PRD table unreadable');
      if (addPrdEntries(list, raw, needed, MAX_PRD_ENTRIES)) return list;
      addr = (addr + raw.length - (raw.length % PRD_ENTRY_SIZE)) >>> 0; // a 32-bit bus master wraps
    }
    return list;
  }

  // ---- interrupt ----

  private updateIrq(): void {
    const dev = this.selected;
    const level = !(this.deviceControl & DeviceControl.nIEN) && !!dev?.intPending;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    if (level) this.busMaster.status |= BmStatus.INTERRUPT;
    this.host.setIrq(this.irqLine, level);
  }

  private badWidth(size: AccessSize): number {
    this.counters.badWidth++;
    return allOnes(size);
  }

  // ---- state ----

  save(): ChannelState {
    return {
      deviceControl: this.deviceControl,
      busMaster: this.busMaster.save(),
      devices: this.devices.map((d) => (d ? d.saveState() : null)),
    };
  }

  check(v: Json, where: string): ChannelChecked {
    const o = obj(v, where);
    const devs = o.devices;
    if (!Array.isArray(devs) || devs.length !== 2) throw new DeviceStateError(`${where}.devices: expected two entries`);
    const devices = this.devices.map((d, i) => {
      const w = `${where}.devices[${i}]`;
      if (!d) {
        if (devs[i] !== null) throw new DeviceStateError(`${w}: state for a device this channel does not have`);
        return null;
      }
      return d.checkState(devs[i], w);
    });
    return {
      deviceControl: num(o.deviceControl, `${where}.deviceControl`, 0, 0xff),
      busMaster: BusMasterChannel.check(o.busMaster, `${where}.busMaster`),
      devices,
    };
  }

  restore(c: ChannelChecked): void {
    this.abandonDma();
    this.generation++;
    this.startSnapshots = this.snapshotsAtCommand = [];
    this.snapshotsBytes = 0;
    this.deviceControl = c.deviceControl;
    this.busMaster.restore(c.busMaster);
    this.devices.forEach((d, i) => d?.restoreState(c.devices[i]));
    // Tell the host the restored line level, whatever it believed before.
    const dev = this.selected;
    this.irqLevel = !(this.deviceControl & DeviceControl.nIEN) && !!dev?.intPending;
    this.host.setIrq(this.irqLine, this.irqLevel);
    this.maybeStartDma();
  }
}

/**
 * How much of a PRD table at `addr` is read at once: at most 16 whole entries, never past
 * the 4 KiB page the table is in (a table near the top of guest RAM must not make us ask
 * for memory beyond it); only an entry the guest placed across a page boundary is read across it.
 */
export function prdChunkBytes(addr: number): number {
  const inPage = 0x1000 - (addr & 0xfff);
  return inPage < PRD_ENTRY_SIZE ? PRD_ENTRY_SIZE : Math.min(PRD_ENTRY_SIZE * 16, inPage - (inPage % PRD_ENTRY_SIZE));
}

interface MemorySnapshot {
  address: number;
  data: Uint8Array;
}


export interface ChannelState {
  deviceControl: number;
  busMaster: BusMasterState;
  devices: (Record<string, unknown> | null)[];
}

export interface ChannelChecked {
  deviceControl: number;
  busMaster: BusMasterState;
  devices: unknown[];
}

