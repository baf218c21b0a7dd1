// Test guest images (guests/src/*.asm), built with nasm; variants with a patched parameter block.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildGuests } from '../../../../guests/build.mjs';
import { tempDir } from './processes.js';

const PARAM_BLOCK = 0xffe0;

export const guestImages = buildGuests({ quiet: true });

/** A copy of guest `name` with param0 set (e.g. the spin count of two-lines). */
export function guestWithParam0(name: string, param0: number): string {
  const image = Buffer.from(readFileSync(guestImages[name]));
  if (image.toString('latin1', PARAM_BLOCK, PARAM_BLOCK + 4) !== 'QVMP') throw new Error(`${name} has no parameter block`);
  image.writeUInt32LE(param0, PARAM_BLOCK + 4);
  const file = path.join(tempDir('guest'), `${name}-${param0}.bin`);
  writeFileSync(file, image);
  return file;
}
