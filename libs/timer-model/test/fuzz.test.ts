/**
 * 1,000,000 random port accesses: ports inside and outside the timer's ranges, widths 1/2/4,
 * random values, non-decreasing random times with occasional huge jumps. Invariants: no
 * throw; reads fit their width; counts stay within their reload range; every deadline set
 * lies after the `now` of the access that set it; the host's IRQ0 deadline always matches
 * the chip's next OUT0 edges. Replay a failure with TIMER_FUZZ_SEED=<printed seed>.
 */
import { allOnes, type AccessSize } from '@quasivm/device-sdk';
import { describe, expect, it } from 'vitest';
import { MAX_GUEST_TIME_NS } from '../src/clock.js';
import type { PitCounterState } from '../src/pit-counter.js';
import { TimerDevice } from '../src/timer-device.js';
import { RecordingHost } from './helpers.js';
import { mulberry32, seedFrom } from './prng.js';

const OPS = 1_000_000;

function countProblem(c: PitCounterState): string | null {
  const m = c.bcd ? 10000 : 0x10000;
  if (!Number.isInteger(c.countingElement) || c.countingElement < 0 || c.countingElement > 0x10000) return 'CE out of 16 bits';
  if (!c.running) return null;
  if (c.reloadValue < 1 || c.reloadValue > m) return 'reload out of range';
  const mode = c.modeBits >= 6 ? c.modeBits - 4 : c.modeBits;
  if (mode === 2 && (c.countingElement < 1 || c.countingElement > c.reloadValue)) return 'mode 2 count outside 1..N';
  if (mode === 3 && c.countingElement > c.reloadValue) return 'mode 3 count above N';
  if (c.countingElement > m) return 'count above the counting range';
  return null;
}

describe('fuzz', () => {
  it(`${OPS.toLocaleString('en')} random accesses keep every invariant`, () => {
    const seed = seedFrom('TIMER_FUZZ_SEED');
    console.log(`timer fuzz seed: ${seed} (TIMER_FUZZ_SEED=${seed} to replay)`);
    const rand = mulberry32(seed);
    const host = new RecordingHost();
    const dev = new TimerDevice(host);
    const sizes: AccessSize[] = [1, 1, 1, 1, 1, 1, 1, 1, 2, 4];
    const ours = [0x40, 0x41, 0x42, 0x43, 0x61];
    const near = [0x3f, 0x44, 0x60, 0x62, 0x20, 0xa0];
    let t = 0;
    let reads = 0;
    let deadlinesSeen = 0;
    for (let i = 0; i < OPS; i++) {
      const r = rand();
      if (r < 0.7) t += Math.floor(rand() * 2000);
      else if (r < 0.9) t += Math.floor(rand() * 1e6);
      else if (r < 0.995) t += Math.floor(rand() * 1e9);
      else if (r < 0.9996) t += Math.floor(rand() * 1e11);
      else t += Math.floor(rand() * 1e13);
      if (t > MAX_GUEST_TIME_NS) t = MAX_GUEST_TIME_NS;
      host.now = t;
      const pr = rand();
      const port = pr < 0.75 ? ours[Math.floor(rand() * ours.length)] : pr < 0.85 ? near[Math.floor(rand() * near.length)] : Math.floor(rand() * 0x10000);
      const size = sizes[Math.floor(rand() * sizes.length)];
      const calls = host.deadlines.length;
      if (rand() < 0.5) {
        const v = dev.ioRead(port, size, t);
        reads++;
        if (!Number.isInteger(v) || v < 0 || v > allOnes(size)) throw new Error(`op ${i}: read of port ${port} size ${size} returned ${v}`);
      } else {
        const value = rand() < 0.7 ? Math.floor(rand() * 256) : Math.floor(rand() * 2 ** 32) - (rand() < 0.1 ? 2 ** 31 : 0);
        dev.ioWrite(port, size, value, t);
      }
      for (let k = calls; k < host.deadlines.length; k++) {
        const d = host.deadlines[k];
        deadlinesSeen++;
        if (d.line !== 0) throw new Error(`op ${i}: deadline on line ${d.line}`);
        if (d.at !== null && !(d.at > t)) throw new Error(`op ${i}: deadline ${d.at} not after now ${t}`);
        if (d.periodNs !== undefined && !(d.periodNs > 0 && Number.isFinite(d.periodNs))) throw new Error(`op ${i}: period ${d.periodNs}`);
      }
      if (i % 97 === 0) {
        const counters = dev.chip.toState().counters;
        for (let ch = 0; ch < 3; ch++) {
          const p = countProblem(counters[ch]);
          if (p !== null) throw new Error(`op ${i}: counter ${ch}: ${p}: ${JSON.stringify(counters[ch])}`);
        }
        const predicted = dev.chip.nextRisingEdges(0);
        const published = dev.irq0Deadline;
        const pulse = dev.chip.pulses;
        if (predicted === null) {
          if (published !== null && (published.periodPulses !== null || published.atPulse > pulse)) {
            throw new Error(`op ${i}: host still has deadline ${JSON.stringify(published)} but OUT0 cannot rise`);
          }
        } else {
          const ok =
            published !== null &&
            published.periodPulses === predicted.period &&
            (predicted.period === null
              ? published.atPulse === predicted.at
              : predicted.at >= published.atPulse && (predicted.at - published.atPulse) % predicted.period === 0);
          if (!ok) throw new Error(`op ${i}: host deadline ${JSON.stringify(published)} but OUT0 rises at ${JSON.stringify(predicted)}`);
        }
      }
      if (host.deadlines.length > 100_000) host.deadlines = [];
      if (host.events.length > 100_000) host.events = [];
    }
    const c = dev.counters;
    console.log(`timer fuzz: ${reads} reads, ${deadlinesSeen} deadline calls, counters ${JSON.stringify(c)}, final time ${t}`);
    expect(c.badWidth).toBeGreaterThan(0);
    expect(c.unknownPort).toBeGreaterThan(0);
    expect(deadlinesSeen).toBeGreaterThan(1000);
  });

  it('odd times are clamped and counted, never thrown on', () => {
    const dev = new TimerDevice(new RecordingHost());
    dev.ioRead(0x61, 1, 1_000_000);
    expect(() => dev.ioRead(0x40, 1, 5)).not.toThrow();
    expect(() => dev.ioWrite(0x43, 1, 0x34, Number.NaN)).not.toThrow();
    expect(() => dev.ioWrite(0x40, 1, 0, Number.POSITIVE_INFINITY)).not.toThrow();
    expect(() => dev.ioWrite(0x40, 1, 0, 1e300)).not.toThrow();
    expect(dev.counters).toMatchObject({ timeWentBackwards: 2, timeOutOfRange: 2 });
    expect(dev.saveState().timeNs).toBe(MAX_GUEST_TIME_NS);
  });

  it('bad widths and unknown ports are no-ops that read all ones and are counted per instance', () => {
    const a = new TimerDevice(new RecordingHost());
    const b = new TimerDevice(new RecordingHost());
    const before = JSON.stringify(a.saveState());
    expect(a.ioRead(0x40, 2, 0)).toBe(0xffff);
    expect(a.ioRead(0x61, 4, 0)).toBe(0xffffffff);
    a.ioWrite(0x43, 2, 0x34, 0);
    a.ioWrite(0x61, 4, 0x03, 0);
    expect(a.ioRead(0x80, 1, 0)).toBe(0xff);
    a.ioWrite(0x44, 1, 1, 0);
    expect(a.ioRead(0x43, 1, 0)).toBe(0xff);
    expect(JSON.stringify(a.saveState())).toBe(before);
    expect(a.counters).toEqual({ badWidth: 4, unknownPort: 2, controlRegisterReads: 1, timeWentBackwards: 0, timeOutOfRange: 0 });
    expect(b.counters).toEqual({ badWidth: 0, unknownPort: 0, controlRegisterReads: 0, timeWentBackwards: 0, timeOutOfRange: 0 });
  });
});
