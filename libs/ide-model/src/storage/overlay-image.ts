import * as fs from 'node:fs';
import { BLOCK_SIZE, checkRange, writeParts, writeSectors, type BlockDevice } from './block-device.js';
import { ImageError } from './image-path.js';
import { ImageLock } from './image-lock.js';
import { RawImage, readFully, writeAllFully, writeFully } from './raw-image.js';

/**
 * Copy-on-write overlay over a shared, read-only base image.
 *
 * Overlay file layout (all little-endian):
 *   0   8  magic "QVMOVL1\0"
 *   8   4  format version (1)
 *   12  4  reserved
 *   16  8  sector count (must equal the base's)
 *   24  8  offset of the data area
 *   32  .. allocation map: one bit per sector, bit set = the sector lives in the overlay
 *   data area (4 KiB aligned): sector n at dataOffset + n * 512 (a sparse file)
 *
 * The base is opened read-only and never written. flush() first fsyncs the data, then
 * writes the map bytes that changed and fsyncs again, so a persisted map bit never
 * points at data that did not reach the disk.
 */
const MAGIC = 'QVMOVL1\0';
const FORMAT_VERSION = 1;
const HEADER_SIZE = 32;

export class OverlayImage implements BlockDevice {
  readonly sectorCount: number;
  readonly readOnly = false;
  private readonly base: RawImage;
  private fd: number | null = null;
  private readonly lock: ImageLock;
  private readonly map: Uint8Array;
  private readonly dataOffset: number;
  /** Map byte range changed since the last flush. */
  private dirtyLo = Infinity;
  private dirtyHi = -1;

  constructor(readonly basePath: string, readonly overlayPath: string) {
    this.base = new RawImage(basePath, { readOnly: true });
    this.sectorCount = this.base.sectorCount;
    const mapBytes = Math.ceil(this.sectorCount / 8);
    this.dataOffset = Math.ceil((HEADER_SIZE + mapBytes) / 4096) * 4096;
    this.map = new Uint8Array(mapBytes);
    try {
      this.lock = ImageLock.acquire(overlayPath);
    } catch (e) {
      this.base.close();
      throw e;
    }
    try {
      if (fs.existsSync(overlayPath)) this.openExisting();
      else this.create();
    } catch (e) {
      this.lock.release();
      this.base.close();
      if (this.fd !== null) fs.closeSync(this.fd);
      throw e;
    }
  }

  private create(): void {
    const fd = fs.openSync(this.overlayPath, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR, 0o644);
    this.fd = fd;
    const header = Buffer.alloc(HEADER_SIZE);
    header.write(MAGIC, 0, 'latin1');
    header.writeUInt32LE(FORMAT_VERSION, 8);
    header.writeBigUInt64LE(BigInt(this.sectorCount), 16);
    header.writeBigUInt64LE(BigInt(this.dataOffset), 24);
    writeFully(fd, header, 0);
    writeFully(fd, this.map, HEADER_SIZE);
    fs.fsyncSync(fd);
  }

  private openExisting(): void {
    const fd = fs.openSync(this.overlayPath, 'r+');
    this.fd = fd;
    const header = Buffer.alloc(HEADER_SIZE);
    readFully(fd, header, 0);
    if (header.toString('latin1', 0, 8) !== MAGIC) throw new ImageError(`overlay ${this.overlayPath} is not a quasivm overlay (bad magic)`);
    const version = header.readUInt32LE(8);
    if (version !== FORMAT_VERSION) throw new ImageError(`overlay ${this.overlayPath} has format version ${version}, expected ${FORMAT_VERSION}`);
    const sectors = Number(header.readBigUInt64LE(16));
    if (sectors !== this.sectorCount) {
      throw new ImageError(`overlay ${this.overlayPath} was made for a base of ${sectors} sectors, but ${this.basePath} has ${this.sectorCount}`);
    }
    if (Number(header.readBigUInt64LE(24)) !== this.dataOffset) throw new ImageError(`overlay ${this.overlayPath} has a corrupt header`);
    readFully(fd, this.map, HEADER_SIZE);
  }

  isAllocated(lba: number): boolean {
    return (this.map[lba >>> 3] & (1 << (lba & 7))) !== 0;
  }

  read(lba: number, count: number): Uint8Array {
    checkRange(this, lba, count);
    const out = new Uint8Array(count * BLOCK_SIZE);
    let i = 0;
    while (i < count) {
      const inOverlay = this.isAllocated(lba + i);
      let j = i + 1;
      while (j < count && this.isAllocated(lba + j) === inOverlay) j++;
      const part = out.subarray(i * BLOCK_SIZE, j * BLOCK_SIZE);
      if (inOverlay) readFully(this.handle(), part, this.dataOffset + (lba + i) * BLOCK_SIZE);
      else part.set(this.base.read(lba + i, j - i));
      i = j;
    }
    return out;
  }

  write(lba: number, data: Uint8Array | readonly Uint8Array[]): void {
    const parts = writeParts(data);
    const count = writeSectors(parts);
    checkRange(this, lba, count);
    writeAllFully(this.handle(), parts, this.dataOffset + lba * BLOCK_SIZE);
    for (let s = lba; s < lba + count; s++) {
      const byte = s >>> 3;
      const bit = 1 << (s & 7);
      if ((this.map[byte] & bit) === 0) {
        this.map[byte] |= bit;
        if (byte < this.dirtyLo) this.dirtyLo = byte;
        if (byte > this.dirtyHi) this.dirtyHi = byte;
      }
    }
  }

  flush(): void {
    const fd = this.handle();
    fs.fsyncSync(fd);
    if (this.dirtyHi >= 0) {
      writeFully(fd, this.map.subarray(this.dirtyLo, this.dirtyHi + 1), HEADER_SIZE + this.dirtyLo);
      fs.fsyncSync(fd);
      this.dirtyLo = Infinity;
      this.dirtyHi = -1;
    }
  }

  close(): void {
    if (this.fd === null) return;
    try {
      this.flush();
    } finally {
      fs.closeSync(this.fd);
      this.fd = null;
      this.lock.release();
      this.base.close();
    }
  }

  private handle(): number {
    if (this.fd === null) throw new ImageError(`overlay ${this.overlayPath} is closed`);
    return this.fd;
  }
}
