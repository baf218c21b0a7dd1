/**
 * The disk a drive model sees. Synchronous on purpose: the model runs inside one guest
 * port access and must not await; file I/O lives in the storage implementations that the
 * device service injects, never in the model itself.
 */
export const BLOCK_SIZE = 512;

export interface BlockDevice {
  /** Number of 512-byte sectors. */
  readonly sectorCount: number;
  /** True when write() is refused. */
  readonly readOnly: boolean;
  /** Read `count` sectors starting at `lba`. Throws RangeError outside [0, sectorCount). */
  read(lba: number, count: number): Uint8Array;
  /**
   * Write whole sectors starting at `lba`: one buffer, or several written in order as if
   * joined (a DMA's PRD regions, without copying them into one); the total is a multiple of 512.
   */
  write(lba: number, data: Uint8Array | readonly Uint8Array[]): void;
  /** Make every completed write durable (fsync). */
  flush(): void;
  /** Release the image (and its lock). Idempotent. */
  close(): void;
}

/** The buffers of a write, in order. */
export function writeParts(data: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  return data instanceof Uint8Array ? [data] : data;
}

/** Bytes in a write's buffers; throws a RangeError unless they are whole sectors. */
export function writeSectors(parts: readonly Uint8Array[]): number {
  const bytes = parts.reduce((n, p) => n + p.byteLength, 0);
  if (bytes % BLOCK_SIZE !== 0) throw new RangeError('write of a partial sector');
  return bytes / BLOCK_SIZE;
}

/** Throws a RangeError unless [lba, lba + count) lies inside the device. */
export function checkRange(dev: { sectorCount: number }, lba: number, count: number): void {
  if (!Number.isSafeInteger(lba) || !Number.isSafeInteger(count) || lba < 0 || count < 0 || lba + count > dev.sectorCount) {
    throw new RangeError(`sectors [${lba}, +${count}) outside a device of ${dev.sectorCount} sectors`);
  }
}

/** A block device held in memory: for tests and for scratch disks. */
export class MemoryBlockDevice implements BlockDevice {
  readonly sectorCount: number;
  flushCount = 0;
  constructor(readonly bytes: Uint8Array, readonly readOnly = false) {
    this.sectorCount = Math.floor(bytes.length / BLOCK_SIZE);
  }
  read(lba: number, count: number): Uint8Array {
    checkRange(this, lba, count);
    return this.bytes.slice(lba * BLOCK_SIZE, (lba + count) * BLOCK_SIZE);
  }
  write(lba: number, data: Uint8Array | readonly Uint8Array[]): void {
    if (this.readOnly) throw new Error('block device is read-only');
    const parts = writeParts(data);
    checkRange(this, lba, writeSectors(parts));
    let at = lba * BLOCK_SIZE;
    for (const p of parts) {
      this.bytes.set(p, at);
      at += p.byteLength;
    }
  }
  flush(): void {
    this.flushCount++;
  }
  close(): void {}
}
