import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AtaCmd, ErrorBit, SetFeature, Status } from '../src/ata-registers.js';
import { AtaController } from '../src/ide-controller.js';
import { MemoryBlockDevice } from '../src/storage/block-device.js';
import { RawImage } from '../src/storage/raw-image.js';
import { bytesToWords, FakeHost, Ports, readFileSectors, tempDir } from './helpers.js';

describe('a disk larger than LBA28 and 32-bit sector numbers', () => {
  let ide: AtaController | null = null;
  afterEach(() => ide?.close());

  it('reports 0FFFFFFFh in words 60-61 and the full size in 100-103; LBA48 reaches past 2^32 sectors', () => {
    const dir = tempDir();
    const p = path.join(dir, 'big.img');
    const sectors = 2 ** 32 + 4096; // a 2 TiB sparse file
    const fd = fs.openSync(p, 'w');
    fs.ftruncateSync(fd, sectors * 512);
    fs.closeSync(fd);
    const host = new FakeHost();
    ide = new AtaController(host, { drives: [{ kind: 'disk', image: new RawImage(p, { readOnly: false }) }, null, null, null] });
    const io = new Ports(ide);
    io.command(AtaCmd.IDENTIFY_DEVICE);
    const w = bytesToWords(io.readData(512));
    expect(w[60] | (w[61] << 16)).toBe(0x0fffffff);
    expect(w[100] + w[101] * 2 ** 16 + w[102] * 2 ** 32 + w[103] * 2 ** 48).toBe(sectors);
    expect(w[1]).toBe(16383);

    const lba = 2 ** 32 + 100;
    io.lba48(lba, 1);
    io.command(AtaCmd.WRITE_SECTORS_EXT);
    io.writeData(new Uint8Array(512).fill(0x5e));
    io.command(AtaCmd.FLUSH_CACHE_EXT);
    expect(io.status()).toBe(Status.DRDY | Status.DSC);
    expect(readFileSectors(p, lba, 1)).toEqual(new Uint8Array(512).fill(0x5e));
    expect(readFileSectors(p, 100, 1)).toEqual(new Uint8Array(512)); // not wrapped to 32 bits
    // the registers report the last sector written, high bytes under HOB
    io.devctl(0x80);
    expect([io.in8(3), io.in8(4), io.in8(5)]).toEqual([0, 1, 0]); // LBA bits 31:24, 39:32, 47:40
    io.devctl(0x00);
    expect(io.in8(3)).toBe(100);

    io.lba48(sectors, 1);
    io.command(AtaCmd.READ_SECTORS_EXT);
    expect(io.error()).toBe(ErrorBit.IDNF);
  });

  it('with the write cache disabled every write command is flushed on completion', () => {
    const dev = new MemoryBlockDevice(new Uint8Array(16 * 512));
    const host = new FakeHost();
    const c = new AtaController(host, { drives: [{ kind: 'disk', image: dev }, null, null, null] });
    const io = new Ports(c);
    io.lba28(1, 1);
    io.command(AtaCmd.WRITE_SECTORS);
    io.writeData(new Uint8Array(512));
    expect(dev.flushCount).toBe(0);
    io.out8(1, SetFeature.DISABLE_WRITE_CACHE);
    io.command(AtaCmd.SET_FEATURES);
    const afterDisable = dev.flushCount;
    io.lba28(2, 2);
    io.command(AtaCmd.WRITE_SECTORS);
    io.writeData(new Uint8Array(512).fill(0xaa));
    expect(dev.flushCount - afterDisable).toBe(0); // one of two sectors: the command is not complete
    io.writeData(new Uint8Array(512).fill(0xbb));
    expect(dev.flushCount - afterDisable).toBe(1);
    expect(dev.read(2, 2).subarray(510, 514)).toEqual(new Uint8Array([0xaa, 0xaa, 0xbb, 0xbb]));
  });
});
