import type { AccessAhead, AccessSize, DeviceHost, DmaCommandAhead, DeviceModel, DeviceState, GuestTimeNs, MemoryHint, PortRange } from '@quasivm/device-sdk';
import { allOnes, DeviceStateError } from '@quasivm/device-sdk';
import { AtaDisk, type AtaDiskOptions } from './ata-disk.js';
import { AtaReg, BmCommand } from './ata-registers.js';
import { AtapiCdrom, type AtapiCdromOptions } from './atapi-cdrom.js';
import { IdeCounters } from './counters.js';
import { IdeChannel, prdChunkBytes, type ChannelChecked } from './ide-channel.js';
import type { IdeDevice } from './ide-device.js';
import { BUS_MASTER_BLOCK_SIZE, Piix3IdeFunction } from './piix3-ide-function.js';
import { num, obj, str } from './state-check.js';
import type { BlockDevice } from './storage/block-device.js';

/** Legacy ISA-compatible resources of the two channels (PIIX3 datasheet 2.7, ATA-6 annex). */
export const PRIMARY_COMMAND_BASE = 0x1f0;
export const PRIMARY_CONTROL_PORT = 0x3f6;
export const PRIMARY_IRQ = 14;
export const SECONDARY_COMMAND_BASE = 0x170;
export const SECONDARY_CONTROL_PORT = 0x376;
export const SECONDARY_IRQ = 15;
export const COMMAND_BLOCK_LENGTH = 8;
/** Most bytes of a WRITE DMA's buffers a vCPU sends with the START write (Linux's largest request is 1280 KiB). */
export const GATHER_MAX_BYTES = 2 << 20;
/** Default BAR4 the factory programs so the bus-master ports are known up front. */
export const DEFAULT_BUS_MASTER_BASE = 0xc000;

export type DriveSpec =
  | ({ kind: 'disk'; image: BlockDevice } & AtaDiskOptions)
  | ({ kind: 'cdrom'; image: BlockDevice | null } & AtapiCdromOptions);

export interface AtaControllerOptions {
  /** [primary master, primary slave, secondary master, secondary slave]; null = absent. */
  drives: [DriveSpec | null, DriveSpec | null, DriveSpec | null, DriveSpec | null];
  /** Initial BAR4 (bus-master registers); 0 leaves it for the BIOS to assign. */
  busMasterBase?: number;
}

interface ChannelPorts {
  command: number;
  control: number;
}

const STATE_NAME = 'piix3-ide';
const STATE_VERSION = 1;

/**
 * A PIIX3-style IDE controller: two legacy channels (0x1F0/0x3F6 IRQ 14, 0x170/0x376
 * IRQ 15) with a master and a slave each, its PCI function and the bus-master DMA block.
 * This class decodes port numbers into channel register offsets; the channels and
 * drives below it see offsets only.
 */
export class AtaController implements DeviceModel {
  readonly counters = new IdeCounters();
  readonly pci: Piix3IdeFunction;
  readonly channels: readonly [IdeChannel, IdeChannel];
  private readonly ports: readonly [ChannelPorts, ChannelPorts] = [
    { command: PRIMARY_COMMAND_BASE, control: PRIMARY_CONTROL_PORT },
    { command: SECONDARY_COMMAND_BASE, control: SECONDARY_CONTROL_PORT },
  ];

  constructor(private readonly host: DeviceHost, options: AtaControllerOptions) {
    this.pci = new Piix3IdeFunction(options.busMasterBase ?? 0);
    const make = (spec: DriveSpec | null): IdeDevice | null => {
      if (!spec) return null;
      return spec.kind === 'disk' ? new AtaDisk(spec.image, this.counters, spec) : new AtapiCdrom(spec.image, this.counters, spec);
    };
    const d = options.drives.map(make);
    const bmOn = () => this.pci.busMasterEnabled;
    this.channels = [
      new IdeChannel(host, PRIMARY_IRQ, [d[0], d[1]], this.counters, bmOn),
      new IdeChannel(host, SECONDARY_IRQ, [d[2], d[3]], this.counters, bmOn),
    ];
  }

  /** The ports the controller decodes now: the legacy blocks and, once assigned, BAR4's bus-master block. */
  claimedPorts(): PortRange[] {
    const ranges: PortRange[] = [];
    this.ports.forEach((p, i) => {
      if (!this.pci.legacyDecodeEnabled(i as 0 | 1)) return;
      ranges.push({ base: p.command, length: COMMAND_BLOCK_LENGTH }, { base: p.control, length: 1 });
    });
    const bm = this.pci.busMasterBase;
    if (bm !== null) ranges.push({ base: bm, length: BUS_MASTER_BLOCK_SIZE });
    return ranges;
  }

  /** PCI function 0 of this device is the PIIX3 IDE function (00:01.1 on an i440FX machine). */
  pciConfigRead(fn: number, offset: number, size: AccessSize): number {
    return fn === 0 ? this.pci.configRead(offset, size) : allOnes(size);
  }

  /** A write that moves BAR4 or switches decoding tells the host which ports to route now. */
  pciConfigWrite(fn: number, offset: number, size: AccessSize, value: number): void {
    if (fn !== 0) return;
    const before = JSON.stringify(this.claimedPorts());
    this.pci.configWrite(offset, size, value);
    const after = this.claimedPorts();
    if (JSON.stringify(after) !== before) this.host.claimsChanged?.(after, []);
  }

  /** Drive at [channel][device], for wiring and inspection. */
  device(channel: 0 | 1, unit: 0 | 1): IdeDevice | null {
    return this.channels[channel].devices[unit];
  }

  /** Which part of the controller answers `port`. */
  private decode(port: number): { ch: IdeChannel; block: 'command' | 'control' | 'bm'; offset: number } | null {
    for (let i = 0; i < 2; i++) {
      const p = this.ports[i];
      if (!this.pci.legacyDecodeEnabled(i as 0 | 1)) continue;
      if (port >= p.command && port < p.command + COMMAND_BLOCK_LENGTH) return { ch: this.channels[i], block: 'command', offset: port - p.command };
      if (port === p.control) return { ch: this.channels[i], block: 'control', offset: 0 };
    }
    const bm = this.pci.busMasterBase;
    if (bm !== null && port >= bm && port < bm + BUS_MASTER_BLOCK_SIZE) {
      const rel = port - bm;
      return { ch: this.channels[rel >> 3], block: 'bm', offset: rel & 7 };
    }
    return null;
  }

  ioRead(port: number, size: AccessSize, _now: GuestTimeNs): number {
    const t = this.decode(port);
    if (!t || !validSize(size)) return this.unknown(t, size);
    switch (t.block) {
      case 'command':
        return t.ch.readCommandBlock(t.offset, size);
      case 'control':
        return t.ch.readControlBlock(size);
      case 'bm': {
        if ((t.offset & 7) + size > 8) return this.unknown(null, size, true);
        let v = 0;
        for (let i = 0; i < size; i++) v |= t.ch.readBusMaster(t.offset + i) << (8 * i);
        return v >>> 0;
      }
    }
  }

  ioWrite(port: number, size: AccessSize, value: number, _now: GuestTimeNs): void {
    const t = this.decode(port);
    if (!t || !validSize(size)) return void this.unknown(t, size);
    switch (t.block) {
      case 'command':
        return t.ch.writeCommandBlock(t.offset, size, value);
      case 'control':
        return t.ch.writeControlBlock(size, value);
      case 'bm':
        if ((t.offset & 7) + size > 8) return void this.unknown(null, size, true);
        for (let i = 0; i < size; i++) t.ch.writeBusMaster(t.offset + i, (value >>> (8 * i)) & 0xff);
        return;
    }
  }

  /** `rep ins`: on a data register a whole DRQ block (or several) moves in one call. */
  ioReadString(port: number, size: AccessSize, count: number, now: GuestTimeNs): Uint8Array {
    const t = this.decode(port);
    const n = Math.max(0, Math.floor(count));
    if (t && t.block === 'command' && t.offset === 0 && (size === 2 || size === 4)) return t.ch.readDataString(n * size);
    const out = new Uint8Array(n * (validSize(size) ? size : 1));
    const view = new DataView(out.buffer);
    for (let i = 0; i < n && validSize(size); i++) {
      const v = this.ioRead(port, size, now);
      if (size === 1) view.setUint8(i, v);
      else if (size === 2) view.setUint16(i * 2, v, true);
      else view.setUint32(i * 4, v >>> 0, true);
    }
    return out;
  }

  /** Reads a vCPU answered from an offer (proto Consumed): on the data register, whole blocks move on without copying their bytes. */
  consumeReadString(port: number, size: AccessSize, count: number, now: GuestTimeNs): void {
    const t = this.decode(port);
    const n = Math.max(0, Math.floor(count));
    if (t && t.block === 'command' && t.offset === 0 && (size === 2 || size === 4)) return t.ch.skipDataString(n * size);
    for (let i = 0; i < n && validSize(size); i++) this.ioRead(port, size, now);
  }

  ioWriteString(port: number, size: AccessSize, data: Uint8Array, now: GuestTimeNs): void {
    const t = this.decode(port);
    if (t && t.block === 'command' && t.offset === 0 && (size === 2 || size === 4)) {
      return t.ch.writeDataString(data.subarray(0, data.length - (data.length % size)));
    }
    if (!validSize(size)) return void this.unknown(t, size);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i + size <= data.length; i += size) {
      const v = size === 1 ? view.getUint8(i) : size === 2 ? view.getUint16(i, true) : view.getUint32(i, true);
      this.ioWrite(port, size, v, now);
    }
  }

  /**
   * A PIO data phase the vCPU may serve locally after a read of `port` (a channel's
   * Status, Alternate Status or Data register): its data (data-in) or how much it takes
   * (data-out), and the Status meanwhile. Nothing changes here until the reads come back
   * as ordinary accesses.
   */
  accessAhead(port: number, maxBytes: number, options?: { dmaMaxBytes?: number; dmaFirstBytes?: number }): AccessAhead | null {
    // A bus-master port too: the poll that sees a DMA finished gets the idle drive's Status.
    const t = this.decode(port);
    if (!t) return null;
    const i = this.channels.indexOf(t.ch);
    const a = t.ch.pioAhead(maxBytes);
    if (!a) return null;
    const base = this.ports[i].command;
    // Bus-master writes cannot change a PIO phase or an idle drive's Status (no DMA is pending).
    const ports = { dataPort: base + AtaReg.Data, statusPort: base + AtaReg.StatusCommand, altStatusPort: this.ports[i].control, registers: { base, length: COMMAND_BLOCK_LENGTH } };
    // A data phase offered to its end, or an idle drive: the commands a sequential transfer issues next (proto CommandAhead).
    const whole = a.kind === 'read' ? a.complete : a.statusAfter !== undefined;
    const left = maxBytes - (a.kind === 'read' ? a.data.length : a.length);
    const next = whole ? t.ch.commandsAhead(left).map((c) => ({ command: c.command, registers: c.registers, phase: { ...c.phase, ...ports } })) : [];
    if (next.length) return { ...a, ...ports, next };
    // An idle drive after a DMA command: the DMA commands a sequential transfer issues next (proto CommandAhead.dma).
    const idle = a.kind === 'read' && a.complete && a.data.length === 0;
    const bm = this.pci.busMasterBase;
    const dma = idle && options?.dmaMaxBytes && bm !== null ? t.ch.dmaAhead(options.dmaMaxBytes, 0, options.dmaFirstBytes ?? 0) : null;
    if (!dma?.commands.length || a.kind !== 'read') return { ...a, ...ports };
    const b = t.ch.busMaster;
    const channel = { commandBase: base, controlPort: this.ports[i].control, busMasterBase: bm! + 8 * i, bmCommand: b.command, bmStatus: b.status, prdAddress: b.prdAddress, status: a.statusAfter };
    return { ...a, ...ports, dma: { channel, commands: dma.commands, data: dma.data } };
  }

  /** A bus-master START write whose predicted DMA command the vCPU carried out itself (proto DmaServed). */
  dmaServed(port: number, size: AccessSize, value: number, byteLength: number, now: GuestTimeNs): void {
    const t = this.decode(port);
    if (t?.block === 'bm' && t.offset === 0 && size === 1) return t.ch.dmaServed(value & 0xff, byteLength);
    this.ioWrite(port, size, value, now);
  }

  /**
   * After a DMA command completed (a DmaServed of a bus master's command register, or the read
   * whose reply predicted the run), before the next: the commands after it and the `skip` after
   * those (proto DmaMore), as often as asked.
   */
  dmaMore(port: number, skip: number, maxBytes: number): { commands: DmaCommandAhead[]; data: Uint8Array } | null {
    const t = this.decode(port);
    if (t?.block !== 'bm' || t.offset !== 0) return null;
    return t.ch.dmaAhead(maxBytes, skip, 0, true);
  }

  /**
   * Each channel's PRD table, wanted with the write that sets its bus master's START bit
   * (the bus master reads the table then; SFF-8038i has it and the buffers set up before),
   * and for a transfer to the drive (READ clear) the memory its entries describe: the vCPU
   * sends them with that write, and the DMA starts without asking for them.
   */
  memoryHints(): MemoryHint[] {
    const bm = this.pci.busMasterBase;
    if (bm === null || !this.pci.busMasterEnabled) return [];
    return this.channels.map((ch, i) => ({
      port: bm + 8 * i,
      mask: BmCommand.START,
      addr: ch.busMaster.prdAddress,
      length: prdChunkBytes(ch.busMaster.prdAddress),
      gatherMax: GATHER_MAX_BYTES,
      gatherUnless: BmCommand.READ,
    }));
  }

  /** The PRD table as it was at a bus-master command write (memoryHints). */
  memorySnapshot(port: number, addr: number, data: Uint8Array): void {
    const t = this.decode(port);
    if (t?.block === 'bm' && t.offset === 0) t.ch.memoryAtCommand(addr, data);
  }

  /** Snapshots kept or a transfer running on either channel (DeviceModel.holdsMessageBytes). */
  holdsMessageBytes(): boolean {
    return this.channels[0].holdsMessageBytes || this.channels[1].holdsMessageBytes;
  }

  /** A DMA transfer in flight on either channel, until it ends (DeviceModel.busy). */
  busy(): Promise<void> | null {
    // The transfer's own promise: the same object for as long as that transfer runs.
    return this.channels[0].dmaTransfer ?? this.channels[1].dmaTransfer;
  }

  /** Resolves once no DMA transfer is in flight (tests; the service before Save). */
  async whenIdle(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.whenIdle()));
  }

  /** Flush every writable image (service Detach, shutdown). */
  flush(): void {
    for (const ch of this.channels) for (const d of ch.devices) d?.flushMedia();
  }

  /** Flush and release every image (service Detach). The model is unusable afterwards. */
  close(): void {
    for (const ch of this.channels) for (const d of ch.devices) d?.closeMedia();
  }

  private unknown(t: unknown, size: AccessSize, badWidth = false): number {
    if (t || badWidth) this.counters.badWidth++;
    else this.counters.unknownPort++;
    return allOnes(validSize(size) ? size : 4);
  }

  saveState(): DeviceState {
    return {
      device: STATE_NAME,
      version: STATE_VERSION,
      pciConfig: this.pci.save(),
      channels: this.channels.map((c) => c.save()),
      counters: this.counters.snapshot(),
    };
  }

  loadState(state: DeviceState): void {
    const o = obj(state, 'state');
    str(o.device, 'state.device', [STATE_NAME]);
    num(o.version, 'state.version', STATE_VERSION, STATE_VERSION);
    const pci = this.pci.check(o.pciConfig, 'state.pciConfig');
    if (!Array.isArray(o.channels) || o.channels.length !== 2) throw new DeviceStateError('state.channels: expected two channels');
    const checked: ChannelChecked[] = this.channels.map((c, i) => c.check((o.channels as unknown[])[i], `state.channels[${i}]`));
    const counters = obj(o.counters, 'state.counters');
    const counterValues: Record<string, number> = {};
    for (const k of Object.keys(this.counters)) counterValues[k] = num(counters[k], `state.counters.${k}`, 0, Number.MAX_SAFE_INTEGER);
    // Everything validated: apply.
    const before = JSON.stringify(this.claimedPorts());
    this.pci.restore(pci);
    Object.assign(this.counters, counterValues);
    this.channels.forEach((c, i) => c.restore(checked[i]));
    // A state whose BAR4 was assigned decodes the bus-master block: say so, as a config write
    // would (a session moved to another service must accept the ports the vCPU routes to it).
    const after = this.claimedPorts();
    if (JSON.stringify(after) !== before) this.host.claimsChanged?.(after, []);
  }
}

function validSize(size: number): size is AccessSize {
  return size === 1 || size === 2 || size === 4;
}
