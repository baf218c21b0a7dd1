/**
 * The PIT's counter forecast (proto CounterForecast): the timer model offers it after a read
 * of a counter that runs down linearly, and the vCPU's LocalForecast must answer the next
 * reads exactly as the model would have, at any guest times; offers stop where reads stop
 * being linear.
 */
import { describe, expect, it } from 'vitest';
import { LocalForecast, ticksAt, type DeviceHost } from '@quasivm/device-sdk';
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
