import { describe, expect, it } from 'vitest';
import { AtaCmd, Status } from '../src/ata-registers.js';
import { AtaController } from '../src/ide-controller.js';
import { MemoryBlockDevice } from '../src/storage/block-device.js';
import { FakeHost, Ports } from './helpers.js';

function filled(sectors: number, value: number): MemoryBlockDevice {
  return new MemoryBlockDevice(new Uint8Array(sectors * 512).fill(value));
}

describe('master and slave on one channel', () => {
  it('each device answers for itself; register writes reach both', () => {
    const host = new FakeHost();
    const master = filled(64, 0x11);
    const slave = filled(32, 0x22);
    const ide = new AtaController(host, { drives: [{ kind: 'disk', image: master }, { kind: 'disk', image: slave }, null, null] });
    const p = new Ports(ide);
    p.lba28(5, 1, 1);
    p.command(AtaCmd.READ_SECTORS);
    expect(p.readData(512)).toEqual(new Uint8Array(512).fill(0x22));
    p.lba28(5, 1, 0);
    p.command(AtaCmd.READ_SECTORS);
    expect(p.readData(512)).toEqual(new Uint8Array(512).fill(0x11));

    // capacity is per device: LBA 40 exists on the master only
    p.lba28(40, 1, 1);
    p.command(AtaCmd.READ_SECTORS);
    expect(p.status() & Status.ERR).toBe(Status.ERR);
    p.select(0);
    expect(p.status() & Status.ERR).toBe(0);
  });

  it('only the selected device drives INTRQ', () => {
    const host = new FakeHost();
    const ide = new AtaController(host, { drives: [{ kind: 'disk', image: filled(8, 1) }, { kind: 'disk', image: filled(8, 2) }, null, null] });
    const p = new Ports(ide);
    p.lba28(0, 1, 0);
    p.command(AtaCmd.READ_VERIFY_SECTORS);
    expect(host.level(14)).toBe(true);
    p.select(1);
    expect(host.level(14)).toBe(false); // device 1 has nothing pending
    p.select(0);
    expect(host.level(14)).toBe(true);
    p.status();
    expect(host.level(14)).toBe(false);
  });

  it('EXECUTE DEVICE DIAGNOSTIC resets both; device 0 reports for the pair and interrupts', () => {
    const host = new FakeHost();
    const ide = new AtaController(host, {
      drives: [null, null, { kind: 'disk', image: filled(8, 1) }, { kind: 'cdrom', image: null }],
    });
    const p = new Ports(ide, 0x170, 0x376);
    p.select(1); // issued with device 1 selected: both still run it
    p.command(AtaCmd.EXECUTE_DEVICE_DIAGNOSTIC);
    // the reset cleared DEV in the Device register: device 0 answers now
    expect([p.in8(1), p.in8(4), p.in8(5), p.in8(6) & 0x10]).toEqual([0x01, 0x00, 0x00, 0]);
    p.select(1);
    expect([p.in8(1), p.in8(4), p.in8(5)]).toEqual([0x01, 0x14, 0xeb]);
    p.select(0);
    expect([p.in8(1), p.in8(4), p.in8(5)]).toEqual([0x01, 0x00, 0x00]);
    expect(host.level(15)).toBe(true);
  });
});
