// The raw disk image: an MBR partition table (sfdisk) with one active FAT partition
// (mformat/mcopy at the partition's byte offset, no mounts) holding the kernel, the
// initramfs and syslinux.cfg; syslinux installed into the partition and syslinux's MBR
// code in sector 0, so a PC BIOS boots it like a hard disk.
import { closeSync, openSync, readFileSync, truncateSync, writeSync, writeFileSync } from 'node:fs';
import { run } from './run.js';
import { MBR_CODE_BYTES, SYSLINUX_MBR } from './syslinux-files.js';

export const SECTOR = 512;
export const DISK_SIZE = 64 * 1024 * 1024;
/** The partition starts at 1 MiB, as current partitioning tools align it. */
export const PARTITION_START_SECTOR = 2048;
/** MBR partition type 0x0e: FAT16 addressed by LBA. */
const PARTITION_TYPE = 'e';
/** Fixed disk signature and volume serial ("QVM1"), so the image is reproducible. */
const DISK_ID = '0x51564d31';
const VOLUME_SERIAL = '51564d31';
/** The fake geometry mformat records; the BIOS and syslinux use LBA anyway. */
const HEADS = 64;
const SECTORS_PER_TRACK = 32;

export interface DiskFile {
  /** Path on the host. */
  source: string;
  /** Name in the FAT root directory. */
  name: string;
}

/** mtools' way of naming a partition inside an image file: image@@byteoffset. */
const partition = (image: string): string => `${image}@@${PARTITION_START_SECTOR * SECTOR}`;

/**
 * Builds the bootable disk image at output from the given files; every directory entry
 * gets the time mtime (seconds), so the image is reproducible.
 */
export async function makeDiskImage(output: string, files: DiskFile[], mtime: number): Promise<void> {
  writeFileSync(output, '');
  truncateSync(output, DISK_SIZE);
  const partitionSectors = DISK_SIZE / SECTOR - PARTITION_START_SECTOR;
  const table = ['label: dos', `label-id: ${DISK_ID}`, `start=${PARTITION_START_SECTOR}, size=${partitionSectors}, type=${PARTITION_TYPE}, bootable`, ''];
  await run(['sfdisk', '--no-reread', '--no-tell-kernel', '--quiet', output], { input: table.join('\n') });

  // -H: the partition's first sector ("hidden sectors"), which syslinux's boot sector
  // adds to every sector number it reads.
  const mtoolsEnv = { MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null', SOURCE_DATE_EPOCH: String(mtime) };
  await run(
    ['mformat', '-i', partition(output), '-T', String(partitionSectors), '-H', String(PARTITION_START_SECTOR),
      '-h', String(HEADS), '-s', String(SECTORS_PER_TRACK), '-N', VOLUME_SERIAL, '-v', 'QUASIVM', '::'],
    { env: mtoolsEnv },
  );
  for (const file of files) {
    await run(['mcopy', '-i', partition(output), file.source, `::/${file.name}`], { env: mtoolsEnv });
  }
  await run(['syslinux', '--offset', String(PARTITION_START_SECTOR * SECTOR), '--install', output], { env: mtoolsEnv });
  writeMbrCode(output);
}

/** Puts syslinux's MBR code (boots the active partition) in front of the partition table. */
function writeMbrCode(image: string): void {
  const code = readFileSync(SYSLINUX_MBR);
  if (code.length > MBR_CODE_BYTES) throw new Error(`${SYSLINUX_MBR} is ${code.length} bytes; at most ${MBR_CODE_BYTES} fit`);
  const fd = openSync(image, 'r+');
  try {
    writeSync(fd, code, 0, code.length, 0);
  } finally {
    closeSync(fd);
  }
}
