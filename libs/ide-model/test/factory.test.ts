import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtaCmd, Status } from '../src/ata-registers.js';
import { AtaController } from '../src/ide-controller.js';
import { ideDeviceFactory } from '../src/ide-factory.js';
import { FakeHost, makeImage, patternSector, Ports, readFileSectors, tempDir } from './helpers.js';

describe('ideDeviceFactory', () => {
  it('describes the legacy ports, the bus-master block and IRQs 14/15', () => {
    const d = ideDeviceFactory.describe({});
    expect(d.name).toBe('ide');
    expect(d.irqs).toEqual([14, 15]);
    expect(d.ports).toEqual([
      { base: 0x1f0, length: 8 },
      { base: 0x3f6, length: 1 },
      { base: 0x170, length: 8 },
      { base: 0x376, length: 1 },
      { base: 0xc000, length: 16 },
    ]);
    expect(ideDeviceFactory.describe({ busMasterBase: '0' }).ports).toHaveLength(4);
    expect(ideDeviceFactory.describe({ busMasterBase: '0xd000' }).ports[4]).toEqual({ base: 0xd000, length: 16 });
    expect(() => ideDeviceFactory.describe({ busMasterBase: '0xd001' })).toThrow(/aligned/);
  });

  it('creates a controller with a disk and a CD-ROM from configuration', () => {
    const dir = tempDir();
    makeImage(dir, 'hd.img', 128);
    fs.writeFileSync(path.join(dir, 'boot.iso'), Buffer.alloc(32 * 2048, 0x42));
    const host = new FakeHost();
    const ide = ideDeviceFactory.create(host, { dataDir: dir, 'primary.master': 'hd.img', 'secondary.master': 'boot.iso', 'primary.master.model': 'MY DISK' }) as AtaController;
    const p = new Ports(ide);
    p.lba28(7, 1);
    p.command(AtaCmd.READ_SECTORS);
    expect(p.readData(512)).toEqual(patternSector(7));
    expect(ide.device(1, 0)?.kind).toBe('atapi');
    expect(ide.device(0, 1)).toBeNull();
    // rw by default: the image is locked until the controller is closed
    expect(() => ideDeviceFactory.create(host, { dataDir: dir, 'primary.master': 'hd.img' })).toThrow(/already in use/);
    ide.close();
    (ideDeviceFactory.create(host, { dataDir: dir, 'primary.master': 'hd.img' }) as AtaController).close();
  });

  it('overlay mode keeps the base image untouched', () => {
    const dir = tempDir();
    const base = makeImage(dir, 'base.img', 64);
    const host = new FakeHost();
    const ide = ideDeviceFactory.create(host, { dataDir: dir, 'primary.master': 'base.img', 'primary.master.mode': 'overlay', 'primary.master.overlay': 'vm.ovl' }) as AtaController;
    const p = new Ports(ide);
    p.lba28(3, 1);
    p.command(AtaCmd.WRITE_SECTORS);
    p.writeData(new Uint8Array(512).fill(0x77));
    p.command(AtaCmd.FLUSH_CACHE);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    p.lba28(3, 1);
    p.command(AtaCmd.READ_SECTORS);
    expect(p.readData(512)).toEqual(new Uint8Array(512).fill(0x77));
    ide.close();
    expect(readFileSectors(base, 3, 1)).toEqual(patternSector(3));
    expect(fs.existsSync(path.join(dir, 'vm.ovl'))).toBe(true);
  });

  it('refuses unusable configurations with clear messages and leaks no locks', () => {
    const dir = tempDir();
    makeImage(dir, 'hd.img', 16);
    const host = new FakeHost();
    expect(() => ideDeviceFactory.create(host, { dataDir: dir, 'primary.master': '../hd.img' })).toThrow(/ide: .*'\.\.'/);
    expect(() => ideDeviceFactory.create(host, { dataDir: dir, 'primary.master': 'none.img' })).toThrow(/ide: .*not found/);
    expect(() => ideDeviceFactory.create(host, { 'primary.master': 'hd.img' })).toThrow(/no dataDir/);
    expect(() => ideDeviceFactory.create(host, { dataDir: dir, 'tertiary.master': 'hd.img' })).toThrow(/unknown configuration key/);
    expect(() => ideDeviceFactory.create(host, { dataDir: dir, 'primary.master': 'hd.img', 'primary.master.mode': 'rwx' })).toThrow(/mode/);
    // the first slot opened fine, the second failed: the first must be released again
    expect(() => ideDeviceFactory.create(host, { dataDir: dir, 'primary.master': 'hd.img', 'primary.slave': 'none.img' })).toThrow(/not found/);
    const ok = ideDeviceFactory.create(host, { dataDir: dir, 'primary.master': 'hd.img' }) as AtaController;
    ok.close();
    const empty = ideDeviceFactory.create(host, { 'secondary.master.type': 'cdrom' }) as AtaController;
    expect(empty.device(1, 0)?.kind).toBe('atapi');
  });
});
