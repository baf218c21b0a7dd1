import { describe, expect, it } from 'vitest';
import { checkSaveRestore, DeviceStateError } from '@quasivm/device-sdk';
import { SystemControlPortA } from './system-control-port-a.js';

function setup() {
  const a20: boolean[] = [];
  let resets = 0;
  const port = new SystemControlPortA({ onA20Change: (e) => a20.push(e), onReset: () => resets++ });
  return { port, a20, resets: () => resets };
}

describe('SystemControlPortA', () => {
  it('bit 1 gates A20 and reports changes only', () => {
    const { port, a20 } = setup();
    port.ioWrite(0x92, 1, 0x02, 0);
    port.ioWrite(0x92, 1, 0x02, 0);
    expect(port.a20Enabled).toBe(true);
    expect(port.ioRead(0x92, 1, 0)).toBe(0x02);
    port.ioWrite(0x92, 1, 0x00, 0);
    expect(a20).toEqual([true, false]);
  });

  it('bit 0 asks for a reset and reads back 0', () => {
    const { port, resets, a20 } = setup();
    port.ioWrite(0x92, 1, 0x03, 0);
    expect(resets()).toBe(1);
    expect(a20).toEqual([true]);
    expect(port.ioRead(0x92, 1, 0)).toBe(0x02);
    port.ioWrite(0x92, 1, 0x03, 0);
    expect(resets()).toBe(2);
  });

  it('wrong widths are counted no-ops', () => {
    const { port, resets } = setup();
    port.ioWrite(0x92, 2, 0x03, 0);
    expect(resets()).toBe(0);
    expect(port.ioRead(0x92, 2, 0)).toBe(0xffff);
    expect(port.counters.badWidth).toBe(2);
  });

  it('save/restore contract, without replaying callbacks', () => {
    const { port, a20 } = setup();
    expect(checkSaveRestore(port, (m) => m.ioWrite(0x92, 1, 0x02, 0))).toBeNull();
    expect(a20).toEqual([true]);
    expect(port.a20Enabled).toBe(false);
    expect(() => port.loadState({ device: 'system-control-port-a', version: 1, value: 1 })).toThrow(DeviceStateError);
  });
});
