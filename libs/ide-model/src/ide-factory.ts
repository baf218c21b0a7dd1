import type { DeviceDescription, DeviceFactory, DeviceHost, DeviceModel } from '@quasivm/device-sdk';
import {
  AtaController, COMMAND_BLOCK_LENGTH, DEFAULT_BUS_MASTER_BASE, PRIMARY_COMMAND_BASE, PRIMARY_CONTROL_PORT, PRIMARY_IRQ,
  SECONDARY_COMMAND_BASE, SECONDARY_CONTROL_PORT, SECONDARY_IRQ, type DriveSpec,
} from './ide-controller.js';
import { BUS_MASTER_BLOCK_SIZE } from './piix3-ide-function.js';
import type { BlockDevice } from './storage/block-device.js';
import { openImage, type ImageMode } from './storage/open-image.js';

/**
 * Configuration keys (all strings):
 *   dataDir                   directory every image must lie in (required with any image)
 *   busMasterBase             initial BAR4 I/O base, default 0xc000; "0" leaves it to the BIOS
 *   <slot>                    image file for the slot, relative to dataDir
 *   <slot>.type               "disk" (default; "cdrom" when the image ends in .iso)
 *   <slot>.mode               disk: "rw" (default), "ro" or "overlay"; a cdrom is always read-only
 *   <slot>.overlay            overlay file for mode "overlay" (default "<image>.overlay")
 *   <slot>.serial / .model    IDENTIFY strings
 *   <slot>.lba48              "false" hides the 48-bit feature set (disk)
 * where <slot> is primary.master, primary.slave, secondary.master or secondary.slave.
 * A slot with type "cdrom" and no image is an empty CD drive.
 */
export const IDE_SLOTS = ['primary.master', 'primary.slave', 'secondary.master', 'secondary.slave'] as const;
export type IdeSlot = (typeof IDE_SLOTS)[number];

const KNOWN_SUFFIXES = ['', '.type', '.mode', '.overlay', '.serial', '.model', '.lba48'];

export function parseBusMasterBase(config: Record<string, string>): number {
  const raw = config.busMasterBase;
  if (raw === undefined || raw === '') return DEFAULT_BUS_MASTER_BASE;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0 || v > 0xfff0 || v % BUS_MASTER_BLOCK_SIZE !== 0) {
    throw new Error(`ide: busMasterBase ${raw} must be a 16-byte aligned I/O port below 0x10000`);
  }
  return v;
}

export const ideDeviceFactory: DeviceFactory = {
  describe(config: Record<string, string>): DeviceDescription {
    const ports = [
      { base: PRIMARY_COMMAND_BASE, length: COMMAND_BLOCK_LENGTH },
      { base: PRIMARY_CONTROL_PORT, length: 1 },
      { base: SECONDARY_COMMAND_BASE, length: COMMAND_BLOCK_LENGTH },
      { base: SECONDARY_CONTROL_PORT, length: 1 },
    ];
    const bm = parseBusMasterBase(config);
    if (bm) ports.push({ base: bm, length: BUS_MASTER_BLOCK_SIZE });
    // The PIIX3 IDE function sits at 00:01.1, beside the PIIX3 ISA bridge at 00:01.0.
    return { name: 'ide', version: '0.1.0', ports, irqs: [PRIMARY_IRQ, SECONDARY_IRQ], memoryWindows: [], pciFunctions: [{ device: 1, function: 1 }] };
  },

  create(host: DeviceHost, config: Record<string, string>): DeviceModel {
    for (const key of Object.keys(config)) {
      if (key === 'dataDir' || key === 'busMasterBase') continue;
      if (!IDE_SLOTS.some((s) => KNOWN_SUFFIXES.some((x) => key === s + x))) throw new Error(`ide: unknown configuration key ${key}`);
    }
    const busMasterBase = parseBusMasterBase(config);
    const opened: BlockDevice[] = [];
    try {
      const drives = IDE_SLOTS.map((slot) => openSlot(slot, config, opened));
      return new AtaController(host, { drives: drives as AtaControllerDrives, busMasterBase });
    } catch (e) {
      for (const d of opened) d.close();
      throw e instanceof Error && !e.message.startsWith('ide:') ? new Error(`ide: ${e.message}`) : e;
    }
  },
};

type AtaControllerDrives = [DriveSpec | null, DriveSpec | null, DriveSpec | null, DriveSpec | null];

function openSlot(slot: IdeSlot, config: Record<string, string>, opened: BlockDevice[]): DriveSpec | null {
  const image = config[slot];
  const type = config[`${slot}.type`] ?? (image && /\.iso$/i.test(image) ? 'cdrom' : image ? 'disk' : '');
  if (!type) return null;
  if (type !== 'disk' && type !== 'cdrom') throw new Error(`ide: ${slot}.type must be "disk" or "cdrom", not ${type}`);
  const serial = config[`${slot}.serial`];
  const model = config[`${slot}.model`];
  const dataDir = config.dataDir;
  if (image && !dataDir) throw new Error(`ide: ${slot} names an image but no dataDir is configured`);
  if (type === 'cdrom') {
    const mode = config[`${slot}.mode`];
    if (mode && mode !== 'ro') throw new Error(`ide: ${slot} is a cdrom, its mode can only be "ro"`);
    const dev = image ? openImage({ dataDir, image, mode: 'ro' }) : null;
    if (dev) opened.push(dev);
    return { kind: 'cdrom', image: dev, serial, model };
  }
  if (!image) throw new Error(`ide: ${slot} is a disk but names no image`);
  const mode = (config[`${slot}.mode`] ?? 'rw') as ImageMode;
  if (!['ro', 'rw', 'overlay'].includes(mode)) throw new Error(`ide: ${slot}.mode must be ro, rw or overlay, not ${mode}`);
  const lba48Raw = config[`${slot}.lba48`];
  if (lba48Raw !== undefined && lba48Raw !== 'true' && lba48Raw !== 'false') throw new Error(`ide: ${slot}.lba48 must be true or false`);
  const dev = openImage({ dataDir, image, mode, overlay: config[`${slot}.overlay`] });
  opened.push(dev);
  return { kind: 'disk', image: dev, serial, model, lba48: lba48Raw !== 'false' };
}
