#!/usr/bin/env node
// Assembles every guests/src/*.asm into guests/build/<name>.bin with nasm (flat binary).
// Rebuilds only images older than their source or any include. Usable directly
// (`node guests/build.mjs`) or imported (`buildGuests()` returns the image paths).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = join(root, 'src');
export const INCLUDE_DIR = join(SOURCE_DIR, 'include');
export const BUILD_DIR = join(root, 'build');
const NASM = process.env.NASM ?? 'nasm';

const mtime = (path) => statSync(path).mtimeMs;

/** @returns {Record<string, string>} guest name -> path of its .bin */
export function buildGuests({ force = false, quiet = false } = {}) {
  mkdirSync(BUILD_DIR, { recursive: true });
  const includes = readdirSync(INCLUDE_DIR).map((f) => join(INCLUDE_DIR, f));
  const newestInclude = Math.max(0, ...includes.map(mtime), mtime(fileURLToPath(import.meta.url)));
  const images = {};
  for (const file of readdirSync(SOURCE_DIR).filter((f) => f.endsWith('.asm')).sort()) {
    const name = file.slice(0, -4);
    const source = join(SOURCE_DIR, file);
    const output = join(BUILD_DIR, `${name}.bin`);
    const stale = force || !existsSync(output) || mtime(output) < Math.max(mtime(source), newestInclude);
    if (stale) {
      execFileSync(NASM, ['-f', 'bin', '-w+all', '-I', INCLUDE_DIR + '/', '-o', output, source], { stdio: 'inherit' });
      if (!quiet) console.log(`built ${name}.bin`);
    }
    images[name] = output;
  }
  return images;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    buildGuests({ force: process.argv.includes('--force') });
  } catch (err) {
    console.error(`guest build failed: ${err.message}`);
    process.exit(1);
  }
}
