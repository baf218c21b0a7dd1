// The two Debian i386 packages the guest is made of: which versions apt would take,
// fetching them with `apt-get download`, and taking single files out of them.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, run } from './run.js';

export const ARCH = 'i386';
/** Debian's metapackage for the current non-PAE 32-bit kernel. */
export const KERNEL_METAPACKAGE = 'linux-image-686';
export const BUSYBOX_PACKAGE = 'busybox-static';
/** Memory tester; its ia32 image boots through the Linux 16-bit boot protocol (syslinux LINUX). */
export const MEMTEST_PACKAGE = 'memtest86+';

export interface DebianPackage {
  name: string;
  version: string;
}

/** The versioned kernel package (e.g. linux-image-6.1.0-50-686) the metapackage depends on. */
export async function kernelPackageName(): Promise<string> {
  const out = await run(['apt-cache', 'depends', '--no-recommends', '--no-suggests', `${KERNEL_METAPACKAGE}:${ARCH}`]);
  const match = /Depends:\s*(linux-image-[0-9][^\s:]*-686)/.exec(out);
  if (!match) throw new Error(`${KERNEL_METAPACKAGE}:${ARCH} depends on no linux-image-*-686 package:\n${out}`);
  return match[1];
}

/** The version `apt-get download name:i386` would fetch (from the local package lists). */
export async function candidateVersion(name: string): Promise<string> {
  const out = await run(['apt-cache', 'show', '--no-all-versions', `${name}:${ARCH}`]);
  const match = /^Version:\s*(\S+)/m.exec(out);
  if (!match) throw new Error(`apt-cache knows no ${name}:${ARCH}; is the i386 architecture enabled (run images/ensure-image-tools.sh)?`);
  return match[1];
}

/** The Debian packages the images are made of. */
export interface GuestPackages {
  kernel: DebianPackage;
  busybox: DebianPackage;
  memtest: DebianPackage;
}

/** The kernel, busybox and memtest86+ packages the images are built from. */
export async function resolvePackages(): Promise<GuestPackages> {
  const kernelName = await kernelPackageName();
  const [kernelVersion, busyboxVersion, memtestVersion] = await Promise.all([candidateVersion(kernelName), candidateVersion(BUSYBOX_PACKAGE), candidateVersion(MEMTEST_PACKAGE)]);
  return {
    kernel: { name: kernelName, version: kernelVersion },
    busybox: { name: BUSYBOX_PACKAGE, version: busyboxVersion },
    memtest: { name: MEMTEST_PACKAGE, version: memtestVersion },
  };
}

/** apt's file name for a package: the epoch's colon is written %3a. */
function debFileName(pkg: DebianPackage): string {
  return `${pkg.name}_${pkg.version.replace(/:/g, '%3a')}_${ARCH}.deb`;
}

/** Downloads the .deb into dir unless it is already there; returns its path. */
export async function downloadPackage(pkg: DebianPackage, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, debFileName(pkg));
  if (existsSync(path)) return path;
  // Download into a private directory and move the file in, so a broken download never
  // looks like a cached package. As root, apt's _apt sandbox user cannot write here.
  const partial = join(dir, `.download-${pkg.name}-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial);
  try {
    const sandbox = process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    await run(['apt-get', 'download', '-q', ...sandbox, `${pkg.name}:${ARCH}=${pkg.version}`], { cwd: partial });
    const [file] = readdirSync(partial).filter((f) => f.endsWith('.deb'));
    if (!file) throw new Error(`apt-get download ${pkg.name}:${ARCH}=${pkg.version} left no .deb`);
    renameSync(join(partial, file), path);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return path;
}

/**
 * Extracts the members of a .deb matching a tar wildcard (e.g. `./boot/vmlinuz-*`) under
 * dest, without unpacking the rest; returns the extracted paths relative to dest.
 */
export async function extractFromDeb(deb: string, wildcard: string, dest: string): Promise<string[]> {
  mkdirSync(dest, { recursive: true });
  const listed = await pipeline([
    ['dpkg-deb', '--fsys-tarfile', deb],
    ['tar', '-x', '-v', '-C', dest, '--wildcards', wildcard],
  ]);
  const files = listed.split('\n').filter((line) => line && !line.endsWith('/'));
  if (files.length === 0) throw new Error(`${deb} holds nothing matching ${wildcard}`);
  return files;
}

const APT_LISTS = '/var/lib/apt/lists';

/**
 * Names, sizes and times of apt's package lists. apt-cache answers from these alone, and
 * without apt's binary cache (Debian's container images switch it off) each call parses
 * them all, taking seconds; an unchanged fingerprint lets a build reuse the last answer.
 */
export function aptListsFingerprint(): string {
  const lines = readdirSync(APT_LISTS, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name !== 'lock')
    .map((entry) => {
      const stat = statSync(join(APT_LISTS, entry.name));
      return `${entry.name} ${stat.size} ${stat.mtimeMs}`;
    })
    .sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
