/**
 * Bochs VBE DISPI interface (Bochs iodev/vga "VBE display interface", as documented for
 * the Bochs/QEMU standard VGA): 16-bit index register at 1CEh, data at 1CFh, and the
 * linear VBE video memory behind the LFB and the banked 0A0000h window.
 *
 * Memory is allocated lazily, once, at exactly the configured size; no register value can
 * make it larger. A mode that does not fit is refused: the register keeps its old value
 * (and the adapter counts the refusal).
 */
import { StateReader, saveSparse } from './state-io.js';

export const VBE_DISPI_INDEX_ID = 0x0;
export const VBE_DISPI_INDEX_XRES = 0x1;
export const VBE_DISPI_INDEX_YRES = 0x2;
export const VBE_DISPI_INDEX_BPP = 0x3;
export const VBE_DISPI_INDEX_ENABLE = 0x4;
export const VBE_DISPI_INDEX_BANK = 0x5;
export const VBE_DISPI_INDEX_VIRT_WIDTH = 0x6;
export const VBE_DISPI_INDEX_VIRT_HEIGHT = 0x7;
export const VBE_DISPI_INDEX_X_OFFSET = 0x8;
export const VBE_DISPI_INDEX_Y_OFFSET = 0x9;
export const VBE_DISPI_INDEX_VIDEO_MEMORY_64K = 0xa;
export const VBE_DISPI_INDEX_COUNT = 0xb;

/** Interface versions a guest may select through the ID register. */
export const VBE_DISPI_ID0 = 0xb0c0;
export const VBE_DISPI_ID5 = 0xb0c5;

/** ENABLE register bits. */
export const VBE_DISPI_ENABLED = 0x01;
export const VBE_DISPI_GETCAPS = 0x02;
export const VBE_DISPI_8BIT_DAC = 0x20;
export const VBE_DISPI_LFB_ENABLED = 0x40;
export const VBE_DISPI_NOCLEARMEM = 0x80;

export const VBE_BANK_SIZE = 0x10000;
export const VBE_SUPPORTED_BPP: readonly number[] = [8, 15, 16, 24, 32];
/** Bochs' limits; a factory may lower them. */
export const VBE_DEFAULT_MAX_XRES = 2560;
export const VBE_DEFAULT_MAX_YRES = 1600;
export const VBE_MAX_BPP = 32;

/** Granule of the sparse saved form of VBE memory. */
const SAVE_PAGE = 0x10000;

export interface VbeLimits {
  memorySize: number;
  maxXres: number;
  maxYres: number;
}

export function bytesPerPixel(bpp: number): number {
  return bpp === 15 ? 2 : bpp >> 3;
}

export type VbeWriteResult = 'ok' | 'unknown' | 'refused';

export class VbeDispi {
  index = 0;
  id = VBE_DISPI_ID5;
  xres = 640;
  yres = 480;
  bpp = 8;
  /** ENABLE as last accepted. */
  enable = 0;
  bank = 0;
  virtWidth = 640;
  virtHeight = 480;
  xOffset = 0;
  yOffset = 0;
  /** VBE video memory: null until first needed, then exactly limits.memorySize bytes. */
  private mem: Uint8Array | null = null;

  constructor(readonly limits: VbeLimits) {}

  get enabled(): boolean {
    return (this.enable & VBE_DISPI_ENABLED) !== 0;
  }
  get eightBitDac(): boolean {
    return (this.enable & VBE_DISPI_8BIT_DAC) !== 0;
  }
  get bytesPerPixel(): number {
    return bytesPerPixel(this.bpp);
  }
  get pitch(): number {
    return this.virtWidth * this.bytesPerPixel;
  }
  /** Byte offset in VBE memory of the first displayed pixel. */
  get displayStart(): number {
    return this.yOffset * this.pitch + this.xOffset * this.bytesPerPixel;
  }

  memory(): Uint8Array {
    if (!this.mem) this.mem = new Uint8Array(this.limits.memorySize);
    return this.mem;
  }
  /** Memory if allocated, for readers that treat unallocated memory as zeros. */
  peekMemory(): Uint8Array | null {
    return this.mem;
  }

  readByte(offset: number): number {
    return this.mem && offset >= 0 && offset < this.mem.length ? this.mem[offset] : 0;
  }

  writeByte(offset: number, v: number): boolean {
    if (offset < 0 || offset >= this.limits.memorySize) return false;
    this.memory()[offset] = v;
    return true;
  }

  readData(): number | null {
    const caps = (this.enable & VBE_DISPI_GETCAPS) !== 0;
    switch (this.index) {
      case VBE_DISPI_INDEX_ID: return this.id;
      case VBE_DISPI_INDEX_XRES: return caps ? this.limits.maxXres : this.xres;
      case VBE_DISPI_INDEX_YRES: return caps ? this.limits.maxYres : this.yres;
      case VBE_DISPI_INDEX_BPP: return caps ? VBE_MAX_BPP : this.bpp;
      case VBE_DISPI_INDEX_ENABLE: return this.enable;
      case VBE_DISPI_INDEX_BANK: return this.bank;
      case VBE_DISPI_INDEX_VIRT_WIDTH: return this.virtWidth;
      case VBE_DISPI_INDEX_VIRT_HEIGHT: return this.virtHeight;
      case VBE_DISPI_INDEX_X_OFFSET: return this.xOffset;
      case VBE_DISPI_INDEX_Y_OFFSET: return this.yOffset;
      case VBE_DISPI_INDEX_VIDEO_MEMORY_64K: return Math.min(0xffff, this.limits.memorySize / VBE_BANK_SIZE);
      default: return null;
    }
  }

  writeData(value: number): VbeWriteResult {
    const v = value & 0xffff;
    switch (this.index) {
      case VBE_DISPI_INDEX_ID:
        if (v < VBE_DISPI_ID0 || v > VBE_DISPI_ID5) return 'refused';
        this.id = v;
        return 'ok';
      case VBE_DISPI_INDEX_XRES:
        // Geometry is fixed while a mode is enabled; a driver disables first.
        if (this.enabled || v === 0 || v > this.limits.maxXres) return 'refused';
        this.xres = v;
        return 'ok';
      case VBE_DISPI_INDEX_YRES:
        if (this.enabled || v === 0 || v > this.limits.maxYres) return 'refused';
        this.yres = v;
        return 'ok';
      case VBE_DISPI_INDEX_BPP: {
        const bpp = v === 0 ? 8 : v;
        if (this.enabled || !VBE_SUPPORTED_BPP.includes(bpp)) return 'refused';
        this.bpp = bpp;
        return 'ok';
      }
      case VBE_DISPI_INDEX_ENABLE:
        return this.writeEnable(v);
      case VBE_DISPI_INDEX_BANK:
        if (v * VBE_BANK_SIZE >= this.limits.memorySize) return 'refused';
        this.bank = v;
        return 'ok';
      case VBE_DISPI_INDEX_VIRT_WIDTH: {
        const bpp = this.bytesPerPixel;
        if (v < this.xres || v * bpp * this.yres > this.limits.memorySize) return 'refused';
        this.virtWidth = v;
        this.virtHeight = Math.min(0xffff, Math.floor(this.limits.memorySize / (v * bpp)));
        this.clampOffsets();
        return 'ok';
      }
      case VBE_DISPI_INDEX_VIRT_HEIGHT:
        if (v < this.yres || v * this.pitch > this.limits.memorySize) return 'refused';
        this.virtHeight = v;
        return 'ok';
      case VBE_DISPI_INDEX_X_OFFSET:
        if (!this.fits(v, this.yOffset)) return 'refused';
        this.xOffset = v;
        return 'ok';
      case VBE_DISPI_INDEX_Y_OFFSET:
        if (!this.fits(this.xOffset, v)) return 'refused';
        this.yOffset = v;
        return 'ok';
      case VBE_DISPI_INDEX_VIDEO_MEMORY_64K:
        return 'refused'; // read-only
      default:
        return 'unknown';
    }
  }

  /** Does the visible xres x yres area starting at (x, y) of the virtual screen lie in memory? */
  private fits(x: number, y: number): boolean {
    if (x + this.xres > this.virtWidth) return false;
    const end = y * this.pitch + (x + this.xres) * this.bytesPerPixel + (this.yres - 1) * this.pitch;
    return end <= this.limits.memorySize;
  }

  private clampOffsets(): void {
    if (!this.fits(this.xOffset, this.yOffset)) {
      this.xOffset = 0;
      this.yOffset = 0;
    }
  }

  private writeEnable(v: number): VbeWriteResult {
    const flags = v & (VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS | VBE_DISPI_8BIT_DAC | VBE_DISPI_LFB_ENABLED | VBE_DISPI_NOCLEARMEM);
    const turningOn = (flags & VBE_DISPI_ENABLED) !== 0 && !this.enabled;
    if (turningOn) {
      const bpp = this.bytesPerPixel;
      if (this.xres * bpp * this.yres > this.limits.memorySize) {
        // Refuse the mode, keep the other switches (GETCAPS, DAC width) as asked.
        this.enable = flags & ~VBE_DISPI_ENABLED & ~VBE_DISPI_LFB_ENABLED;
        return 'refused';
      }
      this.virtWidth = this.xres;
      this.virtHeight = Math.min(0xffff, Math.floor(this.limits.memorySize / (this.xres * bpp)));
      this.xOffset = 0;
      this.yOffset = 0;
      this.bank = 0;
      if (!(flags & VBE_DISPI_NOCLEARMEM) && this.mem) this.mem.fill(0);
    }
    this.enable = flags;
    return 'ok';
  }

  save(): Record<string, unknown> {
    return {
      index: this.index,
      id: this.id,
      xres: this.xres,
      yres: this.yres,
      bpp: this.bpp,
      enable: this.enable,
      bank: this.bank,
      virtWidth: this.virtWidth,
      virtHeight: this.virtHeight,
      xOffset: this.xOffset,
      yOffset: this.yOffset,
      memorySize: this.limits.memorySize,
      memory: saveSparse(this.mem, SAVE_PAGE),
    };
  }

  static load(r: StateReader, limits: VbeLimits): VbeDispi {
    const d = new VbeDispi(limits);
    d.index = r.int('index', 0, 0xffff);
    d.id = r.int('id', VBE_DISPI_ID0, VBE_DISPI_ID5);
    d.xres = r.int('xres', 1, limits.maxXres);
    d.yres = r.int('yres', 1, limits.maxYres);
    d.bpp = r.int('bpp', 8, 32);
    if (!VBE_SUPPORTED_BPP.includes(d.bpp)) r.fail('bpp', `must be one of ${VBE_SUPPORTED_BPP.join(', ')}`);
    d.enable = r.int('enable', 0, 0xff);
    d.bank = r.int('bank', 0, limits.memorySize / VBE_BANK_SIZE - 1);
    d.virtWidth = r.int('virtWidth', 1, 0xffff);
    d.virtHeight = r.int('virtHeight', 0, 0xffff);
    d.xOffset = r.int('xOffset', 0, 0xffff);
    d.yOffset = r.int('yOffset', 0, 0xffff);
    if (r.int('memorySize', 0, 2 ** 32) !== limits.memorySize) r.fail('memorySize', `must equal the configured ${limits.memorySize}`);
    if (d.enabled && d.xres * d.bytesPerPixel * d.yres > limits.memorySize) r.fail('xres', 'enabled mode does not fit in VBE memory');
    const pages = r.raw('memory');
    if (pages && typeof pages === 'object' && Object.keys(pages).length > 0) {
      d.mem = r.sparse('memory', limits.memorySize, SAVE_PAGE);
    } else {
      r.sparse('memory', SAVE_PAGE, SAVE_PAGE); // validates the shape
    }
    return d;
  }
}
