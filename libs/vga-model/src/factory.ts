/**
 * How a device service (or the in-process wiring) makes VGA adapters. Configuration
 * values are strings (DeviceFactory); numbers accept decimal or 0x-prefixed hex.
 *
 *   vbeMemoryMiB  VBE memory and BAR0 size, power of two 1-256   (default 16)
 *   lfbBase       initial LFB / BAR0 guest-physical base           (default 0xE0000000)
 *   maxXres       largest VBE width accepted                       (default 2560)
 *   maxYres       largest VBE height accepted                      (default 1600)
 *   mmio          'true' to expose the BAR2 MMIO register block    (default false)
 *   mmioBase      initial BAR2 base when mmio is on                (default 0 = unassigned)
 *   optionRom     option ROM image, base64, for the expansion ROM BAR (default none)
 */
import type { DeviceDescription, DeviceFactory, DeviceHost } from '@quasivm/device-sdk';
import { VGA_PORT_RANGES, VGA_WINDOW_BASE, VGA_WINDOW_LENGTH, VGA_WINDOW_MODE_PORTS } from './ports.js';
import { VgaAdapter } from './vga-adapter.js';
import { VGA_DEFAULT_CONFIG, type VgaConfig } from './vga-config.js';
import { VGA_MMIO_SIZE } from './pci-function.js';

export const VGA_DEVICE_NAME = 'vga';
export const VGA_DEVICE_VERSION = '1';

export function parseVgaConfig(config: Record<string, string>): VgaConfig {
  const known = new Set(['vbeMemoryMiB', 'lfbBase', 'maxXres', 'maxYres', 'mmio', 'mmioBase', 'optionRom']);
  for (const k of Object.keys(config)) if (!known.has(k)) throw new Error(`vga: unknown config key ${JSON.stringify(k)} (known: ${[...known].join(', ')})`);
  const num = (key: string, dflt: number): number => {
    const s = config[key];
    if (s === undefined || s === '') return dflt;
    if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(s.trim())) throw new Error(`vga: config ${key}=${JSON.stringify(s)} is not a number`);
    return Number(s.trim());
  };
  let optionRom: Uint8Array | null = null;
  if (config.optionRom) {
    const s = config.optionRom.trim();
    if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new Error('vga: config optionRom must be base64');
    optionRom = new Uint8Array(Buffer.from(s, 'base64'));
  }
  const mmio = config.mmio ?? 'false';
  if (mmio !== 'true' && mmio !== 'false') throw new Error(`vga: config mmio must be 'true' or 'false', got ${JSON.stringify(mmio)}`);
  return {
    vbeMemorySize: num('vbeMemoryMiB', VGA_DEFAULT_CONFIG.vbeMemorySize >> 20) * (1 << 20),
    lfbBase: num('lfbBase', VGA_DEFAULT_CONFIG.lfbBase),
    maxXres: num('maxXres', VGA_DEFAULT_CONFIG.maxXres),
    maxYres: num('maxYres', VGA_DEFAULT_CONFIG.maxYres),
    mmio: mmio === 'true',
    mmioBase: num('mmioBase', 0),
    optionRom,
  };
}

export const vgaDeviceFactory: DeviceFactory = {
  describe(config: Record<string, string>): DeviceDescription {
    const c = parseVgaConfig(config);
    const memoryWindows = [
      { base: VGA_WINDOW_BASE, length: VGA_WINDOW_LENGTH },
      { base: c.lfbBase, length: c.vbeMemorySize },
    ];
    if (c.mmio && c.mmioBase) memoryWindows.push({ base: c.mmioBase, length: VGA_MMIO_SIZE });
    // The PCI VGA function takes slot 00:02.0, as on QEMU's i440FX machine.
    return {
      name: VGA_DEVICE_NAME,
      version: VGA_DEVICE_VERSION,
      ports: VGA_PORT_RANGES.map((r) => ({ ...r })),
      irqs: [],
      memoryWindows,
      pciFunctions: [{ device: 2, function: 0 }],
      windowModePorts: VGA_WINDOW_MODE_PORTS.map((r) => ({ ...r })),
    };
  },
  create(host: DeviceHost, config: Record<string, string>): VgaAdapter {
    return new VgaAdapter(host, parseVgaConfig(config));
  },
};
