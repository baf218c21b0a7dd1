import { describe, expect, it } from 'vitest';
import { checkSaveRestore, DeviceStateError } from '@quasivm/device-sdk';
import { ResetControl, type ResetKind } from './reset-control.js';

function setup() {
  const resets: ResetKind[] = [];
  const rc = new ResetControl({ onReset: (k) => resets.push(k) });
  return { rc, resets };
}

describe('ResetControl', () => {
  it('Linux sequence 0x02 then 0x06 gives one hard reset', () => {
    const { rc, resets } = setup();
    rc.ioWrite(0xcf9, 1, 0x02, 0);
    expect(resets).toEqual([]);
    expect(rc.ioRead(0xcf9, 1, 0)).toBe(0x02);
    rc.ioWrite(0xcf9, 1, 0x06, 0);
    expect(resets).toEqual(['hard']);
  });

  it('soft and full resets', () => {
    const { rc, resets } = setup();
    rc.ioWrite(0xcf9, 1, 0x04, 0);
    rc.ioWrite(0xcf9, 1, 0x0e, 0);
    expect(resets).toEqual(['soft', 'full']);
    expect(rc.ioRead(0xcf9, 1, 0)).toBe(0x0a); // RCPU is not kept
  });

  it('dword accesses are not this register', () => {
    const { rc, resets } = setup();
    rc.ioWrite(0xcf9, 4, 0x06, 0);
    rc.ioWrite(0xcf8, 1, 0x06, 0);
    expect(resets).toEqual([]);
    expect(rc.counters).toMatchObject({ badWidth: 1, unknownRegister: 1 });
  });

  it('save/restore contract and malformed state', () => {
    const { rc } = setup();
    expect(checkSaveRestore(rc, (m) => m.ioWrite(0xcf9, 1, 0x02, 0))).toBeNull();
    expect(() => rc.loadState({ device: 'reset-control', version: 1, value: 4 })).toThrow(DeviceStateError);
    expect(() => rc.loadState({ device: 'pic', version: 1, value: 0 })).toThrow(DeviceStateError);
  });
});
