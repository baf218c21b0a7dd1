/** saveState()/loadState(): the shared contract, continuation after restore, and malformed blobs. */
import { checkSaveRestore, DeviceStateError, type DeviceModel, type DeviceState } from '@quasivm/device-sdk';
import { describe, expect, it } from 'vitest';
import { timeOfPulse } from '../src/clock.js';
import { TimerDevice } from '../src/timer-device.js';
import { mulberry32, seedFrom } from './prng.js';
import { RecordingHost } from './helpers.js';

/** A timer in the middle of things: counter 0 periodic, counter 1 latched, counter 2 one-shot with speaker bits. */
function busyTimer(host = new RecordingHost()): TimerDevice {
  const d = new TimerDevice(host);
  const w = (p: number, v: number, t: number) => d.ioWrite(p, 1, v, t);
  w(0x43, 0x34, 0); w(0x40, 0xa9, 0); w(0x40, 0x04, 0); // counter 0: mode 2, 1193
  w(0x43, 0x74, 10); w(0x41, 0x12, 10); w(0x41, 0x00, 10); // counter 1: mode 2, 18
  w(0x43, 0x40, 500); // latch counter 1
  d.ioRead(0x41, 1, 600); // LSB of the latch read, MSB still pending
  w(0x61, 0x03, 700);
  w(0x43, 0xb6, 800); w(0x42, 0x54, 800); // counter 2 mode 3, LSB written, MSB pending
  w(0x43, 0xe2, 900); // status of counter 0 latched
  return d;
}

describe('save/restore', () => {
  const mutations: [string, (m: DeviceModel) => void][] = [
    ['reprogram counter 0', (m) => { m.ioWrite(0x43, 1, 0x30, 5000); m.ioWrite(0x40, 1, 1, 5000); }],
    ['let time pass', (m) => { m.ioRead(0x61, 1, 50_000_000); }],
    ['read a latched byte', (m) => { m.ioRead(0x41, 1, 1000); }],
    ['finish counter 2 and toggle port B', (m) => { m.ioWrite(0x42, 1, 0x02, 2000); m.ioWrite(0x61, 1, 0, 2000); }],
    ['BCD mode 3 on counter 1', (m) => { m.ioWrite(0x43, 1, 0x77, 3000); m.ioWrite(0x41, 1, 0x99, 3000); m.ioWrite(0x41, 1, 0x99, 3000); }],
  ];
  for (const [name, mutate] of mutations) {
    it(`checkSaveRestore: ${name}`, () => {
      expect(checkSaveRestore(busyTimer(), mutate)).toBeNull();
    });
  }

  it('the state is a named, versioned object with named fields', () => {
    const s = busyTimer().saveState();
    expect(s).toMatchObject({ device: 'timer', version: 1, timeNs: 900 });
    expect(Object.keys(s.pit.counters[0])).toContain('countingElement');
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('a restored model continues exactly where the old one stopped (counts, deadlines, events)', () => {
    const seed = seedFrom('TIMER_RESTORE_SEED');
    console.log(`save-restore continuation seed: ${seed} (TIMER_RESTORE_SEED=${seed} to replay)`);
    const rand = mulberry32(seed);
    const hostA = new RecordingHost();
    const a = busyTimer(hostA);
    const hostB = new RecordingHost();
    const b = new TimerDevice(hostB);
    b.loadState(JSON.parse(JSON.stringify(a.saveState())));
    // B's host learns A's pending deadline and the tone
    expect(hostB.lastDeadline).toMatchObject({ at: hostA.lastDeadline!.at, periodNs: hostA.lastDeadline!.periodNs });
    expect(hostB.events.at(-1)).toEqual(hostA.events.at(-1));
    hostA.deadlines = [];
    hostA.events = [];
    hostB.deadlines = [];
    hostB.events = [];
    const ports = [0x40, 0x41, 0x42, 0x43, 0x61];
    let t = 1000;
    for (let i = 0; i < 20_000; i++) {
      t += Math.floor(rand() * (rand() < 0.01 ? 1e8 : 3000));
      const port = ports[Math.floor(rand() * ports.length)];
      if (rand() < 0.5) {
        expect(b.ioRead(port, 1, t)).toBe(a.ioRead(port, 1, t));
      } else {
        const v = port === 0x43 ? [0x34, 0x36, 0x30, 0x00, 0xc2, 0xe2, 0xb0, 0xb6, 0x74][Math.floor(rand() * 9)] : Math.floor(rand() * 256);
        a.ioWrite(port, 1, v, t);
        b.ioWrite(port, 1, v, t);
      }
    }
    expect(hostB.deadlines).toEqual(hostA.deadlines);
    expect(hostB.events).toEqual(hostA.events);
    expect(b.saveState()).toEqual(a.saveState());
  });

  it('restore re-announces a pending periodic deadline to a fresh host at its original instants', () => {
    const hostA = new RecordingHost();
    const a = new TimerDevice(hostA);
    a.ioWrite(0x43, 1, 0x36, timeOfPulse(3));
    a.ioWrite(0x40, 1, 0, timeOfPulse(3));
    a.ioWrite(0x40, 1, 0, timeOfPulse(3));
    a.ioRead(0x61, 1, 10_000_000_000); // 10 s later
    const hostB = new RecordingHost();
    new TimerDevice(hostB).loadState(a.saveState());
    expect(hostB.deadlines).toEqual([{ line: 0, at: timeOfPulse(3 + 1 + 65536), periodNs: (65536 * 88000) / 105, now: 0 }]);
  });

  it('restore does not re-announce a one-shot that was already due', () => {
    const a = new TimerDevice(new RecordingHost());
    a.ioWrite(0x43, 1, 0x30, 0);
    a.ioWrite(0x40, 1, 10, 0);
    a.ioWrite(0x40, 1, 0, 0);
    a.ioRead(0x61, 1, 1_000_000);
    const hostB = new RecordingHost();
    new TimerDevice(hostB).loadState(a.saveState());
    expect(hostB.deadlines).toEqual([{ line: 0, at: null, periodNs: undefined, now: 0 }]);
  });

  const corruptions: [string, (s: any) => void][] = [
    ['foreign device', (s) => { s.device = 'vga'; }],
    ['newer version', (s) => { s.version = 2; }],
    ['missing pit', (s) => { delete s.pit; }],
    ['two counters', (s) => { s.pit.counters.pop(); }],
    ['counter not an object', (s) => { s.pit.counters[1] = 7; }],
    ['mode out of range', (s) => { s.pit.counters[0].modeBits = 8; }],
    ['unknown access mode', (s) => { s.pit.counters[0].access = 'word'; }],
    ['count register too big', (s) => { s.pit.counters[2].countRegister = 0x10000; }],
    ['fractional count', (s) => { s.pit.counters[0].countingElement = 1.5; }],
    ['reload 0', (s) => { s.pit.counters[0].reloadValue = 0; }],
    ['BCD count above 9999 while running', (s) => { s.pit.counters[0].bcd = true; s.pit.counters[0].reloadValue = 12000; }],
    ['boolean as number', (s) => { s.pit.counters[1].out = 1; }],
    ['latch bytes 3', (s) => { s.pit.counters[1].outputLatch = { value: 1, bytesLeft: 3 }; }],
    ['status latch not a byte', (s) => { s.pit.counters[0].statusLatch = 300; }],
    ['pending LSB not a byte', (s) => { s.pit.counters[2].pendingLsb = -1; }],
    ['negative time', (s) => { s.timeNs = -5; }],
    ['time is NaN (null in JSON)', (s) => { s.timeNs = null; }],
    ['port B bits out of range', (s) => { s.portB.checkControl = 0x10; }],
    ['deadline period 0', (s) => { s.irq0Deadline = { atPulse: 5, periodPulses: 0 }; }],
    ['load pending without a count', (s) => { s.pit.counters[2].countWritten = false; s.pit.counters[2].loadPending = true; }],
    ['not an object at all', (s) => { Object.keys(s).forEach((k) => delete s[k]); }],
  ];
  for (const [name, corrupt] of corruptions) {
    it(`a malformed blob (${name}) throws DeviceStateError and leaves the model unchanged`, () => {
      const host = new RecordingHost();
      const d = busyTimer(host);
      const before = JSON.stringify(d.saveState());
      const blob = JSON.parse(before);
      corrupt(blob);
      const calls = host.deadlines.length;
      expect(() => d.loadState(blob as DeviceState)).toThrow(DeviceStateError);
      expect(JSON.stringify(d.saveState())).toBe(before);
      expect(host.deadlines.length).toBe(calls);
    });
  }

  it('loadState rejects non-objects', () => {
    const d = busyTimer();
    for (const bad of [null, 42, 'timer', [1, 2]]) {
      expect(() => d.loadState(bad as unknown as DeviceState)).toThrow(DeviceStateError);
    }
  });
});
