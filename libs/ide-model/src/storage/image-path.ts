import * as fs from 'node:fs';
import * as path from 'node:path';

/** Thrown when an image cannot be opened; the message says which image and why. */
export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

/**
 * Resolve `name` inside `dataDir`, refusing anything that could reach outside it:
 * '..' components, absolute paths elsewhere, and symlinks (of the file or of any
 * directory on the way) whose target lies outside. With `mustExist` false the file
 * may be missing (an overlay about to be created); its directory must still exist.
 */
export function resolveImagePath(dataDir: string, name: string, mustExist = true): string {
  if (!dataDir) throw new ImageError('no data directory configured');
  if (!name) throw new ImageError('empty image name');
  if (name.includes('\0')) throw new ImageError(`image name ${JSON.stringify(name)} contains a NUL byte`);
  let root: string;
  try {
    root = fs.realpathSync(path.resolve(dataDir));
  } catch {
    throw new ImageError(`data directory ${dataDir} does not exist`);
  }
  const parts = name.split(/[\\/]+/);
  if (parts.includes('..')) throw new ImageError(`image path ${name} contains '..': refused`);
  const candidate = path.isAbsolute(name) ? path.resolve(name) : path.resolve(root, name);
  const lexicalRoot = path.resolve(dataDir);
  if (path.isAbsolute(name) && !isInside(lexicalRoot, candidate) && !isInside(root, candidate)) {
    throw new ImageError(`image path ${name} lies outside the data directory ${dataDir}: refused`);
  }
  let real: string;
  if (fs.existsSync(candidate)) {
    real = fs.realpathSync(candidate);
  } else {
    if (mustExist) throw new ImageError(`image ${name} not found in ${dataDir}`);
    // A dangling symlink would be followed on create: refuse it.
    try {
      fs.lstatSync(candidate);
      throw new ImageError(`image path ${name} is a dangling symlink: refused`);
    } catch (e) {
      if (e instanceof ImageError) throw e;
    }
    let dirReal: string;
    try {
      dirReal = fs.realpathSync(path.dirname(candidate));
    } catch {
      throw new ImageError(`directory of image ${name} does not exist in ${dataDir}`);
    }
    real = path.join(dirReal, path.basename(candidate));
  }
  if (!isInside(root, real)) {
    throw new ImageError(`image path ${name} resolves to ${real}, outside the data directory ${dataDir}: refused`);
  }
  return real;
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
