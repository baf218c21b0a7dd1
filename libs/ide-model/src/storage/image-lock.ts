import * as fs from 'node:fs';
import { ImageError } from './image-path.js';

/**
 * An exclusive lock on an image for read-write use: a sibling file `<image>.lock`
 * created with O_CREAT|O_EXCL holding the owner's pid. A second open in this or any
 * other process fails while the owner lives; a lock left by a dead process (SIGKILL)
 * is taken over.
 */
export class ImageLock {
  private released = false;
  private constructor(readonly lockPath: string) {}

  static acquire(imagePath: string): ImageLock {
    const lockPath = `${imagePath}.lock`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = fs.openSync(lockPath, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644);
        try {
          fs.writeSync(fd, `${process.pid}\n`);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        return new ImageLock(lockPath);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new ImageError(`cannot create lock ${lockPath}: ${(e as Error).message}`);
        }
        const owner = readOwner(lockPath);
        if (owner !== null && isAlive(owner)) {
          throw new ImageError(`image ${imagePath} is already in use read-write (locked by pid ${owner}${owner === process.pid ? ', this process' : ''})`);
        }
        // Stale (owner gone) or unreadable: remove and retry once.
        try {
          fs.unlinkSync(lockPath);
        } catch {
          /* raced with another taker; the retry decides */
        }
      }
    }
    throw new ImageError(`image ${imagePath} is locked (${lockPath}) and the lock could not be taken over`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (readOwner(this.lockPath) === process.pid) fs.unlinkSync(this.lockPath);
    } catch {
      /* already gone */
    }
  }
}

function readOwner(lockPath: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
