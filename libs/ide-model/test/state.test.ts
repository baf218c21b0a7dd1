import { checkSaveRestore, DeviceStateError, type DeviceState } from '@quasivm/device-sdk';
import { describe, expect, it } from 'vitest';
import { AtaCmd, Status } from '../src/ata-registers.js';
import { AtaController, DEFAULT_BUS_MASTER_BASE } from '../src/ide-controller.js';
import { MemoryBlockDevice } from '../src/storage/block-device.js';
import { FakeHost, patternSector, Ports } from './helpers.js';

function disk(sectors = 256): MemoryBlockDevice {
  const b = new Uint8Array(sectors * 512);
  for (let s = 0; s < sectors; s++) b.set(patternSector(s), s * 512);
  return new MemoryBlockDevice(b);
}
function cd(): MemoryBlockDevice {
  return new MemoryBlockDevice(new Uint8Array(64 * 2048).map((_, i) => i & 0xff), true);
}

function make(host: FakeHost, d0 = disk(), d1 = cd()): AtaController {
  return new AtaController(host, { drives: [{ kind: 'disk', image: d0 }, null, { kind: 'cdrom', image: d1 }, null], busMasterBase: DEFAULT_BUS_MASTER_BASE });
}

describe('save / restore', () => {
  it('passes the shared save/restore contract', () => {
    const ide = make(new FakeHost());
    const p = new Ports(ide);
    p.lba28(5, 2);
    p.command(AtaCmd.READ_SECTORS);
    p.readData(100);
    const problem = checkSaveRestore(ide, (m) => {
      m.ioWrite(0x1f2, 1, 7, 0);
      m.ioRead(0x1f0, 2, 0);
      m.ioWrite(0x3f6, 1, 0x02, 0);
      m.ioWrite(0x177, 1, 0xa1, 0);
      m.ioWrite(DEFAULT_BUS_MASTER_BASE + 4, 4, 0x1234, 0);
    });
    expect(problem).toBeNull();
  });

  it('state is a named, versioned JSON object', () => {
    const s = make(new FakeHost()).saveState();
    expect(s.device).toBe('piix3-ide');
    expect(s.version).toBe(1);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('a transfer interrupted by a snapshot continues in another model', () => {
    const host = new FakeHost();
    const a = make(host);
    const pa = new Ports(a);
    pa.lba28(10, 3);
    pa.command(AtaCmd.READ_SECTORS);
    const first = pa.readData(700);
    const snap = JSON.parse(JSON.stringify(a.saveState())) as DeviceState;

    const host2 = new FakeHost();
    const b = make(host2);
    b.loadState(snap);
    const pb = new Ports(b);
    const rest = pb.readData(3 * 512 - 700);
    expect(new Uint8Array([...first, ...rest])).toEqual(new Uint8Array([...patternSector(10), ...patternSector(11), ...patternSector(12)]));
    expect(pb.status()).toBe(Status.DRDY | Status.DSC);
    // the restored model told its host the IRQ level it restored
    expect(host2.irqLog.length).toBeGreaterThan(0);
  });

  it('a DMA command pending at snapshot time completes after restore', async () => {
    const host = new FakeHost();
    const a = make(host);
    const pa = new Ports(a);
    pa.lba28(20, 1);
    pa.command(AtaCmd.READ_DMA);
    const snap = JSON.parse(JSON.stringify(a.saveState())) as DeviceState;
    const host2 = new FakeHost();
    const b = make(host2);
    b.loadState(snap);
    const view = new DataView(host2.memory.buffer);
    view.setUint32(0x100, 0x8000, true);
    view.setUint32(0x104, 512 | 0x80000000, true);
    b.ioWrite(DEFAULT_BUS_MASTER_BASE + 4, 4, 0x100, 0);
    b.ioWrite(DEFAULT_BUS_MASTER_BASE, 1, 0x09, 0);
    await b.whenIdle();
    expect(host2.memory.subarray(0x8000, 0x8200)).toEqual(patternSector(20));
    expect(host2.level(14)).toBe(true);
  });

  it('malformed or foreign states throw DeviceStateError and leave the model unchanged', () => {
    const ide = make(new FakeHost());
    const p = new Ports(ide);
    p.lba28(1, 2);
    p.command(AtaCmd.READ_SECTORS);
    p.readData(10);
    const good = ide.saveState();
    const before = JSON.stringify(good);
    const variants: ((s: any) => void)[] = [
      (s) => (s.device = 'pit8254'),
      (s) => (s.version = 2),
      (s) => (s.channels = [s.channels[0]]),
      (s) => (s.channels[0].devices[0].status = 300),
      (s) => (s.channels[0].devices[0].status = '0x50'),
      (s) => (s.channels[0].devices[0].bufPos = 100000),
      (s) => (s.channels[0].devices[0].buffer = '***'),
      (s) => (s.channels[0].devices[0].transfer.lba = 1e9),
      (s) => (s.channels[0].devices[0].transfer.addr = 'lba64'),
      (s) => (s.channels[0].devices[0].kind = 'atapi'),
      (s) => (s.channels[0].devices[1] = s.channels[0].devices[0]),
      (s) => (s.channels[1].devices[0].sense = null),
      (s) => (s.channels[1].busMaster.prdAddress = -1),
      (s) => (s.pciConfig = Buffer.alloc(256).toString('base64')),
      (s) => delete s.counters,
      (s) => (s.channels[0].devices[0].taskFile = 1),
      (s) => (s.channels[0].devices[0].taskFile.lbaLow = 256),
    ];
    // change the model so "unchanged" is distinguishable from "restored to good"
    p.readData(20);
    const current = JSON.stringify(ide.saveState());
    expect(current).not.toBe(before);
    for (const mutate of variants) {
      const bad = JSON.parse(before);
      mutate(bad);
      expect(() => ide.loadState(bad), mutate.toString()).toThrow(DeviceStateError);
      expect(JSON.stringify(ide.saveState())).toBe(current);
    }
    expect(() => ide.loadState(null as unknown as DeviceState)).toThrow(DeviceStateError);
    ide.loadState(JSON.parse(before));
    expect(JSON.stringify(ide.saveState())).toBe(before);
  });
});
