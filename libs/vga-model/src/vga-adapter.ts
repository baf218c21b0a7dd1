/**
 * A VGA adapter with the Bochs VBE extensions, as one device model: it owns the port
 * decoding of the external registers and dispatches to one class per unit (sequencer,
 * CRTC, graphics controller, attribute controller, DAC, VBE DISPI, plane memory), the
 * memory windows (0A0000h-0BFFFFh, the LFB, the optional MMIO block and option ROM), the
 * window-mode decision for the vCPU, rendering, and the saved state.
 *
 * Accesses never throw. A bad width, unknown port or register, a write the hardware
 * ignores, or an access to no mapped memory is a no-op (reads all ones) counted per
 * instance in `counters`.
 */
import { allOnes, DeviceStateError, readStringBySingles, writeStringBySingles, type AccessSize, type DeviceHost, type DeviceModel, type DeviceState, type GuestTimeNs, type WindowModeInfo } from '@quasivm/device-sdk';
import { AttributeController } from './attribute-controller.js';
import { Crtc } from './crtc.js';
import { Dac } from './dac.js';
import { displayMode, sameMode, type DisplayMode, type VgaUnits } from './display-mode.js';
import { inputStatus1 } from './display-timing.js';
import { GraphicsController } from './graphics-controller.js';
import { VgaPciFunction, type PciBar } from './pci-function.js';
import { PlaneMemory } from './plane-memory.js';
import * as P from './ports.js';
import { Renderer, type RenderedFrame } from './renderer.js';
import { Sequencer } from './sequencer.js';
import { StateReader } from './state-io.js';
import { textRows } from './text-renderer.js';
import { VbeDispi, VBE_BANK_SIZE, VBE_DISPI_INDEX_BANK, VBE_DISPI_INDEX_COUNT, VBE_DISPI_INDEX_ENABLE } from './vbe-dispi.js';
import { computeWindowMode, directOffset, sameWindow, WindowTracker, type WindowMode } from './window-mode.js';
import { VGA_DEFAULT_CONFIG, validateVgaConfig, type VgaConfig } from './vga-config.js';

export const VGA_STATE_NAME = 'vga';
export const VGA_STATE_VERSION = 1;

/** Per-instance counts of accesses the model ignored. Diagnostics, not device state. */
export interface VgaCounters {
  badWidth: number;
  unknownPort: number;
  unknownRegister: number;
  /** CRTC / Input Status #1 ports of the addressing mode Misc Output bit 0 does not select. */
  inactivePort: number;
  /** Writes blocked by the CRTC protect bit or the attribute controller's PAS bit. */
  protectedWrite: number;
  /** VBE DISPI values refused (mode too large, bank out of range, bad bpp...). */
  refusedVbe: number;
  unmappedMemory: number;
  /** syncWindow bytes with no direct mapping to apply them to. */
  unsyncedBytes: number;
}

/** The MMIO block (BAR2) layout of the Bochs/QEMU standard VGA: VGA ports, then DISPI registers. */
export const MMIO_VGA_PORTS = 0x400;
/** Largest string read served at once (a guest cannot make the model allocate more). */
export const MAX_STRING_COUNT = 0x10000;
export const MMIO_VBE_DISPI = 0x500;

export class VgaAdapter implements DeviceModel, VgaUnits {
  /** Miscellaneous Output Register (3C2h write, 3CCh read). */
  misc = 0;
  /** Feature Control Register (3BAh/3DAh write, 3CAh read). */
  featureControl = 0;
  /** Video Subsystem Enable (3C3h). */
  videoEnable = 1;
  seq = new Sequencer();
  crtc = new Crtc();
  gc = new GraphicsController();
  ac = new AttributeController();
  dac = new Dac();
  planes = new PlaneMemory();
  vbe: VbeDispi;
  readonly pci: VgaPciFunction;
  readonly config: VgaConfig;
  readonly counters: VgaCounters = {
    badWidth: 0, unknownPort: 0, unknownRegister: 0, inactivePort: 0, protectedWrite: 0, refusedVbe: 0, unmappedMemory: 0, unsyncedBytes: 0,
  };
  private readonly renderer = new Renderer();
  private window: WindowTracker;
  private lastDisplay: DisplayMode | null = null;
  private lastBars = '';
  /** BAR0 decode, refreshed on configuration writes (the LFB hot path reads it per byte). */
  private lfb: PciBar;
  /** Bumped when what backs the LFB changes for a vCPU mapping it (DISPI enable writes may clear it, BAR moves). */
  private lfbGeneration = 0;

  constructor(private readonly host: DeviceHost, config: Partial<VgaConfig> = {}) {
    this.config = { ...VGA_DEFAULT_CONFIG, ...config };
    validateVgaConfig(this.config);
    this.vbe = new VbeDispi(this.limits());
    this.pci = new VgaPciFunction({
      lfbSize: this.config.vbeMemorySize,
      lfbBase: this.config.lfbBase,
      mmio: this.config.mmio,
      mmioBase: this.config.mmioBase,
      rom: this.config.optionRom,
    });
    this.window = new WindowTracker(computeWindowMode(this.misc, this.seq, this.gc, this.vbe));
    this.lastBars = this.barsKey();
    this.lfb = this.pci.lfb();
  }

  private limits() {
    return { memorySize: this.config.vbeMemorySize, maxXres: this.config.maxXres, maxYres: this.config.maxYres };
  }

  // ---------------------------------------------------------------- ports

  ioRead(port: number, size: AccessSize, now: GuestTimeNs): number {
    if (port === P.PORT_VBE_DISPI_INDEX || port === P.PORT_VBE_DISPI_DATA) {
      if (size !== 2) return this.badWidth(size);
      if (port === P.PORT_VBE_DISPI_INDEX) return this.vbe.index;
      const v = this.vbe.readData();
      if (v === null) this.counters.unknownRegister++;
      return v ?? 0xffff;
    }
    if (size !== 1 && size !== 2 && size !== 4) return this.badWidth(size);
    // Wider accesses to the 8-bit VGA registers are consecutive byte accesses.
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readPort(port + i, now) << (8 * i);
    return v >>> 0;
  }

  ioWrite(port: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    if (port === P.PORT_VBE_DISPI_INDEX || port === P.PORT_VBE_DISPI_DATA) {
      if (size !== 2) {
        this.badWidth(size);
        return;
      }
      if (port === P.PORT_VBE_DISPI_INDEX) this.vbe.index = value & 0xffff;
      else this.writeDispi(value);
      return;
    }
    if (size !== 1 && size !== 2 && size !== 4) {
      this.badWidth(size);
      return;
    }
    // `out dx, ax` to an index port writes the index, then the data register above it.
    for (let i = 0; i < size; i++) this.writePort(port + i, (value >>> (8 * i)) & 0xff, now);
  }

  /** `rep insb/insw`: DAC reads and the like, as consecutive single accesses. */
  ioReadString(port: number, size: AccessSize, count: number, now: GuestTimeNs): Uint8Array {
    return readStringBySingles(this, port, size, Math.max(0, Math.min(count, MAX_STRING_COUNT)), now);
  }

  /** `rep outsb/outsw`: palette loads and register table writes, as consecutive single accesses. */
  ioWriteString(port: number, size: AccessSize, data: Uint8Array, now: GuestTimeNs): void {
    if (size !== 1 && size !== 2 && size !== 4) {
      this.badWidth(size);
      return;
    }
    writeStringBySingles(this, port, size, data, now);
  }

  private badWidth(size: number): number {
    this.counters.badWidth++;
    return size === 1 || size === 2 || size === 4 ? allOnes(size) : 0xffffffff;
  }

  private crtcActive(port: number): boolean {
    const color = (this.misc & P.MISC_IOAS) !== 0;
    return color ? port >= 0x3d0 : port < 0x3c0;
  }

  private readPort(port: number, now: number): number {
    switch (port) {
      case P.PORT_AC_INDEX_DATA: return this.ac.readIndex();
      case P.PORT_AC_DATA_READ: return this.known(this.ac.readData());
      case P.PORT_MISC_WRITE_STATUS_0: return 0x00; // Input Status #0: no switch sense, no CRT interrupt
      case P.PORT_VIDEO_ENABLE: return this.videoEnable;
      case P.PORT_SEQ_INDEX: return this.seq.readIndex();
      case P.PORT_SEQ_DATA: return this.known(this.seq.readData());
      case P.PORT_DAC_MASK: return this.dac.pixelMask;
      case P.PORT_DAC_READ_INDEX: return this.dac.state;
      case P.PORT_DAC_WRITE_INDEX: return this.dac.writeIndex;
      case P.PORT_DAC_DATA: return this.dac.readData();
      case P.PORT_FEATURE_CONTROL_READ: return this.featureControl;
      case P.PORT_MISC_READ: return this.misc;
      case P.PORT_GC_INDEX: return this.gc.readIndex();
      case P.PORT_GC_DATA: return this.known(this.gc.readData());
      case P.PORT_CRTC_INDEX_MONO:
      case P.PORT_CRTC_INDEX_COLOR:
        return this.crtcActive(port) ? this.crtc.readIndex() : this.inactive();
      case P.PORT_CRTC_DATA_MONO:
      case P.PORT_CRTC_DATA_COLOR:
        return this.crtcActive(port) ? this.known(this.crtc.readData()) : this.inactive();
      case P.PORT_INPUT_STATUS_1_MONO:
      case P.PORT_INPUT_STATUS_1_COLOR:
        if (!this.crtcActive(port)) return this.inactive();
        this.ac.resetFlipFlop();
        return inputStatus1(now);
      default:
        this.counters.unknownPort++;
        return 0xff;
    }
  }

  private writePort(port: number, v: number, _now: number): void {
    switch (port) {
      case P.PORT_AC_INDEX_DATA: {
        const r = this.ac.write(v);
        if (r === 'unknown') this.counters.unknownRegister++;
        else if (r === 'protected') this.counters.protectedWrite++;
        return;
      }
      case P.PORT_MISC_WRITE_STATUS_0:
        this.misc = v;
        this.updateWindow();
        return;
      case P.PORT_VIDEO_ENABLE:
        this.videoEnable = v & 1;
        return;
      case P.PORT_SEQ_INDEX:
        this.seq.writeIndex(v);
        return;
      case P.PORT_SEQ_DATA:
        if (!this.seq.writeData(v)) this.counters.unknownRegister++;
        this.updateWindow();
        return;
      case P.PORT_DAC_MASK:
        this.dac.pixelMask = v;
        return;
      case P.PORT_DAC_READ_INDEX:
        this.dac.setReadIndex(v);
        return;
      case P.PORT_DAC_WRITE_INDEX:
        this.dac.setWriteIndex(v);
        return;
      case P.PORT_DAC_DATA:
        this.dac.writeData(v);
        return;
      case P.PORT_GC_INDEX:
        this.gc.writeIndex(v);
        return;
      case P.PORT_GC_DATA:
        if (!this.gc.writeData(v)) this.counters.unknownRegister++;
        this.updateWindow();
        return;
      case P.PORT_CRTC_INDEX_MONO:
      case P.PORT_CRTC_INDEX_COLOR:
        if (this.crtcActive(port)) this.crtc.writeIndex(v);
        else this.inactive();
        return;
      case P.PORT_CRTC_DATA_MONO:
      case P.PORT_CRTC_DATA_COLOR: {
        if (!this.crtcActive(port)) {
          this.inactive();
          return;
        }
        const r = this.crtc.writeData(v);
        if (r === 'unknown') this.counters.unknownRegister++;
        else if (r === 'protected') this.counters.protectedWrite++;
        return;
      }
      case P.PORT_INPUT_STATUS_1_MONO:
      case P.PORT_INPUT_STATUS_1_COLOR:
        if (this.crtcActive(port)) this.featureControl = v & 0x0b;
        else this.inactive();
        return;
      default:
        this.counters.unknownPort++; // includes the read-only 3C1h, 3CAh, 3CCh
    }
  }

  private known(v: number | null): number {
    if (v === null) {
      this.counters.unknownRegister++;
      return 0xff;
    }
    return v;
  }

  private inactive(): number {
    this.counters.inactivePort++;
    return 0xff;
  }

  private writeDispi(value: number): void {
    const r = this.vbe.writeData(value);
    if (r === 'unknown') this.counters.unknownRegister++;
    else if (r === 'refused') this.counters.refusedVbe++;
    if (this.vbe.index === VBE_DISPI_INDEX_ENABLE) {
      this.lfbGeneration++;
      this.dac.eightBit = this.vbe.eightBitDac;
      this.updateWindow();
    } else if (this.vbe.index === VBE_DISPI_INDEX_BANK) {
      this.updateWindow();
    }
  }

  // ---------------------------------------------------------------- memory

  memRead(addr: number, size: AccessSize, _now: GuestTimeNs): number {
    if (size !== 1 && size !== 2 && size !== 4) return this.badWidth(size);
    const mmio = this.mmioOffset(addr, size);
    if (mmio >= 0) return this.mmioRead(mmio, size);
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readMemByte(addr + i) << (8 * i);
    return v >>> 0;
  }

  memWrite(addr: number, size: AccessSize, value: number, _now: GuestTimeNs): void {
    if (size !== 1 && size !== 2 && size !== 4) {
      this.badWidth(size);
      return;
    }
    const mmio = this.mmioOffset(addr, size);
    if (mmio >= 0) {
      this.mmioWrite(mmio, size, value);
      return;
    }
    for (let i = 0; i < size; i++) this.writeMemByte(addr + i, (value >>> (8 * i)) & 0xff);
  }

  /** Offset in the MMIO block of an access wholly inside it (registers keep their width), else -1. */
  private mmioOffset(addr: number, size: number): number {
    const mmio = this.pci.mmio();
    if (!mmio || !mmio.enabled || addr < mmio.base || addr + size > mmio.base + mmio.length) return -1;
    return addr - mmio.base;
  }

  private readMemByte(addr: number): number {
    if (addr >= P.VGA_WINDOW_BASE && addr < P.VGA_WINDOW_BASE + P.VGA_WINDOW_LENGTH) return this.windowRead(addr);
    const lfb = this.lfb;
    if (lfb.enabled && addr >= lfb.base && addr < lfb.base + lfb.length) return this.vbe.readByte(addr - lfb.base);
    const rom = this.pci.rom();
    if (rom && rom.enabled && addr >= rom.base && addr < rom.base + rom.length) return this.pci.romByte(addr - rom.base);
    this.counters.unmappedMemory++;
    return 0xff;
  }

  private writeMemByte(addr: number, v: number): void {
    if (addr >= P.VGA_WINDOW_BASE && addr < P.VGA_WINDOW_BASE + P.VGA_WINDOW_LENGTH) {
      this.windowWrite(addr, v);
      return;
    }
    const lfb = this.lfb;
    if (lfb.enabled && addr >= lfb.base && addr < lfb.base + lfb.length) {
      this.vbe.writeByte(addr - lfb.base, v);
      return;
    }
    this.counters.unmappedMemory++; // including the read-only option ROM
  }

  private windowRead(addr: number): number {
    if (this.vbe.enabled) {
      const a = addr - P.VGA_WINDOW_BASE;
      if (a < VBE_BANK_SIZE) return this.vbe.readByte(this.vbe.bank * VBE_BANK_SIZE + a);
    } else if (this.misc & P.MISC_RAM_ENABLE) {
      const map = this.gc.memoryMap;
      const a = addr - map.base;
      if (a >= 0 && a < map.length) return this.planes.cpuRead(a, this.seq, this.gc);
    }
    this.counters.unmappedMemory++;
    return 0xff;
  }

  private windowWrite(addr: number, v: number): void {
    if (this.vbe.enabled) {
      const a = addr - P.VGA_WINDOW_BASE;
      if (a < VBE_BANK_SIZE) {
        this.vbe.writeByte(this.vbe.bank * VBE_BANK_SIZE + a, v);
        return;
      }
    } else if (this.misc & P.MISC_RAM_ENABLE) {
      const map = this.gc.memoryMap;
      const a = addr - map.base;
      if (a >= 0 && a < map.length) {
        this.planes.cpuWrite(a, v, this.seq, this.gc);
        return;
      }
    }
    this.counters.unmappedMemory++;
  }

  /** BAR2 MMIO: 400h-41Fh are the VGA ports 3C0h-3DFh, 500h-515h the DISPI registers (16-bit). */
  mmioRead(offset: number, size: AccessSize): number {
    if (offset >= MMIO_VGA_PORTS && offset < MMIO_VGA_PORTS + 0x20) return this.ioRead(0x3c0 + offset - MMIO_VGA_PORTS, size, 0);
    if (offset >= MMIO_VBE_DISPI && offset < MMIO_VBE_DISPI + VBE_DISPI_INDEX_COUNT * 2 && size === 2 && offset % 2 === 0) {
      const saved = this.vbe.index;
      this.vbe.index = (offset - MMIO_VBE_DISPI) >> 1;
      const v = this.ioRead(P.PORT_VBE_DISPI_DATA, 2, 0);
      this.vbe.index = saved;
      return v;
    }
    this.counters.unknownRegister++;
    return allOnes(size);
  }

  mmioWrite(offset: number, size: AccessSize, value: number): void {
    if (offset >= MMIO_VGA_PORTS && offset < MMIO_VGA_PORTS + 0x20) {
      this.ioWrite(0x3c0 + offset - MMIO_VGA_PORTS, size, value, 0);
      return;
    }
    if (offset >= MMIO_VBE_DISPI && offset < MMIO_VBE_DISPI + VBE_DISPI_INDEX_COUNT * 2 && size === 2 && offset % 2 === 0) {
      const saved = this.vbe.index;
      this.vbe.index = (offset - MMIO_VBE_DISPI) >> 1;
      this.writeDispi(value);
      this.vbe.index = saved;
      return;
    }
    this.counters.unknownRegister++;
  }

  // ---------------------------------------------------------------- PCI

  configRead(offset: number, size: AccessSize): number {
    return this.pci.configRead(offset, size);
  }

  /** A configuration write; moving or (dis)abling a BAR emits 'pci-bars' with where each now decodes. */
  configWrite(offset: number, size: AccessSize, value: number): void {
    this.pci.configWrite(offset, size, value);
    this.lfb = this.pci.lfb();
    const key = this.barsKey();
    if (key !== this.lastBars) {
      this.lastBars = key;
      this.lfbGeneration++;
      this.host.emitEvent('pci-bars', this.bars() as unknown as Record<string, unknown>);
    }
  }

  /** The device protocol's view of the PCI function (function 0 is the only one). */
  pciConfigRead(fn: number, offset: number, size: AccessSize): number {
    return fn === 0 ? this.configRead(offset, size) : allOnes(size);
  }

  /** A write that moves a BAR tells the host which memory the adapter decodes now. */
  pciConfigWrite(fn: number, offset: number, size: AccessSize, value: number): void {
    if (fn !== 0) return;
    const before = this.barsKey();
    this.configWrite(offset, size, value);
    if (this.barsKey() !== before) this.host.claimsChanged?.(P.VGA_PORT_RANGES.map((r) => ({ ...r })), this.memoryWindows());
  }

  /** Guest-physical memory the adapter decodes now: the legacy window and every enabled BAR. */
  memoryWindows(): Array<{ base: number; length: number }> {
    const windows = [{ base: P.VGA_WINDOW_BASE, length: P.VGA_WINDOW_LENGTH }];
    const { lfb, mmio, rom } = this.bars();
    for (const bar of [lfb, mmio, rom]) if (bar && bar.enabled && bar.base) windows.push({ base: bar.base, length: bar.length });
    return windows;
  }

  /** Where the LFB, MMIO block and option ROM currently decode (null = not present). */
  bars(): { lfb: PciBar; mmio: PciBar | null; rom: PciBar | null } {
    return { lfb: this.pci.lfb(), mmio: this.pci.mmio(), rom: this.pci.rom() };
  }

  private barsKey(): string {
    return JSON.stringify(this.bars());
  }

  // ---------------------------------------------------------------- window mode for the vCPU

  /** Whether the vCPU may map the 0A0000h window as RAM ('direct') or must trap it. */
  windowMode(): WindowMode {
    return { ...this.window.current };
  }

  private updateWindow(): void {
    const changed = this.window.update(computeWindowMode(this.misc, this.seq, this.gc, this.vbe));
    if (changed) this.host.emitEvent('window-mode', { ...changed });
  }

  /**
   * The device protocol's window modes (WindowQuery): the 0A0000h window as windowMode()
   * says, except the banked VBE window, which keeps trapping because it aliases the LFB
   * (two RAM copies of the same bytes in the vCPU would disagree); and the LFB, direct
   * whenever BAR0 decodes.
   */
  windowModes(): WindowModeInfo[] {
    const w = this.window.current;
    const legacyDirect = w.mode === 'direct' && w.mapping !== 'vbe-bank';
    const lfb = this.lfb;
    return [
      { base: w.base, length: w.length, direct: legacyDirect, generation: w.generation },
      { base: lfb.base, length: lfb.length, direct: lfb.enabled && lfb.base !== 0, generation: this.lfbGeneration, zero: this.vbe.peekMemory() === null },
    ];
  }

  /** The current bytes of a direct window range (legacy window or LFB), for the vCPU's copy. */
  memoryFetch(addr: number, length: number): Uint8Array {
    if (addr >= P.VGA_WINDOW_BASE && addr < P.VGA_WINDOW_BASE + P.VGA_WINDOW_LENGTH) return this.readWindow(addr, length);
    return this.readLfb(addr, length);
  }

  /** Bytes the guest wrote into a direct window, applied through the current mapping. */
  memorySync(addr: number, data: Uint8Array): void {
    if (addr >= P.VGA_WINDOW_BASE && addr < P.VGA_WINDOW_BASE + P.VGA_WINDOW_LENGTH) this.syncWindow(addr, data, this.window.current.mode === 'direct' ? this.window.current.generation : -1);
    else this.syncLfb(addr, data);
  }

  /**
   * Apply bytes the guest wrote to the directly mapped window (a dirty page shipped by the
   * vCPU). `addr` is guest-physical; `generation` is the window-mode generation the vCPU
   * mapped the window under (default: the newest direct mapping). The bytes go through
   * that mapping even if the window has since changed, so the vCPU can flush after the
   * event that told it to remap. Bytes outside the mapping, or for a generation too old
   * to remember, are counted and dropped.
   */
  syncWindow(addr: number, bytes: Uint8Array, generation?: number): void {
    const m = this.window.direct(generation);
    if (!m) {
      this.counters.unsyncedBytes += bytes.length;
      return;
    }
    for (let i = 0; i < bytes.length; i++) {
      const a = addr + i - m.base;
      if (a < 0 || a >= m.length) {
        this.counters.unsyncedBytes++;
        continue;
      }
      const o = directOffset(m.mapping, a, m.bank);
      if (o.vbe) this.vbe.writeByte(o.offset, bytes[i]);
      else this.planes.vram[o.offset] = bytes[i];
    }
  }

  /**
   * What the CPU reads from the directly mapped window at `addr` (guest-physical), without
   * the side effects of a trapped read: the vCPU fills its RAM copy from this when the
   * window becomes direct. Bytes outside the current direct mapping read 0xFF.
   */
  readWindow(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, Math.min(length, P.VGA_WINDOW_LENGTH))).fill(0xff);
    const m = this.window.current.mode === 'direct' ? this.window.current : null;
    if (!m) return out;
    for (let i = 0; i < out.length; i++) {
      const a = addr + i - m.base;
      if (a < 0 || a >= m.length) continue;
      const o = directOffset(m.mapping, a, m.bank);
      out[i] = o.vbe ? this.vbe.readByte(o.offset) : this.planes.vram[o.offset];
    }
    return out;
  }

  /** Apply bytes written to a directly mapped LFB; `addr` is guest-physical. */
  syncLfb(addr: number, bytes: Uint8Array): void {
    const base = this.pci.lfb().base;
    const off = addr - base;
    const size = this.config.vbeMemorySize;
    if (off < 0 || off >= size) {
      this.counters.unsyncedBytes += bytes.length;
      return;
    }
    const n = Math.min(bytes.length, size - off);
    this.vbe.memory().set(bytes.subarray(0, n), off);
    this.counters.unsyncedBytes += bytes.length - n;
  }

  /** The LFB contents at `addr` (guest-physical), e.g. to fill a RAM mapping. */
  readLfb(addr: number, length: number): Uint8Array {
    const size = this.config.vbeMemorySize;
    const off = addr - this.pci.lfb().base;
    const out = new Uint8Array(Math.max(0, Math.min(length, size)));
    const mem = this.vbe.peekMemory();
    if (!mem || off >= size || off + out.length <= 0) return out;
    const from = Math.max(0, off);
    out.set(mem.subarray(from, Math.min(size, off + out.length)), from - off);
    return out;
  }

  // ---------------------------------------------------------------- display

  /** The current picture; emits 'display-mode' when the mode or size changed. */
  render(now: GuestTimeNs, sinceFrame?: number): RenderedFrame {
    const f = this.renderer.render(this, now, sinceFrame);
    if (!this.lastDisplay || !sameMode(this.lastDisplay, f.mode)) {
      this.lastDisplay = f.mode;
      this.host.emitEvent('display-mode', { ...f.mode });
    }
    return f;
  }

  displayMode(): DisplayMode {
    return displayMode(this);
  }

  /** Text-mode rows as Unicode (CP437), full width; [] in graphics modes. */
  screenText(): string[] {
    const mode = displayMode(this);
    return mode.kind === 'text' ? textRows(this, mode) : [];
  }

  /**
   * The text cursor as the CRTC places it (row/column relative to the start address), or
   * null outside text modes. `visible` ignores blinking: it is false when CR0A disables
   * the cursor, its start line is below its end line, or it lies off screen.
   */
  textCursor(): { row: number; column: number; visible: boolean } | null {
    const mode = displayMode(this);
    if (mode.kind !== 'text' || !mode.columns || !mode.rows) return null;
    const rel = (this.crtc.cursorLocation - this.crtc.startAddress) & 0xffff;
    const stride = this.crtc.rowStride || mode.columns;
    const row = Math.floor(rel / stride);
    const column = rel % stride;
    const onScreen = row < mode.rows && column < mode.columns;
    const shaped = !this.crtc.cursorDisabled && this.crtc.cursorStart <= this.crtc.cursorEnd && this.crtc.cursorStart <= this.crtc.maxScanLine;
    return { row, column, visible: onScreen && shaped };
  }

  // ---------------------------------------------------------------- state

  saveState(): DeviceState {
    return {
      device: VGA_STATE_NAME,
      version: VGA_STATE_VERSION,
      notState: ['rendered frames and dirty tracking', 'access counters', 'input status timing (a function of guest time)', 'configuration (VBE memory size, LFB default, option ROM)'],
      misc: this.misc,
      featureControl: this.featureControl,
      videoEnable: this.videoEnable,
      sequencer: this.seq.save(),
      crtc: this.crtc.save(),
      graphics: this.gc.save(),
      attribute: this.ac.save(),
      dac: this.dac.save(),
      planes: this.planes.save(),
      vbe: this.vbe.save(),
      pci: this.pci.save(),
      window: this.window.save(),
    };
  }

  loadState(state: DeviceState): void {
    let parsed;
    try {
      parsed = this.parseState(state);
    } catch (e) {
      if (e instanceof DeviceStateError) throw e;
      throw new DeviceStateError(`vga: malformed state: ${(e as Error).message}`);
    }
    // Everything parsed: commit.
    const oldWindow = this.window.current;
    Object.assign(this, parsed.scalars);
    this.seq = parsed.seq;
    this.crtc = parsed.crtc;
    this.gc = parsed.gc;
    this.ac = parsed.ac;
    this.dac = parsed.dac;
    this.planes = parsed.planes;
    this.vbe = parsed.vbe;
    this.pci.apply(parsed.pciConfig);
    this.lfb = this.pci.lfb();
    this.window = parsed.window;
    if (!sameWindow(oldWindow, this.window.current)) this.host.emitEvent('window-mode', { ...this.window.current });
    const bars = this.barsKey();
    if (bars !== this.lastBars) {
      this.lastBars = bars;
      this.host.emitEvent('pci-bars', this.bars() as unknown as Record<string, unknown>);
    }
  }

  private parseState(state: DeviceState) {
    const r = new StateReader(state, '');
    if (r.raw('device') !== VGA_STATE_NAME) r.fail('device', `must be ${JSON.stringify(VGA_STATE_NAME)}`);
    if (r.raw('version') !== VGA_STATE_VERSION) r.fail('version', `must be ${VGA_STATE_VERSION}`);
    const scalars = { misc: r.byte('misc'), featureControl: r.int('featureControl', 0, 0x0b), videoEnable: r.int('videoEnable', 0, 1) };
    const seq = Sequencer.load(r.obj('sequencer'));
    const crtc = Crtc.load(r.obj('crtc'));
    const gc = GraphicsController.load(r.obj('graphics'));
    const ac = AttributeController.load(r.obj('attribute'));
    const dac = Dac.load(r.obj('dac'));
    const planes = PlaneMemory.load(r.obj('planes'));
    const vbe = VbeDispi.load(r.obj('vbe'), this.limits());
    if (dac.eightBit !== vbe.eightBitDac) r.fail('dac.eightBit', 'must match the VBE ENABLE 8-bit DAC bit');
    const pciConfig = this.pci.load(r.obj('pci'));
    const window = WindowTracker.load(r.obj('window'), computeWindowMode(scalars.misc, seq, gc, vbe), this.config.vbeMemorySize);
    return { scalars, seq, crtc, gc, ac, dac, planes, vbe, pciConfig, window };
  }
}


