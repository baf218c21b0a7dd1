import { AtaCmd, LBA28_MAX_SECTORS, SECTOR_SIZE, Status } from './ata-registers.js';
import type { BlockDevice } from './storage/block-device.js';
import type { PioAhead } from './ide-device.js';
import { deviceWithHead } from './task-file.js';

/** Most commands predicted at once (proto CommandAhead). */
const MAX_PREDICTED = 16;

/** PIO commands in LBA28 mode a sequential transfer repeats (their registers say everything about them). */
export const PREDICTABLE_COMMANDS: ReadonlySet<number> = new Set([
  AtaCmd.READ_SECTORS, AtaCmd.READ_SECTORS_NORETRY, AtaCmd.READ_MULTIPLE,
  AtaCmd.WRITE_SECTORS, AtaCmd.WRITE_SECTORS_NORETRY, AtaCmd.WRITE_MULTIPLE,
]);

/** A PIO command as the guest issued it: the registers it wrote and what they meant. */
export interface IssuedCommand {
  command: number;
  write: boolean;
  /** Sector Count and Device register values as written. */
  count: number;
  device: number;
  /** First sector and sector count they address. */
  lba: number;
  sectors: number;
}

/** A command the guest may issue next (offsets 2-6 of the command block) and its data phase. */
export interface PredictedCommand {
  command: number;
  registers: number[];
  phase: PioAhead;
  /** The first sector it addresses. */
  lba: number;
}

/**
 * The commands a sequential transfer issues after `issued`: the same command, the same count,
 * each where the one before ended, for as long as they fit in the disk, LBA28 and `maxBytes`
 * of data. Reads carry the sectors as the disk holds them now (nothing can write it before
 * they are issued: any other command drops the prediction); writes take their data and
 * complete when it is in (`postedWrites`: the write cache is on). Reading the disk may fail:
 * the prediction stops there.
 */
export function predictSequential(issued: IssuedCommand, disk: BlockDevice, maxBytes: number, postedWrites: boolean): PredictedCommand[] {
  if (issued.write && !postedWrites) return [];
  const out: PredictedCommand[] = [];
  const bytes = issued.sectors * SECTOR_SIZE;
  const end = Math.min(disk.sectorCount, LBA28_MAX_SECTORS);
  let used = 0;
  for (let lba = issued.lba + issued.sectors; out.length < MAX_PREDICTED && lba + issued.sectors <= end && used + bytes <= maxBytes; lba += issued.sectors) {
    const registers = [issued.count, lba & 0xff, (lba >>> 8) & 0xff, (lba >>> 16) & 0xff, deviceWithHead(issued.device, lba >>> 24)];
    const statusDuring = Status.DRDY | Status.DSC | Status.DRQ;
    const statusAfter = Status.DRDY | Status.DSC;
    // LBA28: the command leaves its last sector's address in the registers, bits 27-24 in Device.
    const deviceAfter = deviceWithHead(issued.device, (lba + issued.sectors - 1) >>> 24);
    let phase: PioAhead;
    if (issued.write) phase = { kind: 'write', length: bytes, statusDuring, statusAfter, deviceAfter };
    else {
      try {
        phase = { kind: 'read', data: disk.read(lba, issued.sectors), statusDuring, statusAfter, complete: true, deviceAfter };
      } catch {
        break; // a media error: the device reports it when the guest gets there
      }
    }
    out.push({ command: issued.command, registers, phase, lba });
    used += bytes;
  }
  return out;
}
