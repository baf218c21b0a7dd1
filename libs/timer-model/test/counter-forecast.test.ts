/**
 * The PIT's counter forecast (proto CounterForecast): the timer model offers it after a read
 * of a counter that runs down linearly, and the vCPU's LocalForecast must answer the next
 * reads exactly as the model would have, at any guest times; offers stop where reads stop
 * being linear.
 */
import { describe, expect, it } from 'vitest';
import { LocalForecast, LocalStatusForecast, ticksAt, type DeviceHost } from '@quasivm/device-sdk';
import { TimerDevice } from '../src/timer-device.js';

const host: DeviceHost = {
  setIrq: () => {},
  setIrqDeadline: () => {},
  readMemory: async (_a: number, n: number) => new Uint8Array(n),
  writeMemory: async () => {},
  emitEvent: () => {},
};

/** Linux's quick_pit_calibrate set-up: gate on (port B bit 0), counter 2 mode 0, LSB then MSB, 0xFFFF. */
function calibrating(t: number): TimerDevice {
  const d = new TimerDevice(host);
  d.ioWrite(0x61, 1, 0x01, t);
  d.ioWrite(0x43, 1, 0xb0, t);
  d.ioWrite(0x42, 1, 0xff, t);
  d.ioWrite(0x42, 1, 0xff, t);
  return d;
}

describe('counter forecast', () => {
  it('ticksAt is floor(t * num / den) for times past 2^53 / num', () => {
    for (const t of [0, 837, 838, 88_000, 88_001, 123_456_789_012, 2 ** 52 + 12_345]) {
      expect(ticksAt(t, 105, 88_000)).toBe(Number((BigInt(t) * 105n) / 88_000n));
    }
  });

  it("answers quick_pit_calibrate's reads of counter 2 as the timer model does, over the count's wrap", () => {
    let t = 1_000;
    const model = calibrating(t);
    t += 5_000;
    model.ioRead(0x42, 1, t); // LSB; the reply carries the forecast
    const forecast = LocalForecast.from(model.counterForecast(0x42));
    expect(forecast).not.toBeNull();
    let seed = 12345;
    // Past 65536 pulses (~55 ms) so the count wraps; steps of 10 ns to ~6 us, as a polling loop.
    while (t < 70_000_000) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      t += 10 + (seed % 6000);
      expect(forecast!.read(t), `at ${t} ns`).toBe(model.ioRead(0x42, 1, t)); // the device applies the Consumed read
    }
  });

  it('is offered only while reads are linear: not in mode 2, not with a latched count, not with the gate low', () => {
    const t = 10_000;
    const rate = new TimerDevice(host);
    rate.ioWrite(0x43, 1, 0x34, 0);
    rate.ioWrite(0x40, 1, 0x00, 0);
    rate.ioWrite(0x40, 1, 0x10, 0);
    rate.ioRead(0x40, 1, t);
    expect(rate.counterForecast(0x40)).toBeNull();
    const latched = calibrating(0);
    latched.ioWrite(0x43, 1, 0x80, t); // Counter Latch, counter 2
    latched.ioRead(0x42, 1, t);
    expect(latched.counterForecast(0x42)).toBeNull();
    const gated = calibrating(0);
    gated.ioWrite(0x61, 1, 0x00, t);
    gated.ioRead(0x42, 1, t);
    expect(gated.counterForecast(0x42)).toBeNull();
    expect(calibrating(0).counterForecast(0x61)).toBeNull();
  });

  it('rejects a forecast that makes no sense', () => {
    const base = { port: 0x42, tick: 0, count: 5, modulus: 0x10000, tickNum: 105, tickDen: 88_000, bytes: [0, 1] };
    expect(LocalForecast.from(base)).not.toBeNull();
    expect(LocalForecast.from({ ...base, modulus: 0 })).toBeNull();
    expect(LocalForecast.from({ ...base, tickDen: 0 })).toBeNull();
    expect(LocalForecast.from({ ...base, bytes: [] })).toBeNull();
    expect(LocalForecast.from({ ...base, bytes: [2] })).toBeNull();
  });
});

/** SeaBIOS's TSC calibration set-up: gate on, speaker off (port B), counter 2 mode 0, LSB then MSB, `count`. */
function seabiosCalibrating(t: number, count: number): TimerDevice {
  const d = new TimerDevice(host);
  d.ioWrite(0x61, 1, 0x01, t);
  d.ioWrite(0x43, 1, 0xb0, t);
  d.ioWrite(0x42, 1, count & 0xff, t);
  d.ioWrite(0x42, 1, count >>> 8, t);
  return d;
}

describe('port B status forecast', () => {
  it("answers SeaBIOS's polling of port 61h for OUT2 as the timer model does: the refresh toggle, then OUT2 rising at the terminal count", () => {
    let t = 2_000;
    const model = seabiosCalibrating(t, 0x2000); // ~6.9 ms
    t += 3_000;
    model.ioRead(0x61, 1, t); // the reply carries the forecast
    const forecast = LocalStatusForecast.from(model.statusForecast(0x61));
    expect(forecast).not.toBeNull();
    let seed = 777;
    let sawRise = false;
    let toggles = 0;
    let last = -1;
    while (t < 9_000_000) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      t += 10 + (seed % 4000);
      const v = model.ioRead(0x61, 1, t); // the device applies the Consumed read
      expect(forecast!.read(t), `at ${t} ns`).toBe(v);
      if ((v & 0x20) !== 0) sawRise = true;
      if (last >= 0 && ((v ^ last) & 0x10) !== 0) toggles++;
      last = v;
    }
    expect(sawRise, 'OUT2 rose within the run').toBe(true);
    expect(toggles, 'the refresh bit toggled').toBeGreaterThan(100);
  });

  it('keeps OUT2 high once it rose, and is not offered while counter 2 runs periodically (mode 3) or for other ports', () => {
    const high = seabiosCalibrating(0, 0x10);
    high.ioRead(0x61, 1, 1_000_000);
    const after = LocalStatusForecast.from(high.statusForecast(0x61))!;
    for (const t of [1_000_000, 5_000_000, 90_000_000]) expect(after.read(t) & 0x20).toBe(0x20);
    const square = new TimerDevice(host);
    square.ioWrite(0x61, 1, 0x03, 0);
    square.ioWrite(0x43, 1, 0xb6, 0); // counter 2, mode 3 (the speaker tone)
    square.ioWrite(0x42, 1, 0x00, 0);
    square.ioWrite(0x42, 1, 0x10, 0);
    square.ioRead(0x61, 1, 10_000);
    expect(square.statusForecast(0x61)).toBeNull();
    expect(high.statusForecast(0x42)).toBeNull();
  });
});
