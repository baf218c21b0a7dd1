// The initramfs: a root tree staged in a scratch directory (busybox, its applet links,
// /init and the empty mount points), packed with cpio as newc owned by root and
// compressed with gzip. No step needs root.
import { chmodSync, copyFileSync, lutimesSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pipeline } from './run.js';

/** Applets linked in the image; /init links the rest at boot with `busybox --install -s`. */
export const BUSYBOX_APPLETS = ['sh', 'mount', 'umount', 'mkdir', 'echo', 'cat', 'ls', 'setsid', 'hostname', 'poweroff', 'reboot'];
const MOUNT_POINTS = ['proc', 'sys', 'dev', 'tmp', 'root', 'etc', 'sbin', 'usr/bin', 'usr/sbin'];

export interface InitramfsInputs {
  /** The i386 busybox-static binary. */
  busybox: string;
  /** The /init shell script. */
  init: string;
  /** Every file gets this modification time (seconds), so the archive is reproducible. */
  mtime: number;
}

/** Lays out the root tree under dir. */
export function stageRoot(dir: string, inputs: InitramfsInputs): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const mountPoint of MOUNT_POINTS) mkdirSync(join(dir, mountPoint), { recursive: true });
  copyFileSync(inputs.busybox, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const applet of BUSYBOX_APPLETS) symlinkSync('busybox', join(dir, 'bin', applet));
  copyFileSync(inputs.init, join(dir, 'init'));
  chmodSync(join(dir, 'init'), 0o755);
  chmodSync(join(dir, 'tmp'), 0o1777);
  chmodSync(join(dir, 'root'), 0o700);
  for (const path of walk(dir)) lutimesSync(path, inputs.mtime, inputs.mtime);
  lutimesSync(dir, inputs.mtime, inputs.mtime);
}

/** Every path under dir (not dir itself), parents before children. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push(path);
    if (entry.isDirectory()) out.push(...walk(path));
  }
  return out;
}

/** Packs the staged tree into a gzip-compressed newc cpio at output. */
export async function packInitramfs(rootDir: string, output: string): Promise<void> {
  const list = walk(rootDir)
    .map((path) => relative(rootDir, path))
    .sort()
    .join('\n');
  await pipeline(
    [
      ['cpio', '--create', '--format=newc', '--owner=root:root', '--reproducible', '--quiet'],
      ['gzip', '-9', '-n'],
    ],
    { cwd: rootDir, input: `${list}\n`, stdoutFile: output },
  );
}
