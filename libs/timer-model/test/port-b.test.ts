/** System control port B (0x61): speaker gate and data, refresh toggle, OUT2; the speaker event. */
import { describe, expect, it } from 'vitest';
import { PIT_CLOCK_HZ } from '../src/clock.js';
import { RecordingHost } from './helpers.js';
import { TimerDevice } from '../src/timer-device.js';

describe('port 0x61', () => {
  it('bits 0-3 read back as written; read-only bits ignore writes', () => {
    const d = new TimerDevice(new RecordingHost());
    d.ioWrite(0x61, 1, 0xff, 0);
    expect(d.ioRead(0x61, 1, 0) & 0xcf).toBe(0x0f);
    d.ioWrite(0x61, 1, 0x05, 0);
    expect(d.ioRead(0x61, 1, 0) & 0xcf).toBe(0x05);
  });

  it('refresh bit toggles about every 15 us of guest time, and only with guest time', () => {
    const d = new TimerDevice(new RecordingHost());
    let last = d.ioRead(0x61, 1, 0) & 0x10;
    expect(d.ioRead(0x61, 1, 0) & 0x10).toBe(last);
    let toggles = 0;
    let t = 0;
    const times: number[] = [];
    for (t = 0; t <= 1_000_000; t += 250) {
      const v = d.ioRead(0x61, 1, t) & 0x10;
      if (v !== last) {
        toggles++;
        times.push(t);
      }
      last = v;
    }
    // 1 ms / (18 / 1.193182 MHz) = 66.3 toggles
    expect(toggles).toBeGreaterThanOrEqual(66);
    expect(toggles).toBeLessThanOrEqual(67);
    for (let i = 1; i < times.length; i++) {
      expect(Math.abs(times[i] - times[i - 1] - 15_085)).toBeLessThanOrEqual(250);
    }
  });

  it('a BIOS-style delay loop (count refresh toggles) measures guest time', () => {
    const d = new TimerDevice(new RecordingHost());
    // wait for 66 toggles = 1 ms, polling every 100 ns of guest time
    let t = 5_000_000;
    let last = d.ioRead(0x61, 1, t) & 0x10;
    const start = t;
    for (let n = 0; n < 66; ) {
      t += 100;
      const v = d.ioRead(0x61, 1, t) & 0x10;
      if (v !== last) n++;
      last = v;
    }
    expect(t - start).toBeGreaterThan(980_000);
    expect(t - start).toBeLessThan(1_000_000);
  });

  it('10 ms calibration: counter 2 mode 0 gated by bit 0, polled through OUT2 (bit 5)', () => {
    const d = new TimerDevice(new RecordingHost());
    let t = 123_456_789;
    const latch = Math.floor(1_193_182 / 100); // 11931: 10 ms
    d.ioWrite(0x61, 1, (d.ioRead(0x61, 1, t) & ~0x02) | 0x01, t);
    d.ioWrite(0x43, 1, 0xb0, t);
    d.ioWrite(0x42, 1, latch & 0xff, t);
    d.ioWrite(0x42, 1, latch >> 8, t);
    const start = t;
    expect(d.ioRead(0x61, 1, t) & 0x20).toBe(0);
    let polls = 0;
    while ((d.ioRead(0x61, 1, t) & 0x20) === 0) {
      t += 1000; // one poll per guest microsecond
      polls++;
      if (polls > 100_000) throw new Error('OUT2 never rose');
    }
    const elapsed = t - start;
    expect(Math.abs(elapsed - 10_000_000)).toBeLessThanOrEqual(2_000);
    // what a calibrating kernel computes from it: the PIT frequency
    expect(Math.abs((latch + 1) / (elapsed / 1e9) - PIT_CLOCK_HZ)).toBeLessThan(PIT_CLOCK_HZ * 2e-4);
  });

  it('OUT2 does not rise while the gate (bit 0) is low', () => {
    const d = new TimerDevice(new RecordingHost());
    d.ioWrite(0x61, 1, 0x00, 0);
    d.ioWrite(0x43, 1, 0xb0, 0);
    d.ioWrite(0x42, 1, 10, 0);
    d.ioWrite(0x42, 1, 0, 0);
    expect(d.ioRead(0x61, 1, 1_000_000) & 0x20).toBe(0);
    d.ioWrite(0x61, 1, 0x01, 1_000_000);
    expect(d.ioRead(0x61, 1, 1_000_000 + 12 * 839) & 0x20).toBe(0x20);
  });

  it('OUT2 follows a mode 3 square wave', () => {
    const d = new TimerDevice(new RecordingHost());
    d.ioWrite(0x61, 1, 0x01, 0);
    d.ioWrite(0x43, 1, 0xb6, 0);
    d.ioWrite(0x42, 1, 100, 0);
    d.ioWrite(0x42, 1, 0, 0);
    const levels = [10, 45, 55, 95, 105, 145].map((p) => (d.ioRead(0x61, 1, Math.ceil((p * 88000) / 105)) & 0x20) >> 5);
    expect(levels).toEqual([1, 1, 0, 0, 1, 1]);
  });
});

describe('speaker event', () => {
  it('announces the tone of counter 2 when gate and speaker data are on, and 0 when silenced', () => {
    const host = new RecordingHost();
    const d = new TimerDevice(host);
    d.ioWrite(0x43, 1, 0xb6, 0);
    d.ioWrite(0x42, 1, 1193 & 0xff, 0);
    d.ioWrite(0x42, 1, 1193 >> 8, 0);
    expect(host.events).toEqual([]);
    d.ioWrite(0x61, 1, 0x03, 10);
    expect(host.events).toHaveLength(1);
    expect(host.events[0].kind).toBe('speaker');
    expect(host.events[0].detail.hz as number).toBeCloseTo(PIT_CLOCK_HZ / 1193, 6);
    d.ioWrite(0x61, 1, 0x03, 20); // no change, no event
    expect(host.events).toHaveLength(1);
    d.ioWrite(0x42, 1, 0x54, 30); // 0x0254 = 596: about 2 kHz
    d.ioWrite(0x42, 1, 0x02, 30);
    expect(host.events[1].detail.hz as number).toBeCloseTo(PIT_CLOCK_HZ / 596, 6);
    d.ioWrite(0x61, 1, 0x01, 40);
    expect(host.events[2]).toEqual({ kind: 'speaker', detail: { hz: 0 } });
    d.ioWrite(0x61, 1, 0x03, 50);
    d.ioWrite(0x43, 1, 0xb0, 60); // mode 0: no tone
    expect(host.events.map((e) => (e.detail.hz as number) > 0)).toEqual([true, true, false, true, false]);
  });
});
