import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBlockDevice } from '../src/storage/block-device.js';
import { ImageError, resolveImagePath } from '../src/storage/image-path.js';
import { openImage } from '../src/storage/open-image.js';
import { OverlayImage } from '../src/storage/overlay-image.js';
import { RawImage } from '../src/storage/raw-image.js';
import { makeImage, patternSector, readFileSectors, tempDir } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Start the flush child and resolve once it printed `flushed`. */
function runFlushChild(dataDir: string, image: string, mode: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'flush-child.ts'), dataDir, image, mode], {
    cwd: path.resolve(here, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('flushed')) resolve(child);
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`child exited ${code} before flushing: ${out} ${err}`)));
  });
}

function killAndWait(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('image paths stay inside the data directory', () => {
  it('refuses .., absolute paths elsewhere and symlinks out', () => {
    const root = tempDir();
    const data = path.join(root, 'data');
    fs.mkdirSync(data);
    makeImage(root, 'outside.img', 4);
    makeImage(data, 'inside.img', 4);
    fs.symlinkSync(path.join(root, 'outside.img'), path.join(data, 'link.img'));
    fs.symlinkSync(root, path.join(data, 'linkdir'));
    fs.symlinkSync(path.join(data, 'inside.img'), path.join(data, 'ok-link.img'));

    expect(() => resolveImagePath(data, '../outside.img')).toThrow(/'\.\.'/);
    expect(() => resolveImagePath(data, 'sub/../../outside.img')).toThrow(ImageError);
    expect(() => resolveImagePath(data, path.join(root, 'outside.img'))).toThrow(/outside the data directory/);
    expect(() => resolveImagePath(data, '/etc/passwd')).toThrow(/outside the data directory/);
    expect(() => resolveImagePath(data, 'link.img')).toThrow(/outside the data directory/);
    expect(() => resolveImagePath(data, 'linkdir/outside.img')).toThrow(/outside the data directory/);
    expect(() => resolveImagePath(data, '.')).toThrow(ImageError);
    expect(() => openImage({ dataDir: data, image: '../outside.img', mode: 'ro' })).toThrow(ImageError);

    expect(resolveImagePath(data, 'inside.img')).toBe(path.join(fs.realpathSync(data), 'inside.img'));
    expect(resolveImagePath(data, path.join(data, 'inside.img'))).toBe(path.join(fs.realpathSync(data), 'inside.img'));
    expect(resolveImagePath(data, 'ok-link.img')).toBe(path.join(fs.realpathSync(data), 'inside.img'));
  });

  it('an overlay name must not escape either, even when the file does not exist yet', () => {
    const root = tempDir();
    const data = path.join(root, 'data');
    fs.mkdirSync(data);
    makeImage(data, 'base.img', 8);
    expect(() => openImage({ dataDir: data, image: 'base.img', mode: 'overlay', overlay: '../evil.ovl' })).toThrow(ImageError);
    fs.symlinkSync(path.join(root, 'nowhere.ovl'), path.join(data, 'dangling.ovl'));
    expect(() => openImage({ dataDir: data, image: 'base.img', mode: 'overlay', overlay: 'dangling.ovl' })).toThrow(/dangling symlink|outside/);
    expect(fs.existsSync(path.join(root, 'nowhere.ovl'))).toBe(false);
  });
});

describe('raw images', () => {
  it('fails clearly for missing and too-small images', () => {
    const dir = tempDir();
    expect(() => openImage({ dataDir: dir, image: 'missing.img', mode: 'rw' })).toThrow(/not found/);
    fs.writeFileSync(path.join(dir, 'tiny.img'), Buffer.alloc(100));
    expect(() => openImage({ dataDir: dir, image: 'tiny.img', mode: 'rw' })).toThrow(/too small/);
    expect(() => openImage({ dataDir: path.join(dir, 'nope'), image: 'x.img', mode: 'rw' })).toThrow(/data directory/);
  });

  it('reads and writes sectors, refuses writes when read-only and reads outside the image', () => {
    const dir = tempDir();
    const p = makeImage(dir, 'd.img', 16);
    const rw = new RawImage(p, { readOnly: false });
    expect(rw.sectorCount).toBe(16);
    expect(rw.read(3, 1)).toEqual(patternSector(3));
    rw.write(15, new Uint8Array(512).fill(9));
    rw.flush();
    expect(readFileSectors(p, 15, 1)).toEqual(new Uint8Array(512).fill(9));
    expect(() => rw.read(15, 2)).toThrow(RangeError);
    expect(() => rw.write(-1, new Uint8Array(512))).toThrow(RangeError);
    rw.close();
    const ro = new RawImage(p, { readOnly: true });
    expect(() => ro.write(0, new Uint8Array(512))).toThrow(/read-only/);
    ro.close();
  });

  it('a write given as several buffers (a DMA\'s PRD regions, not whole sectors each) lands as if they were one, and only whole sectors are taken', () => {
    const dir = tempDir();
    const p = makeImage(dir, 'parts.img', 16);
    const img = new RawImage(p, { readOnly: false });
    const parts = [new Uint8Array(100).fill(1), new Uint8Array(700).fill(2), new Uint8Array(224).fill(3)];
    img.write(4, parts);
    img.close();
    const expected = new Uint8Array([...parts[0], ...parts[1], ...parts[2]]);
    expect(readFileSectors(p, 4, 2)).toEqual(expected);
    expect(readFileSectors(p, 6, 1)).toEqual(patternSector(6));
    const again = new RawImage(p, { readOnly: false });
    expect(() => again.write(0, [new Uint8Array(512), new Uint8Array(2)])).toThrow(/partial sector/);
    again.close();
    const ov = openImage({ dataDir: dir, image: 'parts.img', mode: 'overlay', overlay: 'parts.ovl' });
    ov.write(9, parts);
    expect(ov.read(9, 2)).toEqual(expected);
    ov.close();
  });

  it('a second read-write open of the same image fails while the first holds it, in this process', () => {
    const dir = tempDir();
    makeImage(dir, 'd.img', 8);
    const a = openImage({ dataDir: dir, image: 'd.img', mode: 'rw' });
    expect(() => openImage({ dataDir: dir, image: 'd.img', mode: 'rw' })).toThrow(/already in use/);
    // read-only opens do not take the lock
    openImage({ dataDir: dir, image: 'd.img', mode: 'ro' }).close();
    a.close();
    openImage({ dataDir: dir, image: 'd.img', mode: 'rw' }).close();
  });

  it('SIGKILL after FLUSH CACHE loses nothing, and the dead owner\'s lock is taken over', async () => {
    const dir = tempDir();
    const p = makeImage(dir, 'd.img', 64);
    const child = await runFlushChild(dir, 'd.img', 'rw');
    // while the child lives, the image is locked against another process
    expect(() => openImage({ dataDir: dir, image: 'd.img', mode: 'rw' })).toThrow(new RegExp(`pid ${child.pid}`));
    await killAndWait(child);
    for (let s = 0; s < 4; s++) expect(readFileSectors(p, 8 + s, 1)).toEqual(new Uint8Array(512).fill(0xc0 + s));
    expect(readFileSectors(p, 12, 1)).toEqual(patternSector(12));
    const again = openImage({ dataDir: dir, image: 'd.img', mode: 'rw' });
    expect(again.read(9, 1)).toEqual(new Uint8Array(512).fill(0xc1));
    again.close();
  }, 30000);
});

describe('copy-on-write overlays', () => {
  it('writes go to the overlay; the base is never modified; data persists across reopen', () => {
    const dir = tempDir();
    const basePath = makeImage(dir, 'base.img', 100);
    const baseBefore = fs.readFileSync(basePath);
    const ov = openImage({ dataDir: dir, image: 'base.img', mode: 'overlay', overlay: 'vm1.ovl' });
    ov.write(10, new Uint8Array(1024).fill(0xaa));
    expect(ov.read(9, 4)).toEqual(new Uint8Array([...patternSector(9), ...new Uint8Array(1024).fill(0xaa), ...patternSector(12)]));
    ov.close();
    expect(fs.readFileSync(basePath).equals(baseBefore)).toBe(true);

    // the base is shared: a second VM with its own overlay sees the pristine base
    const ov2 = openImage({ dataDir: dir, image: 'base.img', mode: 'overlay', overlay: 'vm2.ovl' });
    expect(ov2.read(10, 1)).toEqual(patternSector(10));
    ov2.close();

    const again = new OverlayImage(basePath, path.join(fs.realpathSync(dir), 'vm1.ovl'));
    expect(again.isAllocated(10) && again.isAllocated(11) && !again.isAllocated(12)).toBe(true);
    expect(again.read(11, 1)).toEqual(new Uint8Array(512).fill(0xaa));
    again.close();
  });

  it('an overlay is locked, and refuses a base of another size', () => {
    const dir = tempDir();
    makeImage(dir, 'base.img', 100);
    makeImage(dir, 'other.img', 50);
    const a = openImage({ dataDir: dir, image: 'base.img', mode: 'overlay', overlay: 'x.ovl' });
    expect(() => openImage({ dataDir: dir, image: 'base.img', mode: 'overlay', overlay: 'x.ovl' })).toThrow(/already in use/);
    a.close();
    expect(() => openImage({ dataDir: dir, image: 'other.img', mode: 'overlay', overlay: 'x.ovl' })).toThrow(/base of 100 sectors/);
    fs.writeFileSync(path.join(dir, 'junk.ovl'), 'not an overlay at all, clearly');
    expect(() => openImage({ dataDir: dir, image: 'base.img', mode: 'overlay', overlay: 'junk.ovl' })).toThrow(/bad magic/);
  });

  it('SIGKILL after FLUSH CACHE through an overlay loses nothing and leaves the base alone', async () => {
    const dir = tempDir();
    const basePath = makeImage(dir, 'base.img', 64);
    const baseBefore = fs.readFileSync(basePath);
    const child = await runFlushChild(dir, 'base.img', 'overlay');
    await killAndWait(child);
    expect(fs.readFileSync(basePath).equals(baseBefore)).toBe(true);
    const ov = openImage({ dataDir: dir, image: 'base.img', mode: 'overlay' });
    for (let s = 0; s < 4; s++) expect(ov.read(8 + s, 1)).toEqual(new Uint8Array(512).fill(0xc0 + s));
    expect(ov.read(12, 1)).toEqual(patternSector(12));
    ov.close();
  }, 30000);
});

describe('MemoryBlockDevice', () => {
  it('bounds-checks like the file images', () => {
    const m = new MemoryBlockDevice(new Uint8Array(1024));
    expect(() => m.read(1, 2)).toThrow(RangeError);
    m.write(1, new Uint8Array(512).fill(1));
    expect(m.read(1, 1)[0]).toBe(1);
  });
});
