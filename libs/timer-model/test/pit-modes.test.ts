/**
 * The 8254's counting modes against the timing diagrams of the Intel 8254 datasheet
 * ("Mode 0" ... "Mode 5" waveforms and the mode descriptions): a script of port writes at
 * given CLK pulses, then the count and OUT after every pulse, sampled with Read-Back.
 * Writes at pulse p happen after pulse p and before pulse p+1. Counter 2's GATE is port B
 * bit 0 (0x61 <- 1 raises it, 0x61 <- 0 lowers it).
 */
import { describe, expect, it } from 'vitest';
import { Rig } from './helpers.js';

type Op = [port: number, value: number];
interface TimingCase {
  name: string;
  ch: number;
  script: Record<number, Op[]>;
  /** Count after each pulse from 0 (null: not checked, e.g. before the first load). */
  counts: (number | null)[];
  /** OUT after each pulse from 0: L or H. */
  out: string;
}

const GATE_HIGH: Op = [0x61, 1];
const GATE_LOW: Op = [0x61, 0];

const cases: TimingCase[] = [
  // Mode 0: interrupt on terminal count
  { name: 'mode 0: OUT low, N=4 loaded on the next pulse, high N+1 pulses after the write, count wraps', ch: 0,
    script: { 0: [[0x43, 0x10], [0x40, 4]] }, counts: [null, 4, 3, 2, 1, 0, 0xff, 0xfe], out: 'LLLLLHHH' },
  { name: 'mode 0: GATE low suspends counting, OUT unaffected', ch: 2,
    script: { 0: [GATE_HIGH, [0x43, 0x90], [0x42, 3]], 2: [GATE_LOW], 4: [GATE_HIGH] },
    counts: [null, 3, 2, 2, 2, 1, 0, 0xff], out: 'LLLLLLHH' },
  { name: 'mode 0: a new count is loaded on the next pulse and counting goes on from it', ch: 0,
    script: { 0: [[0x43, 0x10], [0x40, 3]], 2: [[0x40, 2]] }, counts: [null, 3, 2, 2, 1, 0, 0xff], out: 'LLLLLHH' },
  { name: 'mode 0: first byte of a two-byte count disables counting until the second', ch: 0,
    script: { 0: [[0x43, 0x30], [0x40, 5], [0x40, 0]], 2: [[0x40, 3]], 4: [[0x40, 0]] },
    counts: [null, 5, 4, 4, 4, 3, 2, 1, 0, 0xffff], out: 'LLLLLLLLHH' },
  { name: 'mode 0: writing a count sets OUT low immediately', ch: 0,
    script: { 0: [[0x43, 0x10], [0x40, 1]], 4: [[0x40, 2]] }, counts: [null, 1, 0, 0xff, 0xfe, 2, 1, 0], out: 'LLHHLLLH' },
  { name: 'mode 0: GATE low when the count is written: loaded, but held', ch: 2,
    script: { 0: [[0x43, 0x90], [0x42, 2]], 3: [GATE_HIGH] }, counts: [null, 2, 2, 2, 1, 0], out: 'LLLLLH' },

  // Mode 1: hardware retriggerable one-shot
  { name: 'mode 1: trigger loads on the next pulse, OUT low for N pulses', ch: 2,
    script: { 0: [[0x43, 0x92], [0x42, 3]], 1: [GATE_HIGH] }, counts: [null, null, 3, 2, 1, 0, 0xff], out: 'HHLLLHH' },
  { name: 'mode 1: a retrigger reloads CR and stretches the pulse', ch: 2,
    script: { 0: [[0x43, 0x92], [0x42, 3]], 1: [GATE_HIGH], 3: [GATE_LOW, GATE_HIGH] },
    counts: [null, null, 3, 2, 3, 2, 1, 0], out: 'HHLLLLLH' },
  { name: 'mode 1: a new count does not affect the current one-shot, only the next trigger', ch: 2,
    script: { 0: [[0x43, 0x92], [0x42, 3]], 1: [GATE_HIGH], 3: [[0x42, 5]], 6: [GATE_LOW, GATE_HIGH] },
    counts: [null, null, 3, 2, 1, 0, 0xff, 5, 4], out: 'HHLLLHHLL' },
  { name: 'mode 1: GATE level does not stop counting', ch: 2,
    script: { 0: [[0x43, 0x92], [0x42, 3]], 1: [GATE_HIGH], 2: [GATE_LOW] }, counts: [null, null, 3, 2, 1, 0], out: 'HHLLLH' },

  // Mode 2: rate generator
  { name: 'mode 2: OUT low for one pulse when the count reaches 1, period N', ch: 0,
    script: { 0: [[0x43, 0x14], [0x40, 3]] }, counts: [null, 3, 2, 1, 3, 2, 1, 3], out: 'HHHLHHLH' },
  { name: 'mode 2: GATE low suspends counting, rising GATE reloads on the next pulse', ch: 2,
    script: { 0: [GATE_HIGH, [0x43, 0x94], [0x42, 3]], 2: [GATE_LOW], 4: [GATE_HIGH] },
    counts: [null, 3, 2, 2, 2, 3, 2, 1, 3], out: 'HHHHHHHLH' },
  { name: 'mode 2: GATE low while OUT is low sets OUT high immediately', ch: 2,
    script: { 0: [GATE_HIGH, [0x43, 0x94], [0x42, 3]], 3: [GATE_LOW] }, counts: [null, 3, 2, 1, 1], out: 'HHHHH' },
  { name: 'mode 2: a new count takes effect at the end of the current period', ch: 0,
    script: { 0: [[0x43, 0x14], [0x40, 3]], 2: [[0x40, 5]] }, counts: [null, 3, 2, 1, 5, 4, 3, 2, 1, 5], out: 'HHHLHHHHLH' },
  { name: 'mode 2: a trigger after a new count loads it on the next pulse', ch: 2,
    script: { 0: [GATE_HIGH, [0x43, 0x94], [0x42, 4]], 2: [[0x42, 2], GATE_LOW, GATE_HIGH] },
    counts: [null, 4, 3, 2, 1, 2], out: 'HHHHLH' },
  { name: 'mode 2 written as M=110 behaves as mode 2', ch: 0,
    script: { 0: [[0x43, 0x1c], [0x40, 3]] }, counts: [null, 3, 2, 1, 3], out: 'HHHLH' },

  // Mode 3: square wave
  { name: 'mode 3, even N=4: count drops by two, OUT toggles every N/2 pulses', ch: 0,
    script: { 0: [[0x43, 0x16], [0x40, 4]] }, counts: [null, 4, 2, 4, 2, 4, 2], out: 'HHHLLHH' },
  { name: 'mode 3, odd N=5: N-1 loaded, high (N+1)/2 pulses, low (N-1)/2', ch: 0,
    script: { 0: [[0x43, 0x16], [0x40, 5]] }, counts: [null, 4, 2, 0, 4, 2, 4, 2, 0, 4], out: 'HHHHLLHHHL' },
  { name: 'mode 3: GATE low forces OUT high and holds, rising GATE reloads', ch: 2,
    script: { 0: [GATE_HIGH, [0x43, 0x96], [0x42, 4]], 3: [GATE_LOW], 5: [GATE_HIGH] },
    counts: [null, 4, 2, 4, 4, 4, 4, 2, 4], out: 'HHHHHHHHL' },
  { name: 'mode 3: a new count takes effect at the end of the current half-cycle', ch: 0,
    script: { 0: [[0x43, 0x16], [0x40, 8]], 2: [[0x40, 4]] }, counts: [null, 8, 6, 4, 2, 4, 2, 4, 2, 4], out: 'HHHHHLLHHL' },
  { name: 'mode 3 written as M=111 behaves as mode 3', ch: 0,
    script: { 0: [[0x43, 0x1e], [0x40, 4]] }, counts: [null, 4, 2, 4, 2, 4], out: 'HHHLLH' },

  // Mode 4: software triggered strobe
  { name: 'mode 4: OUT strobes low for one pulse N+1 pulses after the write', ch: 0,
    script: { 0: [[0x43, 0x18], [0x40, 3]] }, counts: [null, 3, 2, 1, 0, 0xff, 0xfe], out: 'HHHHLHH' },
  { name: 'mode 4: GATE low suspends counting', ch: 2,
    script: { 0: [GATE_HIGH, [0x43, 0x98], [0x42, 3]], 2: [GATE_LOW], 4: [GATE_HIGH] },
    counts: [null, 3, 2, 2, 2, 1, 0, 0xff], out: 'HHHHHHLH' },
  { name: 'mode 4: a new count is loaded on the next pulse', ch: 0,
    script: { 0: [[0x43, 0x18], [0x40, 5]], 2: [[0x40, 2]] }, counts: [null, 5, 4, 2, 1, 0, 0xff], out: 'HHHHHLH' },

  // Mode 5: hardware triggered strobe (retriggerable)
  { name: 'mode 5: trigger loads on the next pulse, strobe N+1 pulses after the trigger', ch: 2,
    script: { 0: [[0x43, 0x9a], [0x42, 3]], 1: [GATE_HIGH] }, counts: [null, null, 3, 2, 1, 0, 0xff], out: 'HHHHHLH' },
  { name: 'mode 5: a retrigger restarts the count', ch: 2,
    script: { 0: [[0x43, 0x9a], [0x42, 3]], 1: [GATE_HIGH], 3: [GATE_LOW, GATE_HIGH] },
    counts: [null, null, 3, 2, 3, 2, 1, 0, 0xff], out: 'HHHHHHHLH' },
  { name: 'mode 5: a new count waits for the next trigger', ch: 2,
    script: { 0: [[0x43, 0x9a], [0x42, 3]], 1: [GATE_HIGH], 3: [[0x42, 5]], 6: [GATE_LOW, GATE_HIGH] },
    counts: [null, null, 3, 2, 1, 0, 0xff, 5, 4], out: 'HHHHHLHHH' },

  // BCD and the maximum count
  { name: 'BCD mode 0 counts in decimal digits', ch: 0,
    script: { 0: [[0x43, 0x31], [0x40, 0x12], [0x40, 0x00]] }, counts: [null, 0x12, 0x11, 0x10, 0x09, 0x08], out: 'LLLLLL' },
  { name: 'BCD mode 0 wraps from 0000 to 9999', ch: 0,
    script: { 0: [[0x43, 0x31], [0x40, 0x02], [0x40, 0x00]] }, counts: [null, 2, 1, 0, 0x9999, 0x9998], out: 'LLLHHH' },
  { name: 'binary reload 0 is 65536', ch: 0,
    script: { 0: [[0x43, 0x34], [0x40, 0], [0x40, 0]] }, counts: [null, 0, 0xffff, 0xfffe], out: 'HHHH' },
  { name: 'BCD reload 0 is 10000', ch: 0,
    script: { 0: [[0x43, 0x35], [0x40, 0], [0x40, 0]] }, counts: [null, 0, 0x9999, 0x9998], out: 'HHHH' },
  { name: 'MSB-only access: the LSB of the count is 0', ch: 0,
    script: { 0: [[0x43, 0x24], [0x40, 1]] }, counts: [null, 0x01, 0x00, 0x00], out: 'HHHH' },
];

describe('8254 counting modes (datasheet timing diagrams)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = new Rig();
      expect(c.counts.length).toBe(c.out.length);
      const got: { counts: (number | null)[]; out: string } = { counts: [], out: '' };
      for (let p = 0; p < c.counts.length; p++) {
        r.at(p);
        for (const [port, value] of c.script[p] ?? []) r.out(port, value);
        const s = r.sample(c.ch);
        got.counts.push(c.counts[p] === null ? null : s.count);
        got.out += s.out ? 'H' : 'L';
      }
      expect(got).toEqual({ counts: c.counts, out: c.out });
    });
  }
});

describe('reload 0 over a whole period', () => {
  it('mode 0 with count 0 reaches terminal count after 65536 pulses (65537 after the write)', () => {
    const r = new Rig();
    r.at(10).out(0x43, 0x30).out(0x40, 0).out(0x40, 0);
    r.at(10 + 65536);
    expect(r.sample(0)).toMatchObject({ count: 1, out: false });
    r.at(10 + 65537);
    expect(r.sample(0)).toMatchObject({ count: 0, out: true });
  });
  it('BCD mode 0 with count 0 reaches terminal count after 10000 pulses', () => {
    const r = new Rig();
    r.at(0).out(0x43, 0x31).out(0x40, 0).out(0x40, 0);
    r.at(10000);
    expect(r.sample(0)).toMatchObject({ count: 1, out: false });
    r.at(10001);
    expect(r.sample(0)).toMatchObject({ count: 0, out: true });
  });
  it('mode 3 with count 0 is a 65536-pulse square wave', () => {
    const r = new Rig();
    r.at(0).out(0x43, 0x36).out(0x40, 0).out(0x40, 0);
    r.at(32768);
    expect(r.sample(0)).toMatchObject({ count: 2, out: true });
    r.at(32769);
    expect(r.sample(0)).toMatchObject({ count: 0, out: false });
    r.at(65536);
    expect(r.sample(0)).toMatchObject({ count: 2, out: false });
    r.at(65537);
    expect(r.sample(0)).toMatchObject({ count: 0, out: true });
  });
  it('a long jump lands on the same count as the period arithmetic says (mode 2, N=1193)', () => {
    const r = new Rig();
    r.at(0).out(0x43, 0x34).out(0x40, 1193 & 0xff).out(0x40, 1193 >> 8);
    const p = 1 + 1193 * 1_000_000 + 500; // a million periods later, 500 pulses into one
    r.at(p);
    expect(r.sample(0).count).toBe(1193 - 500);
  });
});
