import { describe, expect, it } from 'vitest';
import { AtaCmd, Status } from '../src/ata-registers.js';
import { memoryDiskRig, patternSectors } from './helpers.js';

/**
 * accessAhead: the PIO data phase a vCPU may answer locally (proto ReadAhead/WriteAhead).
 * An offer must not change the model, must say exactly what the reads will return, and
 * replaying the reads afterwards must leave the model where the reads themselves would have.
 */
const rig = (sectors = 64) => memoryDiskRig(sectors);

describe('PIO data phases offered ahead', () => {
  it('READ SECTORS: the whole command is offered after the first status read, and nothing changes by offering', () => {
    const { ide, p } = rig();
    p.lba28(5, 8);
    p.command(AtaCmd.READ_SECTORS);
    expect(p.status() & Status.DRQ).toBe(Status.DRQ);
    const before = JSON.stringify(ide.saveState());
    const a = ide.accessAhead(0x1f7, 1 << 20)!;
    expect(JSON.stringify(ide.saveState())).toBe(before);
    expect(a.kind).toBe('read');
    if (a.kind !== 'read') return;
    expect({ data: a.dataPort, status: a.statusPort, alt: a.altStatusPort }).toEqual({ data: 0x1f0, status: 0x1f7, alt: 0x3f6 });
    expect(a.statusDuring).toBe(Status.DRDY | Status.DSC | Status.DRQ);
    expect(a.statusAfter).toBe(Status.DRDY | Status.DSC);
    expect(a.complete).toBe(true);
    expect(a.data).toEqual(patternSectors(5, 8));
  });

  it('replaying the offered reads leaves the model exactly where a controller that did them is', () => {
    const a = rig();
    const b = rig();
    for (const { p } of [a, b]) {
      p.lba28(3, 6);
      p.command(AtaCmd.READ_SECTORS);
      p.status();
    }
    const offer = a.ide.accessAhead(0x1f7, 1 << 20)!;
    if (offer.kind !== 'read') throw new Error('expected a read offer');
    // b does the reads; a gets them replayed as Consumed would (data runs and status reads in order).
    const got = new Uint8Array(6 * 512);
    for (let s = 0; s < 6; s++) {
      expect(b.p.status()).toBe(offer.statusDuring);
      got.set(b.p.readData(512), s * 512);
      a.ide.ioRead(0x1f7, 1, 0);
      a.ide.ioReadString(0x1f0, 2, 256, 0);
    }
    expect(b.p.status()).toBe(offer.statusAfter);
    a.ide.ioRead(0x1f7, 1, 0);
    expect(got).toEqual(offer.data);
    expect(a.ide.saveState()).toEqual(b.ide.saveState());
    expect(a.host.irqLog).toEqual(b.host.irqLog);
  });

  it('READ MULTIPLE: only whole blocks are offered past the current one, and a cut offer is not complete', () => {
    const { ide, p } = rig();
    p.out8(2, 4);
    p.command(AtaCmd.SET_MULTIPLE_MODE);
    p.lba28(0, 16);
    p.command(AtaCmd.READ_MULTIPLE);
    p.status();
    const a = ide.accessAhead(0x3f6, 3 * 2048 + 100)!;
    if (a.kind !== 'read') throw new Error('expected a read offer');
    expect(a.data.length).toBe(3 * 2048);
    expect(a.complete).toBe(false);
    expect(a.data).toEqual(patternSectors(0, 12));
  });

  it('WRITE SECTORS: the data-out phase says how many bytes the command still takes', () => {
    const { ide, p, disk } = rig();
    p.lba28(10, 4);
    p.command(AtaCmd.WRITE_SECTORS);
    p.status();
    const a = ide.accessAhead(0x1f7, 1 << 20)!;
    expect(a).toMatchObject({ kind: 'write', length: 4 * 512, statusDuring: Status.DRDY | Status.DSC | Status.DRQ });
    p.writeData(new Uint8Array(512).fill(0xab));
    expect(ide.accessAhead(0x1f7, 1 << 20)).toMatchObject({ kind: 'write', length: 3 * 512 });
    p.writeData(new Uint8Array(3 * 512).fill(0xcd));
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    expect(disk.bytes[10 * 512]).toBe(0xab);
    expect(disk.bytes[13 * 512 + 511]).toBe(0xcd);
  });

  it('an idle drive offers its Status as it stays until the next command; nothing for DMA commands or on the bus-master ports', () => {
    const { ide, p } = rig();
    const idle = ide.accessAhead(0x1f7, 1 << 20)!;
    expect(idle).toMatchObject({ kind: 'read', statusDuring: Status.DRDY | Status.DSC, statusAfter: Status.DRDY | Status.DSC, complete: true });
    if (idle.kind === 'read') expect(idle.data.length).toBe(0);
    p.devctl(0x04); // SRST: no offer while the channel is in reset
    expect(ide.accessAhead(0x1f7, 1 << 20)).toBeNull();
    p.devctl(0x00);
    p.lba28(0, 1);
    p.command(AtaCmd.READ_DMA);
    expect(ide.accessAhead(0x1f7, 1 << 20)).toBeNull();
    expect(ide.accessAhead(0x1f3, 1 << 20)).toBeNull();
    expect(ide.accessAhead(0xc000, 1 << 20)).toBeNull();
  });
});
