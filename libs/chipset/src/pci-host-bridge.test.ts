import { describe, expect, it } from 'vitest';
import { checkSaveRestore, DeviceStateError } from '@quasivm/device-sdk';
import { PciHostBridge } from './pci-host-bridge.js';
import { PciConfigFunction } from './pci-function.js';
import { ResetControl, type ResetKind } from './reset-control.js';

const addr = (dev: number, fn: number, reg: number, bus = 0) => (0x80000000 | (bus << 16) | (dev << 11) | (fn << 8) | reg) >>> 0;

function setup(extra: ConstructorParameters<typeof PciHostBridge>[0] = {}) {
  const pci = new PciHostBridge(extra);
  const cfgRead = (dev: number, fn: number, reg: number, size: 1 | 2 | 4 = 4, bus = 0) => {
    pci.ioWrite(0xcf8, 4, addr(dev, fn, reg & 0xfc, bus), 0);
    return pci.ioRead(0xcfc + (reg & 3), size, 0);
  };
  const cfgWrite = (dev: number, fn: number, reg: number, value: number, size: 1 | 2 | 4 = 4) => {
    pci.ioWrite(0xcf8, 4, addr(dev, fn, reg & 0xfc), 0);
    pci.ioWrite(0xcfc + (reg & 3), size, value, 0);
  };
  return { pci, cfgRead, cfgWrite };
}

class TestNic extends PciConfigFunction {
  constructor() {
    super({
      vendorId: 0x10ec, deviceId: 0x8139, classCode: 0x020000, interruptPin: 1, romSize: 0x10000,
      bars: [
        { index: 0, size: 256, kind: 'io' },
        { index: 1, size: 4096, kind: 'mem32' },
        { index: 2, size: 8 * 1024 ** 3, kind: 'mem64', prefetchable: true },
      ],
    });
  }
}

describe('PciHostBridge', () => {
  it('CONFIG_ADDRESS holds enable, bus, device, function, register; bits 1:0 read 0', () => {
    const { pci } = setup();
    pci.ioWrite(0xcf8, 4, 0x8012_3457, 0);
    expect(pci.ioRead(0xcf8, 4, 0)).toBe(0x8012_3454);
    pci.ioWrite(0xcf8, 4, 0x7f00_0000, 0);
    expect(pci.ioRead(0xcf8, 4, 0)).toBe(0);
  });

  it('i440FX at 00:00.0 and PIIX3 at 00:01.0, as SeaBIOS expects on QEMU', () => {
    const { cfgRead } = setup();
    expect(cfgRead(0, 0, 0x00)).toBe(0x1237_8086);
    expect(cfgRead(0, 0, 0x08) >>> 8).toBe(0x060000);
    expect(cfgRead(1, 0, 0x00)).toBe(0x7000_8086);
    expect(cfgRead(1, 0, 0x08) >>> 8).toBe(0x060100);
    expect(cfgRead(1, 0, 0x0e, 1)).toBe(0x80); // multi-function
    expect(cfgRead(0, 0, 0x02, 2)).toBe(0x1237);
    expect(cfgRead(0, 0, 0x01, 1)).toBe(0x80);
    // SeaBIOS qemu_detect: subsystem 1af4:1100 ("QEMU virtual machine") at 00:00.0
    expect(cfgRead(0, 0, 0x2c, 2)).toBe(0x1af4);
    expect(cfgRead(0, 0, 0x2e, 2)).toBe(0x1100);
    expect(cfgRead(1, 0, 0x2c)).toBe(0x1100_1af4);
  });

  it('absent functions, other buses and disabled cycles read all ones', () => {
    const { pci, cfgRead } = setup();
    expect(cfgRead(5, 0, 0)).toBe(0xffffffff);
    expect(cfgRead(0, 1, 0, 2)).toBe(0xffff);
    expect(cfgRead(0, 0, 0, 4, 1)).toBe(0xffffffff);
    pci.ioWrite(0xcf8, 4, 0x0000_0000, 0);
    expect(pci.ioRead(0xcfc, 4, 0)).toBe(0xffffffff);
  });

  it('BAR sizing: writing all ones reads back the size mask with the type bits', () => {
    const { pci, cfgRead, cfgWrite } = setup();
    pci.plug(3, 0, new TestNic());
    for (let i = 0; i < 4; i++) cfgWrite(3, 0, 0x10 + 4 * i, 0xffffffff);
    cfgWrite(3, 0, 0x30, 0xffffffff);
    expect(cfgRead(3, 0, 0x10)).toBe(0xffffff01);
    expect(cfgRead(3, 0, 0x14)).toBe(0xfffff000);
    expect(cfgRead(3, 0, 0x18)).toBe(0x0000000c);
    expect(cfgRead(3, 0, 0x1c)).toBe(0xfffffffe);
    expect(cfgRead(3, 0, 0x30)).toBe(0xffff0001);
    cfgWrite(3, 0, 0x14, 0xfebf1234);
    expect(cfgRead(3, 0, 0x14)).toBe(0xfebf1000);
    expect(cfgRead(3, 0, 0x3c) >>> 8 & 0xff).toBe(1); // INTA#
  });

  it('read-only identity bytes ignore writes; command bits follow the mask', () => {
    const { pci, cfgRead, cfgWrite } = setup();
    pci.plug(3, 0, new TestNic());
    cfgWrite(3, 0, 0x00, 0x12345678);
    expect(cfgRead(3, 0, 0x00)).toBe(0x8139_10ec);
    cfgWrite(3, 0, 0x04, 0xffff, 2);
    expect(cfgRead(3, 0, 0x04, 2)).toBe(0x0547);
    cfgWrite(3, 0, 0x3c, 0x0b, 1);
    expect(cfgRead(3, 0, 0x3c, 1)).toBe(0x0b);
  });

  it('refuses to plug twice in the same slot', () => {
    const { pci } = setup();
    expect(() => pci.plug(0, 0, new TestNic())).toThrow(/taken/);
  });

  it('PAM writes reach the machine and decode into regions', () => {
    const pams: number[][] = [];
    const { pci, cfgWrite } = setup({ i440fx: { onPamChange: (p) => pams.push([...p]) } });
    cfgWrite(0, 0, 0x59, 0x30, 1); // 0xF0000-0xFFFFF read+write RAM
    cfgWrite(0, 0, 0x5a, 0x1133, 2); // PAM1, PAM2 byte lanes
    expect(pams.at(-1)).toEqual([0x30, 0x33, 0x11, 0, 0, 0, 0]);
    const regions = pci.i440fx!.pamRegions();
    expect(regions[0]).toEqual({ base: 0xf0000, size: 0x10000, read: 'ram', write: 'ram' });
    expect(regions[1]).toEqual({ base: 0xc0000, size: 0x4000, read: 'ram', write: 'ram' });
    expect(regions[3]).toEqual({ base: 0xc8000, size: 0x4000, read: 'ram', write: 'rom' });
    expect(regions[5]).toEqual({ base: 0xd0000, size: 0x4000, read: 'rom', write: 'rom' });
    expect(regions).toHaveLength(13);
  });

  it('PIIX3 PIRQ routing registers report routes', () => {
    const routes: Array<[number, number | null]> = [];
    const { pci, cfgRead, cfgWrite } = setup({ piix3: { onPirqRoute: (p, irq) => routes.push([p, irq]) } });
    expect(cfgRead(1, 0, 0x60)).toBe(0x80808080);
    cfgWrite(1, 0, 0x60, 0x0b0b0a0a);
    expect(routes).toEqual([[0, 10], [1, 10], [2, 11], [3, 11]]);
    cfgWrite(1, 0, 0x63, 0x80, 1);
    expect(routes.at(-1)).toEqual([3, null]);
    expect(pci.piix3!.pirqRoute(2)).toBe(11);
    cfgWrite(1, 0, 0x60, 0x7f, 1); // reserved bits 6:4 are not kept
    expect(cfgRead(1, 0, 0x60, 1)).toBe(0x0f);
  });

  it('byte and word accesses to 0xCF8-0xCFB go to the legacy model (reset control at 0xCF9)', () => {
    const resets: ResetKind[] = [];
    const { pci } = setup({ legacy: new ResetControl({ onReset: (k) => resets.push(k) }) });
    pci.ioWrite(0xcf8, 4, 0x80000000, 0);
    pci.ioWrite(0xcf9, 1, 0x06, 0);
    expect(resets).toEqual(['hard']);
    expect(pci.ioRead(0xcf8, 4, 0)).toBe(0x80000000);
  });

  it('misaligned or crossing data accesses and bare byte CONFIG_ADDRESS are counted no-ops', () => {
    const { pci } = setup();
    pci.ioWrite(0xcf8, 4, addr(0, 0, 0), 0);
    expect(pci.ioRead(0xcfd, 2, 0)).toBe(0xffff);
    expect(pci.ioRead(0xcfe, 4, 0)).toBe(0xffffffff);
    pci.ioWrite(0xcf8, 1, 0, 0);
    expect(pci.ioRead(0xcf8, 4, 0)).toBe(0x80000000);
    expect(pci.counters.badWidth).toBe(3);
    expect(pci.ioRead(0xcfe, 2, 0)).toBe(0x1237);
  });

  it('save/restore contract covers CONFIG_ADDRESS and function config', () => {
    const { pci } = setup();
    pci.plug(3, 0, new TestNic());
    expect(checkSaveRestore(pci, (m) => {
      m.ioWrite(0xcf8, 4, addr(3, 0, 0x10), 0);
      m.ioWrite(0xcfc, 4, 0xc001, 0);
      m.ioWrite(0xcf8, 4, addr(0, 0, 0x58), 0);
      m.ioWrite(0xcfd, 1, 0x30, 0);
    })).toBeNull();
  });

  it('refuses state from another machine layout or device and stays unchanged', () => {
    const { pci, cfgRead, cfgWrite } = setup();
    cfgWrite(0, 0, 0x72, 0x0a, 1);
    const good = pci.saveState();
    const other = new PciHostBridge();
    other.plug(3, 0, new TestNic());
    expect(() => other.loadState(good)).toThrow(DeviceStateError); // 00:03.0 missing
    const withNic = other.saveState();
    expect(() => pci.loadState(withNic)).toThrow(DeviceStateError); // 00:03.0 not plugged here
    const swapped = structuredClone(good) as any;
    swapped.functions['00:00.0'] = swapped.functions['00:01.0'];
    swapped.configAddress = 0x80000800;
    expect(() => pci.loadState(swapped)).toThrow(DeviceStateError);
    expect(cfgRead(0, 0, 0x72, 1)).toBe(0x0a);
  });
});
