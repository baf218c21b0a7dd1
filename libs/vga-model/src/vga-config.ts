/**
 * Configuration of one VGA adapter: how much VBE memory it has and where its PCI
 * resources start. Checked once at construction; nothing a guest does can change it.
 */
import { VBE_DEFAULT_MAX_XRES, VBE_DEFAULT_MAX_YRES } from './vbe-dispi.js';

export interface VgaConfig {
  /** VBE video memory in bytes: a power of two, 1-256 MiB. */
  vbeMemorySize: number;
  /** Initial guest-physical base of the linear framebuffer (PCI BAR0). */
  lfbBase: number;
  maxXres: number;
  maxYres: number;
  /** Expose the BAR2 MMIO register block. */
  mmio: boolean;
  mmioBase: number;
  /** Option ROM image for the expansion ROM BAR, or null. */
  optionRom: Uint8Array | null;
}

export const VGA_DEFAULT_CONFIG: VgaConfig = {
  vbeMemorySize: 16 << 20,
  lfbBase: 0xe0000000,
  maxXres: VBE_DEFAULT_MAX_XRES,
  maxYres: VBE_DEFAULT_MAX_YRES,
  mmio: false,
  mmioBase: 0,
  optionRom: null,
};

/** Throws an Error naming the problem when a configuration is unusable. */
export function validateVgaConfig(c: VgaConfig): void {
  const mib = c.vbeMemorySize / (1 << 20);
  if (!Number.isInteger(mib) || mib < 1 || mib > 256 || (mib & (mib - 1)) !== 0) {
    throw new Error(`vga: VBE memory must be a power of two from 1 to 256 MiB, got ${c.vbeMemorySize} bytes`);
  }
  if (!Number.isInteger(c.lfbBase) || c.lfbBase < 0 || c.lfbBase + c.vbeMemorySize > 2 ** 32 || c.lfbBase % c.vbeMemorySize !== 0) {
    throw new Error(`vga: LFB base 0x${c.lfbBase.toString(16)} must be a 32-bit address aligned to the VBE memory size`);
  }
  if (!Number.isInteger(c.maxXres) || c.maxXres < 320 || c.maxXres > 0xffff) throw new Error(`vga: maxXres ${c.maxXres} out of range 320-65535`);
  if (!Number.isInteger(c.maxYres) || c.maxYres < 200 || c.maxYres > 0xffff) throw new Error(`vga: maxYres ${c.maxYres} out of range 200-65535`);
  if (c.mmio && (!Number.isInteger(c.mmioBase) || c.mmioBase < 0 || c.mmioBase % 0x1000 !== 0 || c.mmioBase + 0x1000 > 2 ** 32)) {
    throw new Error(`vga: MMIO base 0x${c.mmioBase.toString(16)} must be a 4 KiB aligned 32-bit address`);
  }
  if (c.optionRom && c.optionRom.length > 16 << 20) throw new Error('vga: option ROM larger than 16 MiB');
}
