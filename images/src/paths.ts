// Where the guest images live. Other packages' tests import these to find the images
// (call buildImages() first to make sure they exist and are current).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The images/ package directory. */
export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The monorepo root. */
export const REPO_ROOT = resolve(PACKAGE_DIR, '..');

/** The cache directory: QUASIVM_IMAGE_CACHE, or .cache/images/ at the repo root. */
export function cacheDir(): string {
  return process.env.QUASIVM_IMAGE_CACHE ? resolve(process.env.QUASIVM_IMAGE_CACHE) : join(REPO_ROOT, '.cache', 'images');
}

/** Downloaded Debian packages (.deb) are kept here. */
export const debDir = (cache = cacheDir()): string => join(cache, 'debs');
/** Scratch space of one build; removed when the build ends. */
export const workDir = (cache = cacheDir()): string => join(cache, 'work');

/** The Linux kernel (bzImage) from Debian's linux-image-*-686 package. */
export const kernelPath = (cache = cacheDir()): string => join(cache, 'vmlinuz');
/** The initramfs: gzip-compressed newc cpio with busybox and /init. */
export const initramfsPath = (cache = cacheDir()): string => join(cache, 'initramfs.cpio.gz');
/** A raw disk image: MBR, one active FAT partition, syslinux. */
export const diskImagePath = (cache = cacheDir()): string => join(cache, 'disk.img');
/** An El Torito (no-emulation, isolinux) bootable ISO 9660 image. */
export const isoPath = (cache = cacheDir()): string => join(cache, 'guest.iso');
/** A raw disk image like disk.img whose syslinux boots Debian's memtest86+ (the 32-bit build). */
export const memtestDiskPath = (cache = cacheDir()): string => join(cache, 'memtest.img');
/** What the outputs were built from (hashes of inputs and outputs). */
export const manifestPath = (cache = cacheDir()): string => join(cache, 'manifest.json');

export interface ImagePaths {
  kernel: string;
  initramfs: string;
  disk: string;
  iso: string;
  memtest: string;
}

/** Every output's path in one object. */
export function imagePaths(cache = cacheDir()): ImagePaths {
  return { kernel: kernelPath(cache), initramfs: initramfsPath(cache), disk: diskImagePath(cache), iso: isoPath(cache), memtest: memtestDiskPath(cache) };
}
