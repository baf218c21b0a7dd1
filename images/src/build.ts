// Builds the guest images into the cache directory, or says they are current.
// `node --import tsx images/src/build.ts [--force]`, or buildImages() from code.
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BOOT_INITRAMFS_NAME, BOOT_KERNEL_NAME, BOOT_MEMTEST_NAME, KERNEL_CMDLINE, memtestSyslinuxConfig, syslinuxConfig } from './boot-config.js';
import { aptListsFingerprint, downloadPackage, extractFromDeb, resolvePackages, type DebianPackage, type GuestPackages } from './debian.js';
import { makeDiskImage } from './disk-image.js';
import { packInitramfs, stageRoot } from './initramfs.js';
import { makeIso } from './iso-image.js';
import { withLock } from './lock.js';
import { fileSha256, readManifest, recordOutput, staleReason, treeSha256, writeManifest, type BuildInputs, type Manifest } from './manifest.js';
import { cacheDir as defaultCacheDir, debDir, imagePaths, manifestPath, PACKAGE_DIR, workDir, type ImagePaths } from './paths.js';
import { ENSURE_SCRIPT, ensureImageTools, toolVersions } from './tools.js';

export const INIT_SCRIPT = join(PACKAGE_DIR, 'guest', 'init');
/** Every file in the images gets this time (2024-01-01), unless SOURCE_DATE_EPOCH says otherwise. */
const FILE_TIME = Number(process.env.SOURCE_DATE_EPOCH ?? 1_704_067_200);

export interface BuildOptions {
  /** Defaults to QUASIVM_IMAGE_CACHE or .cache/images/ at the repo root. */
  cacheDir?: string;
  /** Rebuild even when the manifest says the images are current. */
  force?: boolean;
  /** Progress lines; default: none. */
  log?: (line: string) => void;
}

/** Makes sure the images exist and match their inputs; returns their paths. */
export async function buildImages(options: BuildOptions = {}): Promise<ImagePaths> {
  const cache = options.cacheDir ?? defaultCacheDir();
  const log = options.log ?? (() => {});
  mkdirSync(cache, { recursive: true });
  return withLock(join(cache, '.lock'), async () => {
    await ensureImageTools();
    const previous = readManifest(manifestPath(cache));
    const aptLists = aptListsFingerprint();
    const packages = (previous?.aptLists === aptLists ? packagesOf(previous) : undefined) ?? (await resolvePackages());
    const inputs: BuildInputs = {
      kernelPackage: `${packages.kernel.name}=${packages.kernel.version}`,
      busyboxPackage: `${packages.busybox.name}=${packages.busybox.version}`,
      memtestPackage: `${packages.memtest.name}=${packages.memtest.version}`,
      tools: await toolVersions(),
      cmdline: KERNEL_CMDLINE,
      init: fileSha256(INIT_SCRIPT),
      code: treeSha256([join(PACKAGE_DIR, 'src'), join(PACKAGE_DIR, 'guest'), ENSURE_SCRIPT], PACKAGE_DIR),
    };
    const paths = imagePaths(cache);
    const reason = options.force ? 'rebuild asked for' : staleReason(previous, inputs, paths);
    if (!reason) {
      log('guest images are current');
      return paths;
    }
    log(`building guest images (${reason})`);
    const started = Date.now();
    rmSync(manifestPath(cache), { force: true });
    const work = workDir(cache);
    rmSync(work, { recursive: true, force: true });
    const out = join(work, 'out');
    mkdirSync(out, { recursive: true });
    try {
      const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
        const t0 = Date.now();
        const result = await fn();
        log(`  ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        return result;
      };
      const [kernelDeb, busyboxDeb, memtestDeb] = await step(`fetch ${inputs.kernelPackage}, ${inputs.busyboxPackage}, ${inputs.memtestPackage}`, () =>
        Promise.all([packages.kernel, packages.busybox, packages.memtest].map((pkg) => downloadPackage(pkg, debDir(cache)))),
      );
      const built: ImagePaths = {
        kernel: join(out, 'vmlinuz'),
        initramfs: join(out, 'initramfs.cpio.gz'),
        disk: join(out, 'disk.img'),
        iso: join(out, 'guest.iso'),
        memtest: join(out, 'memtest.img'),
      };
      await step('extract the kernel and busybox', async () => {
        const [kernelFile] = await extractFromDeb(kernelDeb, './boot/vmlinuz-*', join(work, 'kernel-deb'));
        copyFileSync(join(work, 'kernel-deb', kernelFile), built.kernel);
        await extractFromDeb(busyboxDeb, './bin/busybox', join(work, 'busybox-deb'));
      });
      await step('initramfs', async () => {
        const root = join(work, 'initramfs-root');
        stageRoot(root, { busybox: join(work, 'busybox-deb', 'bin', 'busybox'), init: INIT_SCRIPT, mtime: FILE_TIME });
        await packInitramfs(root, built.initramfs);
      });
      const config = syslinuxConfig();
      await step('disk image', async () => {
        const configFile = join(work, 'syslinux.cfg');
        writeFileSync(configFile, config);
        await makeDiskImage(built.disk, [
          { source: built.kernel, name: BOOT_KERNEL_NAME },
          { source: built.initramfs, name: BOOT_INITRAMFS_NAME },
          { source: configFile, name: 'syslinux.cfg' },
        ], FILE_TIME);
      });
      await step('ISO image', () =>
        makeIso(built.iso, join(work, 'iso-root'), {
          kernel: built.kernel,
          initramfs: built.initramfs,
          kernelName: BOOT_KERNEL_NAME,
          initramfsName: BOOT_INITRAMFS_NAME,
          config,
          mtime: FILE_TIME,
        }),
      );
      await step('memtest86+ disk image', async () => {
        const [image] = await extractFromDeb(memtestDeb, './boot/memtest86+ia32.bin', join(work, 'memtest-deb'));
        const configFile = join(work, 'memtest-syslinux.cfg');
        writeFileSync(configFile, memtestSyslinuxConfig());
        await makeDiskImage(built.memtest, [
          { source: join(work, 'memtest-deb', image), name: BOOT_MEMTEST_NAME },
          { source: configFile, name: 'syslinux.cfg' },
        ], FILE_TIME);
      });
      for (const key of Object.keys(paths) as (keyof ImagePaths)[]) renameSync(built[key], paths[key]);
      writeManifest(manifestPath(cache), {
        inputs,
        aptLists,
        outputs: {
          kernel: recordOutput(paths.kernel),
          initramfs: recordOutput(paths.initramfs),
          disk: recordOutput(paths.disk),
          iso: recordOutput(paths.iso),
          memtest: recordOutput(paths.memtest),
        },
        builtAt: new Date().toISOString(),
        buildSeconds: (Date.now() - started) / 1000,
      });
      log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return paths;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}

/** The packages a previous build recorded as "name=version" (undefined when it lacks one: resolve them again). */
function packagesOf(manifest: Manifest): GuestPackages | undefined {
  if (!manifest.inputs.memtestPackage) return undefined;
  const parse = (spec: string): DebianPackage => {
    const at = spec.indexOf('=');
    return { name: spec.slice(0, at), version: spec.slice(at + 1) };
  };
  return { kernel: parse(manifest.inputs.kernelPackage), busybox: parse(manifest.inputs.busyboxPackage), memtest: parse(manifest.inputs.memtestPackage) };
}

async function main(argv: string[]): Promise<void> {
  const paths = await buildImages({ force: argv.includes('--force'), log: (line) => console.error(line) });
  console.log(`kernel:    ${paths.kernel}`);
  console.log(`initramfs: ${paths.initramfs}`);
  console.log(`disk:      ${paths.disk}`);
  console.log(`iso:       ${paths.iso}`);
  console.log(`memtest:   ${paths.memtest}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(`guest image build failed: ${err.message}`);
    process.exit(1);
  });
}
