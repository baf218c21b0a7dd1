import { describe, expect, it } from 'vitest';
import { checkSaveRestore, DeviceStateError } from '@quasivm/device-sdk';
import { RecordingHost } from './test-host.js';
import { I8042, set1ToSet2 } from './i8042.js';

function setup() {
  const host = new RecordingHost();
  const a20: boolean[] = [];
  const leds: number[] = [];
  let resets = 0;
  const kbc = new I8042(host, { onA20Change: (e) => a20.push(e), onReset: () => resets++, onLeds: (l) => leds.push(l) });
  const cmd = (v: number) => kbc.ioWrite(0x64, 1, v, 0);
  const data = (v: number) => kbc.ioWrite(0x60, 1, v, 0);
  const status = () => kbc.ioRead(0x64, 1, 0);
  /** Read every byte waiting, as a polling BIOS does. */
  const drain = () => {
    const out: number[] = [];
    while (status() & 1) out.push(kbc.ioRead(0x60, 1, 0));
    return out;
  };
  return { host, kbc, cmd, data, status, drain, a20, leds, resets: () => resets };
}

describe('I8042', () => {
  it('starts empty with the keyboard not inhibited', () => {
    const { status, drain } = setup();
    expect(status()).toBe(0x10);
    expect(drain()).toEqual([]);
  });

  it('0xAA self test answers 0x55 and sets the system flag; 0xAB and 0xA9 answer 0', () => {
    const { cmd, status, drain } = setup();
    cmd(0xaa);
    expect(status() & 0x0d).toBe(0x0d); // OBF, SYS, command written last
    expect(drain()).toEqual([0x55]);
    cmd(0xab);
    cmd(0xa9);
    expect(drain()).toEqual([0x00, 0x00]);
  });

  it('0x20/0x60 read and write the command byte; 0xAD/0xAE and 0xA7/0xA8 flip its disable bits', () => {
    const { kbc, cmd, data, drain } = setup();
    cmd(0x60);
    data(0x47);
    cmd(0x20);
    expect(drain()).toEqual([0x47]);
    cmd(0xad);
    cmd(0xa7);
    expect(kbc.commandByte).toBe(0x47 | 0x10 | 0x20);
    cmd(0xae);
    cmd(0xa8);
    expect(kbc.commandByte).toBe(0x47);
  });

  it('keyboard reset, identify, echo and unknown command replies', () => {
    const { data, drain } = setup();
    data(0xff);
    expect(drain()).toEqual([0xfa, 0xaa]);
    data(0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x83]);
    data(0xee);
    expect(drain()).toEqual([0xee]);
    data(0x12);
    expect(drain()).toEqual([0xfe]);
  });

  it('with translation the identify reply reads FA AB 41', () => {
    const { cmd, data, drain } = setup();
    cmd(0x60);
    data(0x40);
    data(0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x41]);
  });

  it('LEDs, typematic and scan code set commands take a parameter byte', () => {
    const { kbc, data, drain, leds } = setup();
    data(0xed);
    data(0x05);
    expect(drain()).toEqual([0xfa, 0xfa]);
    expect(leds).toEqual([5]);
    data(0xf3);
    data(0x20);
    expect(drain()).toEqual([0xfa, 0xfa]);
    expect(kbc.keyboard.typematic).toBe(0x20);
    data(0xf0);
    data(0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0x02]);
    data(0xf0);
    data(0x01);
    data(0xf0);
    data(0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0xfa, 0xfa, 0x01]);
  });

  it('scancodes: raw without translation, set 1 with it; F5 stops scanning, F4 restarts', () => {
    const { kbc, cmd, data, drain } = setup();
    kbc.pressKeys([0x1c, 0xf0, 0x1c]); // 'a' make and break in set 2
    expect(drain()).toEqual([0x1c, 0xf0, 0x1c]);
    cmd(0x60);
    data(0x40);
    kbc.pressKeys([0x1c, 0xf0, 0x1c, 0xe0, 0x75, 0xe0, 0xf0, 0x75]); // a, up arrow
    expect(drain()).toEqual([0x1e, 0x9e, 0xe0, 0x48, 0xe0, 0xc8]);
    data(0xf5);
    drain();
    kbc.pressKeys([0x1c]);
    expect(drain()).toEqual([]);
    data(0xf4);
    drain();
    kbc.pressKeys([0x1c]);
    expect(drain()).toEqual([0x1e]);
  });

  it('set1ToSet2 converts makes, breaks and extended keys', () => {
    expect(set1ToSet2([0x1e, 0x9e, 0xe0, 0x48, 0xe0, 0xc8])).toEqual([0x1c, 0xf0, 0x1c, 0xe0, 0x75, 0xe0, 0xf0, 0x75]);
  });

  it('a disabled keyboard interface holds keys until enabled', () => {
    const { kbc, cmd, drain } = setup();
    cmd(0xad);
    kbc.pressKeys([0x29]);
    expect(drain()).toEqual([]);
    cmd(0xae);
    expect(drain()).toEqual([0x29]);
  });

  it('IRQ1 follows keyboard data in the output buffer when enabled, one edge per byte', () => {
    const { host, kbc, cmd, data } = setup();
    kbc.pressKeys([0x1c]);
    expect(host.level(1)).toBe(false); // CTR interrupt bit off
    kbc.ioRead(0x60, 1, 0);
    cmd(0x60);
    data(0x01);
    kbc.pressKeys([0x1c, 0x32]);
    expect(host.level(1)).toBe(true);
    expect(kbc.ioRead(0x60, 1, 0)).toBe(0x1c);
    expect(kbc.ioRead(0x60, 1, 0)).toBe(0x32);
    expect(host.level(1)).toBe(false);
    expect(host.risingEdges(1)).toBe(2);
    expect(kbc.ioRead(0x60, 1, 0)).toBe(0x32); // empty buffer reads the last byte again
  });

  it('0xD2 and 0xD3 put bytes in the buffer as keyboard or mouse data, with IRQ1/IRQ12', () => {
    const { host, kbc, cmd, data, status } = setup();
    cmd(0x60);
    data(0x03);
    cmd(0xd2);
    data(0x42);
    expect(host.level(1)).toBe(true);
    expect(kbc.ioRead(0x60, 1, 0)).toBe(0x42);
    cmd(0xd3);
    data(0x43);
    expect(status() & 0x21).toBe(0x21);
    expect(host.level(12)).toBe(true);
    expect(kbc.ioRead(0x60, 1, 0)).toBe(0x43);
    expect(host.level(12)).toBe(false);
  });

  it('0xD4 talks to the mouse: reset, ID, reporting and a movement packet', () => {
    const { kbc, cmd, data, drain, status } = setup();
    cmd(0xd4);
    data(0xff);
    expect(status() & 0x20).toBe(0x20);
    expect(drain()).toEqual([0xfa, 0xaa, 0x00]);
    cmd(0xd4);
    data(0xf2);
    expect(drain()).toEqual([0xfa, 0x00]);
    kbc.moveMouse(1, 1, 0);
    expect(drain()).toEqual([]); // reporting off after reset
    cmd(0xd4);
    data(0xf4);
    drain();
    kbc.moveMouse(5, -3, 1);
    expect(drain()).toEqual([0x29, 5, 0xfd]);
  });

  it('0xD0/0xD1 read and write the output port: A20 bit 1 and reset bit 0 go to callbacks', () => {
    const { cmd, data, drain, a20, resets, kbc } = setup();
    cmd(0xd0);
    expect(drain()).toEqual([0x03]);
    cmd(0xd1);
    data(0x01);
    expect(a20).toEqual([false]);
    expect(kbc.a20Enabled).toBe(false);
    cmd(0xd1);
    data(0x03);
    expect(a20).toEqual([false, true]);
    expect(resets()).toBe(0);
    cmd(0xd1);
    data(0x02);
    expect(resets()).toBe(1);
  });

  it('0xFE pulses reset; 0xFF pulses nothing; unknown commands are counted', () => {
    const { kbc, cmd, resets } = setup();
    cmd(0xff);
    expect(resets()).toBe(0);
    cmd(0xfe);
    expect(resets()).toBe(1);
    cmd(0xc8);
    expect(kbc.counters.unknownRegister).toBe(1);
  });

  it('bad widths and foreign ports are counted no-ops', () => {
    const { kbc } = setup();
    expect(kbc.ioRead(0x64, 2, 0)).toBe(0xffff);
    kbc.ioWrite(0x61, 1, 0, 0);
    expect(kbc.counters).toMatchObject({ badWidth: 1, unknownRegister: 1 });
  });

  it('save/restore contract', () => {
    const { kbc, cmd, data } = setup();
    cmd(0x60);
    data(0x41);
    kbc.pressKeys([0x1c, 0xf0]);
    expect(checkSaveRestore(kbc, (m) => {
      (m as I8042).pressKeys([0x1c]);
      m.ioWrite(0x64, 1, 0xd4, 0);
      m.ioWrite(0x60, 1, 0xf3, 0);
    })).toBeNull();
  });

  it('a restored controller continues a translated break sequence', () => {
    const a = setup();
    a.cmd(0x60);
    a.data(0x40);
    a.kbc.pressKeys([0x1c, 0xf0, 0x1c]);
    expect(a.kbc.ioRead(0x60, 1, 0)).toBe(0x1e);
    const b = setup();
    b.kbc.loadState(JSON.parse(JSON.stringify(a.kbc.saveState())));
    expect(b.drain()).toEqual([0x9e]);
  });

  it('rejects malformed state and stays unchanged', () => {
    const { kbc, cmd, drain } = setup();
    cmd(0x60);
    kbc.ioWrite(0x60, 1, 0x45, 0);
    const good = kbc.saveState() as any;
    expect(() => kbc.loadState({ ...good, ram: [1, 2] })).toThrow(DeviceStateError);
    expect(() => kbc.loadState({ ...good, pendingCommand: 0xaa })).toThrow(DeviceStateError);
    expect(() => kbc.loadState({ ...good, keyboard: { ...good.keyboard, scancodeSet: 9 } })).toThrow(DeviceStateError);
    expect(() => kbc.loadState({ ...good, mouse: null })).toThrow(DeviceStateError);
    cmd(0x20);
    expect(drain()).toEqual([0x45]);
  });
});
