import { describe, expect, it } from 'vitest';
import { AtaCmd, ErrorBit, SetFeature, Status } from '../src/ata-registers.js';
import { AtaController } from '../src/ide-controller.js';
import { RawImage } from '../src/storage/raw-image.js';
import { FakeHost, makeImage, Ports, readFileSectors, tempDir } from './helpers.js';

/**
 * The volatile write cache (ATA-6 8.37.2, on by default): a PIO write completes once its
 * data is in, so a vCPU may answer the Status after the last block itself (proto
 * WriteAhead.status_after, one round trip per command); a write the image then refuses is
 * reported by the next FLUSH CACHE with the first sector not written (ATA-6 8.14). With the
 * cache off the command itself reports it, and nothing is offered ahead.
 */
function rig() {
  const dir = tempDir();
  const path = makeImage(dir, 'cache.img', 256);
  const image = new RawImage(path, { readOnly: false });
  const host = new FakeHost();
  const ide = new AtaController(host, { drives: [{ kind: 'disk', image }, null, null, null] });
  return { path, image, ide, p: new Ports(ide) };
}

const sector = (fill: number) => new Uint8Array(512).fill(fill);

describe('PIO writes and the write cache', () => {
  it('write cache on: the data-out offer says the Status after the last block, which is what the drive then shows; FLUSH CACHE lands the data', () => {
    const { path, ide, p } = rig();
    p.lba28(20, 2);
    p.command(AtaCmd.WRITE_SECTORS);
    p.status();
    expect(ide.accessAhead(0x1f7, 1 << 20)).toMatchObject({ kind: 'write', length: 1024, statusAfter: Status.DRDY | Status.DSC });
    p.writeData(sector(0x11));
    p.writeData(sector(0x22));
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    p.command(AtaCmd.FLUSH_CACHE);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    expect(readFileSectors(path, 20, 2)).toEqual(new Uint8Array([...sector(0x11), ...sector(0x22)]));
    ide.close();
  });

  it('write cache on: a write the image refuses completes as offered, and the next FLUSH CACHE fails with its first sector in the LBA registers', () => {
    const { image, ide, p } = rig();
    p.lba28(40, 3);
    p.command(AtaCmd.WRITE_SECTORS);
    p.status();
    p.writeData(sector(1));
    p.writeData(sector(2));
    image.close(); // the image goes away under the drive: the write at the command's end fails
    p.writeData(sector(3));
    expect(p.status()).toBe(Status.DRDY | Status.DSC); // as the offer said
    p.command(AtaCmd.FLUSH_CACHE);
    expect(p.status() & Status.ERR).toBe(Status.ERR);
    expect(p.error()).toBe(ErrorBit.ABRT);
    expect([p.in8(3), p.in8(4), p.in8(5), p.in8(6) & 0x0f]).toEqual([40, 0, 0, 0]);
    ide.close();
  });

  it('write cache off: nothing after the last block is offered, and a refused write fails its own command', () => {
    const { image, ide, p } = rig();
    p.out8(1, SetFeature.DISABLE_WRITE_CACHE);
    p.command(AtaCmd.SET_FEATURES);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    p.lba28(60, 2);
    p.command(AtaCmd.WRITE_SECTORS);
    p.status();
    const offer = ide.accessAhead(0x1f7, 1 << 20)!;
    expect(offer).toMatchObject({ kind: 'write', length: 1024 });
    expect('statusAfter' in offer).toBe(false);
    p.writeData(sector(5));
    image.close();
    p.writeData(sector(6));
    expect(p.status() & Status.ERR).toBe(Status.ERR);
    expect(p.error()).toBe(ErrorBit.ABRT);
    ide.close();
  });

  it('an offer cut short by the vCPU\'s limit does not say the Status after the command', () => {
    const { ide, p } = rig();
    p.lba28(80, 4);
    p.command(AtaCmd.WRITE_SECTORS);
    p.status();
    const offer = ide.accessAhead(0x1f7, 1024)!;
    expect(offer).toMatchObject({ kind: 'write', length: 1024 });
    expect('statusAfter' in offer).toBe(false);
    ide.close();
  });
});
