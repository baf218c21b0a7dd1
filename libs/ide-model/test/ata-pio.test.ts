import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtaCmd, ErrorBit, Status } from '../src/ata-registers.js';
import { AtaController } from '../src/ide-controller.js';
import { RawImage } from '../src/storage/raw-image.js';
import { bytesToWords, FakeHost, identifyString, makeImage, patternSector, Ports, readFileSectors, tempDir } from './helpers.js';

const SECTORS = 20000; // ~10 MB: 19 cylinders of 16 x 63 plus a partial one

describe('ATA disk over PIO', () => {
  let dir: string;
  let imagePath: string;
  let image: RawImage;
  let host: FakeHost;
  let ide: AtaController;
  let p: Ports;

  beforeEach(() => {
    dir = tempDir();
    imagePath = makeImage(dir, 'disk.img', SECTORS);
    image = new RawImage(imagePath, { readOnly: false });
    host = new FakeHost();
    ide = new AtaController(host, { drives: [{ kind: 'disk', image, model: 'TEST DISK MODEL', serial: 'SN123' }, null, null, null] });
    p = new Ports(ide);
  });
  afterEach(() => ide.close());

  it('powers up ready with the ATA signature', () => {
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    expect([p.in8(2), p.in8(3), p.in8(4), p.in8(5)]).toEqual([1, 1, 0, 0]);
  });

  it('IDENTIFY DEVICE reports capacity, geometry, features and byte-swapped strings', () => {
    p.select(0);
    p.command(AtaCmd.IDENTIFY_DEVICE);
    expect(host.level(14)).toBe(true);
    expect(p.status() & (Status.DRQ | Status.BSY | Status.ERR)).toBe(Status.DRQ);
    expect(host.level(14)).toBe(false); // status read clears INTRQ
    const raw = p.readData(512);
    const w = bytesToWords(raw);
    expect(p.status() & Status.DRQ).toBe(0);
    expect(w[0] & 0x8000).toBe(0); // ATA device
    expect(w[1]).toBe(Math.floor(SECTORS / (16 * 63)));
    expect(w[3]).toBe(16);
    expect(w[6]).toBe(63);
    expect(w[60] | (w[61] << 16)).toBe(SECTORS);
    expect(w[100] + w[101] * 0x10000 + w[102] * 2 ** 32 + w[103] * 2 ** 48).toBe(SECTORS);
    expect(w[49] & 0x0300).toBe(0x0300); // LBA and DMA
    expect(w[83] & (1 << 10)).not.toBe(0); // 48-bit
    expect(w[47] & 0xff).toBe(16); // max multiple
    expect(w[63] & 7).toBe(7);
    expect(identifyString(w, 27, 20).trimEnd()).toBe('TEST DISK MODEL');
    expect(identifyString(w, 10, 10).trimEnd()).toBe('SN123');
    // "TE" sits as 'T' in the high byte: byte 54 (word 27 low byte) is 'E'.
    expect(String.fromCharCode(raw[54], raw[55])).toBe('ET');
    // integrity word: signature A5h and checksum making the sum 0 mod 256
    expect(raw[510]).toBe(0xa5);
    expect(raw.reduce((a, b) => (a + b) & 0xff, 0)).toBe(0);
  });

  it('reads sectors in LBA28 with one interrupt per sector, word by word', () => {
    p.lba28(100, 3);
    p.command(AtaCmd.READ_SECTORS);
    for (let i = 0; i < 3; i++) {
      expect(host.level(14)).toBe(true);
      expect(p.status() & Status.DRQ).toBe(Status.DRQ);
      const words = p.readWords(256);
      const bytes = new Uint8Array(words.buffer);
      expect(bytes).toEqual(patternSector(100 + i));
    }
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    expect(host.raises(14)).toBe(3);
    // registers hold the last sector read
    expect(p.in8(3)).toBe(102);
  });

  it('reads in CHS addressing', () => {
    // C=2, H=3, S=5 -> LBA (2*16+3)*63+4 = 2209
    p.chs(2, 3, 5, 2);
    p.command(AtaCmd.READ_SECTORS);
    expect(p.readData(512)).toEqual(patternSector(2209));
    expect(p.readData(512)).toEqual(patternSector(2210));
    // sector number 0 does not exist in CHS
    p.chs(0, 0, 0, 1);
    p.command(AtaCmd.READ_SECTORS);
    expect(p.status() & Status.ERR).toBe(Status.ERR);
    expect(p.error()).toBe(ErrorBit.IDNF);
  });

  it('writes in CHS, LBA28 and LBA48, and the bytes land in the image file', () => {
    const data = (seed: number) => Uint8Array.from({ length: 512 }, (_, i) => (seed * 31 + i) & 0xff);
    p.chs(1, 2, 3, 1); // (1*16+2)*63+2 = 1136
    p.command(AtaCmd.WRITE_SECTORS);
    expect(host.level(14)).toBe(false); // no interrupt before the first block
    expect(p.altStatus() & Status.DRQ).toBe(Status.DRQ);
    p.writeData(data(1));
    expect(host.level(14)).toBe(true);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);

    p.lba28(5000, 2);
    p.command(AtaCmd.WRITE_SECTORS);
    p.writeData(data(2));
    expect(p.status() & Status.DRQ).toBe(Status.DRQ);
    p.writeData(data(3));
    expect(p.status()).toBe(Status.DRDY | Status.DSC);

    p.lba48(19999, 1);
    p.command(AtaCmd.WRITE_SECTORS_EXT);
    p.writeData(data(4));
    expect(p.status()).toBe(Status.DRDY | Status.DSC);

    p.command(AtaCmd.FLUSH_CACHE);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    expect(readFileSectors(imagePath, 1136, 1)).toEqual(data(1));
    expect(readFileSectors(imagePath, 5000, 2)).toEqual(new Uint8Array([...data(2), ...data(3)]));
    expect(readFileSectors(imagePath, 19999, 1)).toEqual(data(4));
    expect(readFileSectors(imagePath, 5002, 1)).toEqual(patternSector(5002)); // neighbour untouched
  });

  it('a PIO write command reaches the image when it completes, and blocks already written survive an abandoned command or a snapshot', () => {
    const data = (seed: number) => Uint8Array.from({ length: 512 }, (_, i) => (seed * 17 + i) & 0xff);
    p.lba28(300, 3);
    p.command(AtaCmd.WRITE_SECTORS);
    p.writeData(data(1));
    p.writeData(data(2));
    expect(readFileSectors(imagePath, 300, 1)).toEqual(patternSector(300)); // held: the command is not complete
    p.writeData(data(3));
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    expect(readFileSectors(imagePath, 300, 3)).toEqual(new Uint8Array([...data(1), ...data(2), ...data(3)]));

    p.lba28(400, 4);
    p.command(AtaCmd.WRITE_SECTORS);
    p.writeData(data(4));
    ide.saveState(); // a snapshot mid-command: what the guest wrote is in the image, not only in memory
    expect(readFileSectors(imagePath, 400, 1)).toEqual(data(4));
    p.writeData(data(5));
    p.command(AtaCmd.CHECK_POWER_MODE); // abandons the write after two of four sectors
    expect(readFileSectors(imagePath, 400, 3)).toEqual(new Uint8Array([...data(4), ...data(5), ...patternSector(402)]));
  });

  it('LBA48 reads use the HOB registers and HOB read-back', () => {
    p.lba48(12345, 2);
    // HOB=1 reads the previous content (high bytes), HOB=0 the current
    p.devctl(0x80);
    expect(p.in8(2)).toBe(0);
    expect(p.in8(3)).toBe(0);
    p.devctl(0x00);
    expect(p.in8(3)).toBe(12345 & 0xff);
    expect(p.in8(4)).toBe(12345 >> 8);
    p.command(AtaCmd.READ_SECTORS_EXT);
    expect(p.readData(1024)).toEqual(new Uint8Array([...patternSector(12345), ...patternSector(12346)]));
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
  });

  it('READ/WRITE MULTIPLE move a whole block per DRQ and per string call', () => {
    p.lba28(10, 8);
    p.command(AtaCmd.READ_MULTIPLE);
    expect(p.status() & Status.ERR).toBe(Status.ERR); // multiple mode not set yet
    expect(p.error()).toBe(ErrorBit.ABRT);

    p.out8(2, 3);
    p.command(AtaCmd.SET_MULTIPLE_MODE);
    expect(p.status() & Status.ERR).toBe(Status.ERR); // 3 is not a power of two
    p.out8(2, 4);
    p.command(AtaCmd.SET_MULTIPLE_MODE);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);

    const before = host.raises(14);
    p.lba28(10, 10);
    p.command(AtaCmd.READ_MULTIPLE);
    const got: number[] = [];
    for (const n of [4, 4, 2]) {
      expect(p.status() & Status.DRQ).toBe(Status.DRQ);
      got.push(...p.readData(n * 512));
    }
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    expect(host.raises(14) - before).toBe(3);
    const expected: number[] = [];
    for (let s = 10; s < 20; s++) expected.push(...patternSector(s));
    expect(new Uint8Array(got)).toEqual(new Uint8Array(expected));

    const w = new Uint8Array(6 * 512).map((_, i) => (i * 13) & 0xff);
    p.lba48(300, 6);
    p.command(AtaCmd.WRITE_MULTIPLE_EXT);
    p.writeData(w.subarray(0, 2048));
    expect(p.status() & Status.DRQ).toBe(Status.DRQ);
    p.writeData(w.subarray(2048));
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    p.command(AtaCmd.FLUSH_CACHE_EXT);
    expect(readFileSectors(imagePath, 300, 6)).toEqual(w);
  });

  it('IDNF for an LBA beyond capacity, and no data is transferred', () => {
    p.lba28(SECTORS - 1, 2);
    p.command(AtaCmd.READ_SECTORS);
    expect(host.level(14)).toBe(true);
    expect(p.status()).toBe(Status.DRDY | Status.DSC | Status.ERR);
    expect(p.error()).toBe(ErrorBit.IDNF);
    p.lba48(2 ** 40, 1);
    p.command(AtaCmd.WRITE_SECTORS_EXT);
    expect(p.status() & (Status.ERR | Status.DRQ)).toBe(Status.ERR);
    expect(p.error()).toBe(ErrorBit.IDNF);
    p.lba28(SECTORS, 1);
    p.command(AtaCmd.READ_VERIFY_SECTORS);
    expect(p.error()).toBe(ErrorBit.IDNF);
  });

  it('unknown commands abort cleanly with ABRT', () => {
    for (const cmd of [0x00, 0x55, 0xa0, 0xa1, 0xff]) {
      p.command(cmd);
      expect(p.status()).toBe(Status.DRDY | Status.DSC | Status.ERR);
      expect(p.error()).toBe(ErrorBit.ABRT);
    }
    // the drive still works afterwards
    p.lba28(1, 1);
    p.command(AtaCmd.READ_SECTORS);
    expect(p.readData(512)).toEqual(patternSector(1));
  });

  it('SRST leaves the signature, no interrupt, and works for ATAPI too', () => {
    p.lba28(77, 5);
    p.devctl(0x04);
    expect(p.altStatus() & Status.BSY).toBe(Status.BSY);
    expect(p.in8(4)).toBe(Status.BSY); // registers read as Status while BSY
    p.command(AtaCmd.IDENTIFY_DEVICE); // ignored while in reset
    expect(host.level(14)).toBe(false);
    p.devctl(0x00);
    expect(p.altStatus()).toBe(Status.DRDY | Status.DSC);
    expect([p.in8(2), p.in8(3), p.in8(4), p.in8(5), p.in8(6) & 0x10]).toEqual([1, 1, 0, 0, 0]);
    expect(p.error()).toBe(0x01);
    expect(host.level(14)).toBe(false);
  });

  it('nIEN keeps INTRQ low; the pending interrupt shows once nIEN clears', () => {
    p.devctl(0x02);
    p.lba28(3, 1);
    p.command(AtaCmd.READ_SECTORS);
    expect(host.level(14)).toBe(false);
    expect(host.raises(14)).toBe(0);
    p.devctl(0x00);
    expect(host.level(14)).toBe(true);
    p.status();
    expect(host.level(14)).toBe(false);
    expect(p.readData(512)).toEqual(patternSector(3));
  });

  it('EXECUTE DEVICE DIAGNOSTIC sets the diagnostic code and interrupts', () => {
    p.command(AtaCmd.EXECUTE_DEVICE_DIAGNOSTIC);
    expect(host.level(14)).toBe(true);
    expect(p.error()).toBe(0x01);
    expect([p.in8(2), p.in8(3), p.in8(4), p.in8(5)]).toEqual([1, 1, 0, 0]);
  });

  it('an absent slave reads status 00h while the master shadows the other registers', () => {
    p.select(1);
    expect(p.status()).toBe(0);
    p.command(AtaCmd.IDENTIFY_DEVICE); // ignored: no device 1
    expect(host.level(14)).toBe(false);
    p.out8(3, 0x5a);
    expect(p.in8(3)).toBe(0x5a);
    p.select(0);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
  });

  it('SET FEATURES, power commands, INITIALIZE DEVICE PARAMETERS, SEEK, RECALIBRATE', () => {
    p.out8(1, 0x03);
    p.out8(2, 0x42); // UDMA 2
    p.command(AtaCmd.SET_FEATURES);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    p.out8(1, 0x03);
    p.out8(2, 0x47); // UDMA 7: not supported
    p.command(AtaCmd.SET_FEATURES);
    expect(p.error()).toBe(ErrorBit.ABRT);
    p.out8(1, 0x99);
    p.command(AtaCmd.SET_FEATURES);
    expect(p.error()).toBe(ErrorBit.ABRT);

    p.command(AtaCmd.STANDBY_IMMEDIATE);
    p.command(AtaCmd.CHECK_POWER_MODE);
    expect(p.in8(2)).toBe(0x00);
    p.command(AtaCmd.IDLE_IMMEDIATE);
    p.command(AtaCmd.CHECK_POWER_MODE);
    expect(p.in8(2)).toBe(0xff);

    // 8 sectors per track, 4 heads: CHS 1/0/1 becomes LBA 32
    p.out8(2, 8);
    p.out8(6, 0xa0 | 3);
    p.command(AtaCmd.INITIALIZE_DEVICE_PARAMETERS);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    p.chs(1, 0, 1, 1);
    p.command(AtaCmd.READ_SECTORS);
    expect(p.readData(512)).toEqual(patternSector(32));

    p.chs(5, 1, 1, 1);
    p.command(0x70);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    p.command(0x10);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    expect(p.in8(4)).toBe(0);
  });

  it('bad widths and unknown ports are counted no-ops', () => {
    expect(ide.ioRead(0x1f7, 2, 0)).toBe(0xffff);
    expect(ide.ioRead(0x1f0, 1, 0)).toBe(0xff);
    ide.ioWrite(0x1f7, 4, 0xec, 0);
    expect(host.level(14)).toBe(false);
    expect(ide.counters.badWidth).toBe(3);
    expect(ide.ioRead(0x1234, 1, 0)).toBe(0xff);
    expect(ide.counters.unknownPort).toBe(1);
    expect(ide.ioRead(0x3f6, 4, 0)).toBe(0xffffffff);
  });

  it('a read-only image aborts writes and keeps the file', () => {
    ide.close();
    const ro = new RawImage(path.join(dir, 'disk.img'), { readOnly: true });
    ide = new AtaController(host, { drives: [{ kind: 'disk', image: ro }, null, null, null] });
    p = new Ports(ide);
    p.lba28(0, 1);
    p.command(AtaCmd.WRITE_SECTORS);
    expect(p.status() & (Status.ERR | Status.DRQ)).toBe(Status.ERR);
    expect(p.error()).toBe(ErrorBit.ABRT);
    expect(readFileSectors(imagePath, 0, 1)).toEqual(patternSector(0));
  });

  it('32-bit data port accesses work', () => {
    p.lba28(9, 1);
    p.command(AtaCmd.READ_SECTORS);
    const got = ide.ioReadString!(0x1f0, 4, 128, 0);
    expect(got).toEqual(patternSector(9));
  });
});
