// The four images exist and look like what they claim to be, read the way a boot loader
// or a user's tools read them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildImages, type ImagePaths } from '../src/index.js';
import { readNewc } from './support/cpio.js';

const SECTOR = 512;
const ISO_BLOCK = 2048;
let paths: ImagePaths;

beforeAll(async () => {
  paths = await buildImages();
}, 300_000);

describe('kernel', () => {
  it('is a Linux bzImage (boot sector signature and "HdrS" setup header)', () => {
    const kernel = readFileSync(paths.kernel);
    expect(kernel.readUInt16LE(0x1fe)).toBe(0xaa55);
    expect(kernel.toString('latin1', 0x202, 0x206)).toBe('HdrS');
    expect(kernel.readUInt16LE(0x206)).toBeGreaterThanOrEqual(0x020c); // boot protocol 2.12+
    expect(kernel[0x211] & 0x01).toBe(1); // LOADED_HIGH: a bzImage
  });
});

describe('initramfs', () => {
  it('is a gzip-compressed newc cpio holding /init, busybox and its shell link, all owned by root', () => {
    const archive = gunzipSync(readFileSync(paths.initramfs));
    expect(archive.toString('latin1', 0, 6)).toBe('070701');
    const entries = new Map(readNewc(archive).map((e) => [e.name, e]));

    const init = entries.get('init');
    expect(init, '/init').toBeDefined();
    expect(init!.mode & 0o170000).toBe(0o100000);
    expect(init!.mode & 0o111).toBe(0o111);
    const script = init!.data.toString();
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain('QUASIVM-GUEST-READY');

    const busybox = entries.get('bin/busybox');
    expect(busybox!.data.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(busybox!.data[4]).toBe(1); // ELFCLASS32: the i386 build
    const sh = entries.get('bin/sh');
    expect(sh!.mode & 0o170000).toBe(0o120000);
    expect(sh!.data.toString()).toBe('busybox');
    for (const dir of ['proc', 'sys', 'dev']) expect(entries.get(dir)?.mode! & 0o170000, dir).toBe(0o040000);
    for (const entry of entries.values()) expect([entry.uid, entry.gid], entry.name).toEqual([0, 0]);
  });
});

describe('disk image', () => {
  const partitionOffset = 2048 * SECTOR;

  it('has an MBR with boot code, the 55AA signature and one active FAT partition at 1 MiB', () => {
    const disk = readFileSync(paths.disk);
    expect(disk.length).toBe(64 * 1024 * 1024);
    expect(disk.readUInt16LE(0x1fe)).toBe(0xaa55);
    expect(disk.subarray(0, 440).equals(Buffer.alloc(440))).toBe(false);
    const entry = disk.subarray(0x1be, 0x1ce);
    expect(entry[0]).toBe(0x80); // active
    expect(entry[4]).toBe(0x0e); // FAT16, LBA
    expect(entry.readUInt32LE(8)).toBe(2048);
    expect(entry.readUInt32LE(12)).toBe(64 * 2048 - 2048);
    const bootSector = disk.subarray(partitionOffset, partitionOffset + SECTOR);
    expect(bootSector.readUInt16LE(0x1fe)).toBe(0xaa55);
    expect(bootSector.toString('latin1', 0x36, 0x3e)).toBe('FAT16   ');
    expect(bootSector.readUInt32LE(0x1c)).toBe(2048); // hidden sectors = partition start
    expect(bootSector.toString('latin1', 3, 11)).toBe('SYSLINUX');
  });

  it('lists the kernel, initramfs, syslinux.cfg and syslinux itself in the partition', () => {
    const listing = execFileSync('mdir', ['-a', '-b', '-i', `${paths.disk}@@${partitionOffset}`, '::'], { encoding: 'utf8' });
    const names = listing.split('\n').filter(Boolean).map((line) => line.replace(/^::\//, '').toLowerCase()).sort();
    expect(names).toEqual(['initrd.gz', 'ldlinux.c32', 'ldlinux.sys', 'syslinux.cfg', 'vmlinuz']);
    const config = execFileSync('mtype', ['-i', `${paths.disk}@@${partitionOffset}`, '::/syslinux.cfg'], { encoding: 'utf8' });
    expect(config).toContain('APPEND console=ttyS0 console=tty0');
  });
});

describe('ISO image', () => {
  it('is ISO 9660 ("CD001") with an El Torito boot record pointing at a no-emulation isolinux entry', () => {
    const iso = readFileSync(paths.iso);
    const primary = iso.subarray(16 * ISO_BLOCK, 17 * ISO_BLOCK);
    expect(primary[0]).toBe(1);
    expect(primary.toString('latin1', 1, 6)).toBe('CD001');
    expect(primary.toString('latin1', 40, 72).trim()).toBe('QUASIVM');

    const bootRecord = iso.subarray(17 * ISO_BLOCK, 18 * ISO_BLOCK);
    expect(bootRecord[0]).toBe(0);
    expect(bootRecord.toString('latin1', 1, 6)).toBe('CD001');
    expect(bootRecord.toString('latin1', 7, 30)).toBe('EL TORITO SPECIFICATION');

    const catalog = iso.subarray(bootRecord.readUInt32LE(0x47) * ISO_BLOCK);
    expect(catalog[0]).toBe(1); // validation entry
    expect([catalog[30], catalog[31]]).toEqual([0x55, 0xaa]);
    expect(catalog[32]).toBe(0x88); // bootable
    expect(catalog[33]).toBe(0); // no emulation
    expect(catalog.readUInt16LE(38)).toBe(4); // 4 virtual sectors loaded
    const bootImage = iso.subarray(catalog.readUInt32LE(40) * ISO_BLOCK);
    expect(bootImage.readUInt32LE(8)).toBe(16); // boot info table: primary volume descriptor LBA
  });

  it('holds isolinux, its configuration, the kernel and the initramfs', () => {
    const listing = execFileSync('xorriso', ['-indev', paths.iso, '-find', '/', '-type', 'f'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = listing.split('\n').filter(Boolean).map((line) => line.replace(/^'|'$/g, '')).sort();
    expect(files).toEqual(['/initrd.gz', '/isolinux/isolinux.bin', '/isolinux/isolinux.cfg', '/isolinux/ldlinux.c32', '/vmlinuz']);
  });
});
