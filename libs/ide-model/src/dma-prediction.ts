import type { DmaCommandAhead } from '@quasivm/device-sdk';
import { LBA28_MAX_SECTORS, SECTOR_SIZE, Status } from './ata-registers.js';
import type { BlockDevice } from './storage/block-device.js';

/** Most DMA commands predicted at once (proto CommandAhead.dma). */
const MAX_PREDICTED = 256;
/**
 * Largest write predicted: its buffers ride with the START write as snapshots, which the
 * channel keeps up to 4 MiB (ide-channel.ts); Linux's largest request is 1280 KiB. Must not
 * exceed LocalDma's limit (device-sdk local-dma.ts, MAX_SERVED_WRITE_BYTES).
 */
export const MAX_PREDICTED_WRITE_BYTES = 2 << 20;
/** LBA48 addresses are 48 bits (ATA-6 6.20). */
const LBA48_SECTORS = 2 ** 48;

/** A READ/WRITE DMA (EXT) command that completed, as the guest issued it: what its successors repeat. */
export interface IssuedDma {
  command: number;
  toMemory: boolean;
  ext: boolean;
  /** Sector Count as written (16 bits for EXT) and the Device register. */
  count: number;
  device: number;
  lba: number;
  sectors: number;
}

/**
 * The DMA commands a sequential transfer issues after `done`: the same command and count, each
 * where the one before ended, while they fit in the disk and its addressing. Reads carry their
 * sectors as the disk holds them now, one after another in `data` (nothing can write the disk
 * before they are issued: any other command drops the predictions), while they fit in
 * `maxBytes`; a media error ends the list there. Writes only with the volatile write cache on:
 * they complete once their data is in, and a failure is reported by FLUSH CACHE (ATA-6 8.14).
 * `skip`: the list starts after that many of those commands (a vCPU holds them already).
 * `firstBytes` (non-zero): reads stop once their data holds that many bytes (at least one comes).
 */
export function predictDma(done: IssuedDma, disk: BlockDevice, maxBytes: number, writeCache: boolean, skip = 0, firstBytes = 0): { commands: DmaCommandAhead[]; data: Uint8Array } {
  const none = { commands: [], data: new Uint8Array(0) };
  const bytes = done.sectors * SECTOR_SIZE;
  if (!done.toMemory && (!writeCache || disk.readOnly || bytes > MAX_PREDICTED_WRITE_BYTES)) return none;
  const end = Math.min(disk.sectorCount, done.ext ? LBA48_SECTORS : LBA28_MAX_SECTORS);
  if (!Number.isInteger(skip) || skip < 0) return none;
  const first = done.lba + (1 + skip) * done.sectors;
  let n = 0;
  const fits = (n: number) => !done.toMemory || ((n + 1) * bytes <= maxBytes && (n === 0 || !firstBytes || n * bytes < firstBytes));
  while (n < MAX_PREDICTED && first + (n + 1) * done.sectors <= end && fits(n)) n++;
  let data: Uint8Array = new Uint8Array(0);
  if (done.toMemory && n > 0) {
    try {
      data = disk.read(first, n * done.sectors);
    } catch {
      return none; // a media error: the device reports it when the guest gets there
    }
  }
  const commands: DmaCommandAhead[] = [];
  for (let i = 0; i < n; i++) {
    const lba = first + i * done.sectors;
    commands.push({
      command: done.command,
      registers: registersFor(done, lba),
      toMemory: done.toMemory,
      byteLength: bytes,
      // ATA-6 9.8/9.9 (DMA data-in/out protocols): DRQ while the transfer is pending, then done.
      statusDuring: Status.DRDY | Status.DSC | Status.DRQ,
      statusAfter: Status.DRDY | Status.DSC,
    });
  }
  return { commands, data };
}

/** Offsets 2-6 as the guest writes them for `lba`; for a 48-bit command, then the "previous content" of offsets 2-5 (ATA-6 6.20). */
function registersFor(c: IssuedDma, lba: number): number[] {
  const low = [c.count & 0xff, lba & 0xff, (lba >>> 8) & 0xff, (lba >>> 16) & 0xff];
  if (!c.ext) return [...low, (c.device & 0xf0) | ((lba >>> 24) & 0x0f)];
  const high = Math.floor(lba / 0x1000000);
  return [...low, c.device & 0xff, (c.count >>> 8) & 0xff, high & 0xff, (high >>> 8) & 0xff, (high >>> 16) & 0xff];
}
