import type { AtaDisk } from './ata-disk.js';
import { LBA28_MAX_SECTORS, MAX_MULTIPLE_SECTORS } from './ata-registers.js';
import { IdentifyData } from './identify.js';

export const FIRMWARE_REVISION = 'QVM 0.1';

/**
 * IDENTIFY DEVICE data of an ATA disk (ATA-6 8.15, table 11), word by word with what
 * each word says. Words not set are reserved or report "not supported" as zero.
 */
export function ataIdentifyData(d: AtaDisk): Uint8Array {
  const cap = d.capacity;
  const id = new IdentifyData();
  const chsCap = d.currentCylinders * d.heads * d.sectorsPerTrack;
  id.set(0, 0x0040) // fixed device, ATA
    .set(1, d.defaultCylinders)
    .set(3, d.defaultHeads)
    .set(6, d.defaultSectors)
    .setString(10, 10, d.serial)
    .setString(23, 4, FIRMWARE_REVISION)
    .setString(27, 20, d.model)
    .set(47, 0x8000 | MAX_MULTIPLE_SECTORS)
    .set(49, 0x0f00) // IORDY supported + may be disabled, LBA, DMA
    .set(50, 0x4000)
    .set(51, 0x0200) // obsolete PIO timing mode 2
    .set(53, 0x0007) // words 54-58, 64-70 and 88 valid
    .set(54, d.currentCylinders)
    .set(55, d.heads)
    .set(56, d.sectorsPerTrack)
    .set32(57, chsCap)
    .set(59, d.multiple ? 0x0100 | d.multiple : 0)
    .set32(60, Math.min(cap, LBA28_MAX_SECTORS))
    .set(63, 0x0007 | ((d.transferMode & 0xf8) === 0x20 ? 0x100 << (d.transferMode & 7) : 0))
    .set(64, 0x0003) // PIO modes 3 and 4
    .set(65, 120)
    .set(66, 120)
    .set(67, 120)
    .set(68, 120)
    .set(80, 0x007e) // ATA-1 .. ATA-6
    .set(82, 0x4000 | (1 << 6) | (1 << 5)) // NOP, look-ahead, write cache
    .set(83, 0x4000 | (1 << 13) * +d.lba48 | (1 << 12) | (1 << 10) * +d.lba48)
    .set(84, 0x4000)
    .set(85, 0x4000 | (d.lookAhead ? 1 << 6 : 0) | (d.writeCache ? 1 << 5 : 0))
    .set(86, (1 << 13) * +d.lba48 | (1 << 12) | (1 << 10) * +d.lba48)
    .set(87, 0x4000)
    .set(88, 0x003f | ((d.transferMode & 0xf8) === 0x40 ? 0x100 << (d.transferMode & 7) : 0))
    .set(93, 0x4001);
  if (d.lba48) id.set64(100, cap);
  return id.toBytes(true);
}
