import * as fs from 'node:fs';
import { BLOCK_SIZE, checkRange, writeParts, writeSectors, type BlockDevice } from './block-device.js';
import { ImageError } from './image-path.js';
import { ImageLock } from './image-lock.js';

export interface RawImageOptions {
  readOnly: boolean;
  /** Refuse images smaller than this many sectors (default 1). */
  minSectors?: number;
}

/**
 * A raw image file (a flat array of sectors). `path` must already be resolved inside
 * the data directory (see resolveImagePath). Read-write opens take the image lock.
 * Writes go straight to the file; flush() fsyncs it.
 */
export class RawImage implements BlockDevice {
  readonly sectorCount: number;
  readonly readOnly: boolean;
  private fd: number | null;
  private lock: ImageLock | null = null;

  constructor(readonly path: string, options: RawImageOptions) {
    this.readOnly = options.readOnly;
    let st: fs.Stats;
    try {
      st = fs.statSync(path);
    } catch {
      throw new ImageError(`image ${path} not found`);
    }
    if (!st.isFile()) throw new ImageError(`image ${path} is not a regular file`);
    const sectors = Math.floor(st.size / BLOCK_SIZE);
    const min = options.minSectors ?? 1;
    if (sectors < min) {
      throw new ImageError(`image ${path} is too small: ${st.size} bytes, need at least ${min * BLOCK_SIZE}`);
    }
    this.sectorCount = sectors;
    if (!this.readOnly) this.lock = ImageLock.acquire(path);
    try {
      this.fd = fs.openSync(path, this.readOnly ? 'r' : 'r+');
    } catch (e) {
      this.lock?.release();
      throw new ImageError(`cannot open image ${path}: ${(e as Error).message}`);
    }
  }

  read(lba: number, count: number): Uint8Array {
    checkRange(this, lba, count);
    // Not zeroed first (readFully fills every byte, zeros past the file's end): a DMA prediction
    // reads 1 MiB at a time, and clearing it cost about as much as reading it.
    const out = new Uint8Array(Buffer.allocUnsafeSlow(count * BLOCK_SIZE).buffer, 0, count * BLOCK_SIZE);
    readFully(this.handle(), out, lba * BLOCK_SIZE);
    return out;
  }

  write(lba: number, data: Uint8Array | readonly Uint8Array[]): void {
    if (this.readOnly) throw new ImageError(`image ${this.path} is read-only`);
    const parts = writeParts(data);
    checkRange(this, lba, writeSectors(parts));
    writeAllFully(this.handle(), parts, lba * BLOCK_SIZE);
  }

  flush(): void {
    if (!this.readOnly) fs.fsyncSync(this.handle());
  }

  close(): void {
    if (this.fd === null) return;
    try {
      if (!this.readOnly) fs.fsyncSync(this.fd);
    } finally {
      fs.closeSync(this.fd);
      this.fd = null;
      this.lock?.release();
    }
  }

  private handle(): number {
    if (this.fd === null) throw new ImageError(`image ${this.path} is closed`);
    return this.fd;
  }
}

/** pread until `buf` is full; bytes past end of file read as zero. */
export function readFully(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = fs.readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) {
      buf.fill(0, done);
      return;
    }
    done += n;
  }
}

export function writeFully(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, position + done);
}

/** Writes `parts` one after another from `position`, in one pwritev when the file takes it all (no joining copy). */
export function writeAllFully(fd: number, parts: readonly Uint8Array[], position: number): void {
  if (parts.length === 1) return writeFully(fd, parts[0], position);
  let written = fs.writevSync(fd, parts as Uint8Array[], position);
  // A short write (a signal, a full disk): the rest part by part, which reports the error if there is one.
  for (const p of parts) {
    if (written >= p.byteLength) {
      written -= p.byteLength;
    } else {
      writeFully(fd, p.subarray(written), position + written);
      written = 0;
    }
    position += p.byteLength;
  }
}
