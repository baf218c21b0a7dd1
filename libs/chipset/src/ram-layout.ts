/**
 * How guest RAM sits in the physical address space of a QEMU-like i440FX machine: RAM
 * from 0 up to `lowRamLimit` (the PCI hole starts there), the rest relocated above 4 GiB.
 * CMOS memory fields and fw_cfg's e820 table must agree, so both use this one split.
 */
export const FOUR_GIB = 0x1_0000_0000;
/** QEMU's i440FX puts the PCI hole at 3 GiB when RAM does not fit below 3.5 GiB. */
export const DEFAULT_LOW_RAM_LIMIT = 0xc000_0000;

export interface RamSplit {
  below4G: number;
  above4G: number;
}

export function splitGuestRam(ramSize: number, lowRamLimit = DEFAULT_LOW_RAM_LIMIT): RamSplit {
  if (!Number.isSafeInteger(ramSize) || ramSize < 0) throw new Error(`RAM size ${ramSize} is not a byte count`);
  const below4G = Math.min(ramSize, lowRamLimit);
  return { below4G, above4G: ramSize - below4G };
}
