// The Debian tools the build runs: installed (and the i386 architecture enabled) by
// ensure-image-tools.sh, and their versions, which are inputs of the build.
import { join } from 'node:path';
import { PACKAGE_DIR } from './paths.js';
import { run } from './run.js';

export const ENSURE_SCRIPT = join(PACKAGE_DIR, 'ensure-image-tools.sh');
/** Debian packages whose files end up in, or shape, the images. */
export const TOOL_PACKAGES = ['cpio', 'gzip', 'mtools', 'fdisk', 'syslinux', 'syslinux-common', 'isolinux', 'xorriso'];

/** Runs ensure-image-tools.sh (quick when everything is there). */
export async function ensureImageTools(): Promise<void> {
  await run(['bash', ENSURE_SCRIPT]);
}

/** "package=version" of every tool package, sorted. */
export async function toolVersions(): Promise<string[]> {
  const out = await run(['dpkg-query', '-W', '-f', '${Package}=${Version}\\n', ...TOOL_PACKAGES]);
  return out.split('\n').filter(Boolean).sort();
}
