// The build is skipped when nothing changed and redone when an output was altered, as the
// build's own progress lines tell a user.
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages, type ImagePaths } from '../src/index.js';
import { sha256 } from '../src/manifest.js';
import { cacheDir, debDir, imagePaths, manifestPath } from '../src/paths.js';

const mtimes = (paths: ImagePaths): number[] => Object.values(paths).map((path) => statSync(path).mtimeMs);

describe('rebuilding only when something changed', () => {
  let scratch: string | undefined;

  beforeAll(async () => {
    await buildImages();
  }, 300_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('a second build with the same inputs says the images are current and leaves them alone', async () => {
    const before = await buildImages();
    const manifestBefore = readFileSync(manifestPath(), 'utf8');
    const times = mtimes(before);
    const lines: string[] = [];
    const started = Date.now();
    const after = await buildImages({ log: (line) => lines.push(line) });
    expect(lines).toEqual(['guest images are current']);
    expect(after).toEqual(before);
    expect(mtimes(after)).toEqual(times);
    expect(readFileSync(manifestPath(), 'utf8')).toBe(manifestBefore);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a build elsewhere gives byte-identical images, and an image altered afterwards is built again', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'quasivm-images-'));
    // The packages are downloaded and their versions known already: no apt needed.
    symlinkSync(debDir(cacheDir()), debDir(scratch));
    copyFileSync(manifestPath(), manifestPath(scratch));
    const paths = await buildImages({ cacheDir: scratch });
    const reference = imagePaths();
    for (const key of Object.keys(paths) as (keyof ImagePaths)[]) {
      expect(sha256(readFileSync(paths[key])), key).toBe(sha256(readFileSync(reference[key])));
    }
    const original = readFileSync(paths.iso);
    appendFileSync(paths.iso, 'not part of the image');

    const lines: string[] = [];
    await buildImages({ cacheDir: scratch, log: (line) => lines.push(line) });
    expect(lines[0]).toBe('building guest images (iso changed since it was built)');
    expect(lines.at(-1)).toMatch(/^built in \d+\.\d s$/);
    expect(readFileSync(paths.iso).equals(original)).toBe(true);
  }, 120_000);
});
