import { existsSync, readFileSync } from 'node:fs';

/** Debian's SeaBIOS (package seabios). */
export const SEABIOS_PATH = '/usr/share/seabios/bios.bin';
export const FOUR_GIB = 0x1_0000_0000;
export const ONE_MIB = 0x10_0000;

/** Loads a firmware image: 'seabios' (default) or a path. Clear errors for missing or unusable images. */
export function loadFirmware(spec: string | undefined): Uint8Array {
  const path = !spec || spec === 'seabios' ? SEABIOS_PATH : spec;
  if (!existsSync(path))
    throw new Error(path === SEABIOS_PATH ? `SeaBIOS not found at ${path}: install Debian's seabios package (apt-get install seabios)` : `firmware image ${path} not found`);
  const data = new Uint8Array(readFileSync(path));
  if (data.length === 0 || data.length % 0x1000 !== 0 || data.length > 0x40000)
    throw new Error(`firmware image ${path} is ${data.length} bytes; it must be a multiple of 4 KiB and at most 256 KiB`);
  return data;
}

/**
 * Where firmware lives: its last 128 KiB (or all of it, if smaller) are copied to the top of
 * the first megabyte (ending at 0xFFFFF), and the whole image answers at the top of the 4 GiB
 * space (ending at 0xFFFFFFFF) where the CPU fetches its reset vector.
 */
export function placeFirmware(ram: Uint8Array, firmware: Uint8Array): { highBase: number } {
  const low = firmware.subarray(Math.max(0, firmware.length - 0x20000));
  ram.set(low, ONE_MIB - low.length);
  return { highBase: FOUR_GIB - firmware.length };
}

/** Debian's SeaVGABIOS for the Bochs/QEMU standard VGA (package seabios). */
export const SEAVGABIOS_PATH = '/usr/share/seabios/vgabios-stdvga.bin';

/** The option ROMs a machine with these devices needs: SeaVGABIOS when a VGA device is attached. */
export function optionRomsFor(devices: string[]): Array<{ name: string; data: Uint8Array }> {
  if (!devices.includes('vga')) return [];
  return [{ name: 'vgaroms/vgabios-stdvga.bin', data: vgaBiosImage() }];
}

/** Debian's SeaVGABIOS for the stdvga, or a clear error. */
export function vgaBiosImage(): Uint8Array {
  if (!existsSync(SEAVGABIOS_PATH)) throw new Error(`SeaVGABIOS not found at ${SEAVGABIOS_PATH}: install Debian's seabios package`);
  return new Uint8Array(readFileSync(SEAVGABIOS_PATH));
}

/** Hard disks on the primary IDE channel, from an IDE device configuration. */
export function primaryHardDisks(config: Record<string, string> | undefined): number {
  if (!config) return 0;
  return ['primary.master', 'primary.slave'].filter((slot) => config[slot] && (config[`${slot}.type`] ?? (config[slot].endsWith('.iso') ? 'cdrom' : 'disk')) === 'disk').length;
}
