/**
 * The counters apply elapsed pulses in closed form. Whatever the mode, jumping over n pulses
 * must land in the same state as stepping one pulse at a time: two timers get the same
 * random program, one is looked at every pulse (a port B read advances it), the other only
 * at the writes.
 */
import { describe, expect, it } from 'vitest';
import { timeOfPulse } from '../src/clock.js';
import { TimerDevice } from '../src/timer-device.js';
import { RecordingHost } from './helpers.js';
import { mulberry32, seedFrom } from './prng.js';

describe('closed form = pulse by pulse', () => {
  it('random programs of all modes, access modes, gates and BCD', () => {
    const seed = seedFrom('TIMER_CLOSED_FORM_SEED');
    console.log(`closed-form seed: ${seed} (TIMER_CLOSED_FORM_SEED=${seed} to replay)`);
    const rand = mulberry32(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    for (let run = 0; run < 300; run++) {
      const jump = new TimerDevice(new RecordingHost());
      const step = new TimerDevice(new RecordingHost());
      let pulse = 0;
      for (let op = 0; op < 12; op++) {
        const next = pulse + 1 + Math.floor(rand() * 60);
        for (let p = pulse + 1; p < next; p++) step.ioRead(0x61, 1, timeOfPulse(p));
        pulse = next;
        const t = timeOfPulse(pulse);
        let port: number;
        let value: number;
        const kind = rand();
        if (kind < 0.25) {
          port = 0x43;
          value = (Math.floor(rand() * 3) << 6) | (Math.floor(rand() * 4) << 4) | (Math.floor(rand() * 8) << 1) | (rand() < 0.2 ? 1 : 0);
        } else if (kind < 0.35) {
          port = 0x43;
          value = 0xc0 | Math.floor(rand() * 64) & 0x3e;
        } else if (kind < 0.75) {
          port = pick([0x40, 0x41, 0x42]);
          value = rand() < 0.5 ? Math.floor(rand() * 12) : Math.floor(rand() * 256);
        } else {
          port = 0x61;
          value = Math.floor(rand() * 4);
        }
        jump.ioWrite(port, 1, value, t);
        step.ioWrite(port, 1, value, t);
      }
      const end = pulse + Math.floor(rand() * 200);
      for (let p = pulse + 1; p <= end; p++) step.ioRead(0x61, 1, timeOfPulse(p));
      jump.ioRead(0x61, 1, timeOfPulse(end));
      expect(jump.saveState().pit).toEqual(step.saveState().pit);

      // The predicted rising edges of OUT0 (what IRQ0 deadlines are made of) match stepping.
      for (let ch = 0; ch < 3; ch++) {
        const predicted = jump.chip.nextRisingEdges(ch);
        const probe = new TimerDevice(new RecordingHost());
        probe.loadState(jump.saveState());
        const chip = probe.chip;
        const seen: number[] = [];
        let level = chip.out(ch);
        const limit = end + 3000;
        for (let p = end + 1; p <= limit && seen.length < 2; p++) {
          chip.advanceTo(p);
          const now = chip.out(ch);
          if (now && !level) seen.push(p);
          level = now;
        }
        if (predicted === null) {
          expect(seen).toEqual([]);
        } else if (predicted.at <= limit) {
          expect(seen[0]).toBe(predicted.at);
          if (predicted.period !== null && predicted.at + predicted.period <= limit) expect(seen[1]).toBe(predicted.at + predicted.period);
          if (predicted.period === null && seen.length > 1) expect(seen[1]).toBeGreaterThan(predicted.at);
        }
      }
    }
  });
});
