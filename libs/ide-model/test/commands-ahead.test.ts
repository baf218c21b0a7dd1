import { describe, expect, it } from 'vitest';
import { AtaCmd, Status } from '../src/ata-registers.js';
import { memoryDiskRig, patternSectors } from './helpers.js';

/**
 * Commands predicted after a sequential PIO command (proto CommandAhead): what the guest will
 * see if it issues them must be exactly what issuing them then gives; offering changes nothing;
 * and reads applied as Consumed (their values already answered) leave the drive where reading
 * them would.
 */
const rig = (sectors = 256) => memoryDiskRig(sectors);

describe('commands predicted after a sequential PIO command', () => {
  it('READ SECTORS: the next commands go on where it ends, with the registers a driver writes and the sectors it will read, up to the limit and the disk\'s end', () => {
    const { ide, p } = rig(100);
    p.lba28(40, 16);
    p.command(AtaCmd.READ_SECTORS);
    p.status();
    const before = JSON.stringify(ide.saveState());
    const a = ide.accessAhead(0x1f7, 16 * 512 * 3)!;
    expect(JSON.stringify(ide.saveState())).toBe(before); // offering changes nothing
    expect(a.next?.map((c) => [c.command, c.registers])).toEqual([
      [AtaCmd.READ_SECTORS, [16, 56, 0, 0, 0xe0]],
      [AtaCmd.READ_SECTORS, [16, 72, 0, 0, 0xe0]],
    ]); // the limit: the command's 16 sectors and two more commands
    // What issuing the first predicted command gives is what it said.
    p.readData(16 * 512);
    const next = a.next![0];
    p.lba28(56, 16);
    p.command(next.command);
    expect(p.status()).toBe(next.phase.statusDuring);
    if (next.phase.kind !== 'read') throw new Error('a read predicts reads');
    expect(next.phase.data).toEqual(patternSectors(56, 16));
    expect(p.readData(16 * 512)).toEqual(next.phase.data);
    expect(p.status()).toBe(next.phase.statusAfter);
    // Near the end of the disk: only what fits.
    p.lba28(60, 16);
    p.command(AtaCmd.READ_SECTORS);
    p.status();
    expect(ide.accessAhead(0x1f7, 1 << 20)!.next?.map((c) => c.registers[1])).toEqual([76]);
  });

  it('WRITE MULTIPLE: the next commands take their data and complete when it is in (write cache on); with the cache off, none', () => {
    const { ide, p } = rig();
    p.out8(2, 8);
    p.command(AtaCmd.SET_MULTIPLE_MODE);
    p.lba28(0x10, 32);
    p.command(AtaCmd.WRITE_MULTIPLE);
    p.status();
    const a = ide.accessAhead(0x1f7, 32 * 512 * 2)!;
    expect(a.next).toHaveLength(1);
    expect(a.next![0]).toMatchObject({ command: AtaCmd.WRITE_MULTIPLE, registers: [32, 0x30, 0, 0, 0xe0], phase: { kind: 'write', length: 32 * 512, statusAfter: Status.DRDY | Status.DSC } });
    p.writeData(new Uint8Array(32 * 512));
    p.out8(1, 0x82); // SET FEATURES: write cache off
    p.command(AtaCmd.SET_FEATURES);
    p.lba28(0x30, 32);
    p.command(AtaCmd.WRITE_MULTIPLE);
    p.status();
    expect(ide.accessAhead(0x1f7, 1 << 20)!.next).toBeUndefined();
  });

  it('after READ SECTORS completed, the idle drive\'s Status read (between selecting it and the next command, as SeaBIOS does) predicts again; not after an error, nor for the other drive', () => {
    const { ide, p } = rig(100);
    p.lba28(40, 16);
    p.command(AtaCmd.READ_SECTORS);
    p.status();
    p.readData(16 * 512);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    p.select(0);
    const before = JSON.stringify(ide.saveState());
    const a = ide.accessAhead(0x1f7, 16 * 512 * 2)!;
    expect(JSON.stringify(ide.saveState())).toBe(before); // offering changes nothing
    expect(a).toMatchObject({ kind: 'read', statusDuring: Status.DRDY | Status.DSC, complete: true });
    expect(a.next?.map((c) => [c.command, c.registers])).toEqual([
      [AtaCmd.READ_SECTORS, [16, 56, 0, 0, 0xe0]],
      [AtaCmd.READ_SECTORS, [16, 72, 0, 0, 0xe0]],
    ]);
    // Issuing the first gives what it said.
    const next = a.next![0];
    p.lba28(56, 16);
    p.command(next.command);
    expect(p.status()).toBe(next.phase.statusDuring);
    if (next.phase.kind !== 'read') throw new Error('a read predicts reads');
    expect(p.readData(16 * 512)).toEqual(patternSectors(56, 16));
    expect(p.readData(0).length).toBe(0);
    // The other drive selected (none attached here): no prediction from the first one's run.
    p.select(1);
    expect(ide.accessAhead(0x1f7, 1 << 20)?.next).toBeUndefined();
    // A command that failed (LBA past the disk's end): none.
    p.select(0);
    p.lba28(200, 4);
    p.command(AtaCmd.READ_SECTORS);
    expect(p.status() & Status.ERR).toBe(Status.ERR);
    expect(ide.accessAhead(0x1f7, 1 << 20)?.next).toBeUndefined();
  });

  it('the Device register an offer says reads once its phase is over is what it reads then: a running read, the idle drive, predicted reads and writes', () => {
    const { ide, p } = rig(100);
    // LBA mode with the obsolete bits 7 and 5 clear: the register keeps what the driver wrote.
    const lba28 = (lba: number, count: number) => {
      p.lba28(lba, count);
      p.out8(6, 0x40 | ((lba >>> 24) & 0x0f));
    };
    lba28(40, 8);
    p.command(AtaCmd.READ_SECTORS);
    p.status();
    const running = ide.accessAhead(0x1f7, 1 << 20)!;
    expect(running).toMatchObject({ kind: 'read', complete: true, deviceAfter: 0x40 });
    p.readData(8 * 512);
    expect(p.status()).toBe(Status.DRDY | Status.DSC);
    expect(p.in8(6)).toBe(running.deviceAfter);
    const idle = ide.accessAhead(0x1f7, 8 * 512 * 2)!;
    expect(idle.deviceAfter).toBe(p.in8(6));
    expect(idle.deviceAfter).toBe(0x40);
    for (const c of idle.next!) {
      expect(c.phase.deviceAfter).toBe(0x40);
      lba28(c.registers[1], 8);
      p.command(c.command);
      p.status();
      p.readData(8 * 512);
      expect(p.status()).toBe(c.phase.statusAfter);
      expect(p.in8(6)).toBe(c.phase.deviceAfter);
    }
    lba28(0x20, 4);
    p.command(AtaCmd.WRITE_SECTORS);
    p.status();
    const write = ide.accessAhead(0x1f7, 4 * 512 * 2)!;
    const next = write.next![0];
    if (next.phase.kind !== 'write') throw new Error('a write predicts writes');
    p.writeData(new Uint8Array(4 * 512));
    p.status();
    lba28(next.registers[1], 4);
    p.command(next.command);
    p.status();
    p.writeData(new Uint8Array(4 * 512));
    expect(p.status()).toBe(next.phase.statusAfter);
    expect(p.in8(6)).toBe(next.phase.deviceAfter);
  });

  it('no prediction for CHS or LBA48 commands, DMA, or a data phase not offered to its end', () => {
    const { ide, p } = rig();
    p.chs(0, 0, 1, 4);
    p.command(AtaCmd.READ_SECTORS);
    p.status();
    expect(ide.accessAhead(0x1f7, 1 << 20)!.next).toBeUndefined();
    p.lba48(8, 4);
    p.command(AtaCmd.READ_SECTORS_EXT);
    p.status();
    expect(ide.accessAhead(0x1f7, 1 << 20)!.next).toBeUndefined();
    p.lba28(8, 16);
    p.command(AtaCmd.READ_SECTORS);
    p.status();
    expect(ide.accessAhead(0x1f7, 4 * 512)!.next).toBeUndefined(); // cut short: the command's end is not offered
  });

  it('reads applied as Consumed (values already answered) leave the drive exactly where reading them would', () => {
    const a = rig();
    const b = rig();
    for (const { p } of [a, b]) {
      p.out8(2, 4);
      p.command(AtaCmd.SET_MULTIPLE_MODE);
      p.lba28(3, 10);
      p.command(AtaCmd.READ_MULTIPLE);
      p.status();
    }
    a.ide.ioReadString(0x1f0, 2, 5 * 256, 0);
    b.ide.consumeReadString(0x1f0, 2, 5 * 256, 0);
    expect(b.p.status()).toBe(a.p.status());
    a.ide.ioReadString(0x1f0, 2, 6 * 256, 0); // one sector past the end
    b.ide.consumeReadString(0x1f0, 2, 6 * 256, 0);
    expect(JSON.stringify(b.ide.saveState())).toBe(JSON.stringify(a.ide.saveState()));
    expect(b.host.level(14)).toBe(a.host.level(14));
  });
});
