/**
 * IRQ0 deadlines: counter 0's OUT rising edges, announced to the host as
 * setIrqDeadline(0, at, periodNs) and revised when the guest reprograms counter 0.
 */
import { describe, expect, it } from 'vitest';
import { PIT_PERIOD_NS, timeOfPulse } from '../src/clock.js';
import { Rig } from './helpers.js';

/** Nominal PC timer input, as software assumes it (Hz). */
const NOMINAL_HZ = 1_193_182;

function program(r: Rig, cw: number, count: number): Rig {
  return r.out(0x43, cw).out(0x40, count & 0xff).out(0x40, (count >> 8) & 0xff);
}

/** Where the host would deliver edge k, following the documented rule. */
function edgeTime(at: number, periodNs: number, k: number): number {
  return Math.ceil(at + k * periodNs);
}

describe('IRQ0 deadlines', () => {
  it('18.2 Hz: mode 2 with reload 0 (65536)', () => {
    const r = new Rig().at(1000);
    program(r, 0x34, 0);
    const d = r.host.lastDeadline!;
    expect(d.line).toBe(0);
    expect(d.at).toBe(timeOfPulse(1000 + 1 + 65536));
    const ideal = (65536 * 1e9) / NOMINAL_HZ;
    expect(Math.abs(d.periodNs! - ideal)).toBeLessThan(PIT_PERIOD_NS / 10);
    expect(1e9 / d.periodNs!).toBeCloseTo(18.2065, 4);
  });

  it('18.2 Hz: mode 3 (BIOS setting) with reload 0', () => {
    const r = new Rig().at(7);
    program(r, 0x36, 0);
    const d = r.host.lastDeadline!;
    expect(d.at).toBe(timeOfPulse(7 + 1 + 65536));
    expect(d.periodNs! * 65536).toBeCloseTo(((65536 * 88000) / 105) * 65536, 0);
  });

  it('1000 Hz: mode 2 with reload 1193, period within a fraction of a tick of 1 ms', () => {
    const r = new Rig().at(0);
    program(r, 0x34, 1193);
    const d = r.host.lastDeadline!;
    expect(d.at).toBe(timeOfPulse(1 + 1193));
    expect(Math.abs(d.periodNs! - (1193 * 1e9) / NOMINAL_HZ)).toBeLessThan(PIT_PERIOD_NS / 10);
    expect(Math.abs(d.periodNs! - 1e6)).toBeLessThan(PIT_PERIOD_NS / 4);
  });

  it('edges delivered by the documented rule land exactly on the reload pulse, even a million periods later', () => {
    for (const [cw, n] of [[0x34, 1193], [0x34, 0], [0x36, 1193], [0x36, 11931]] as const) {
      const r = new Rig().at(12345);
      program(r, cw, n);
      const d = r.host.lastDeadline!;
      const nPulses = n === 0 ? 65536 : n;
      for (const k of [0, 1, 2, 999, 1_000_000]) {
        const t = edgeTime(d.at!, d.periodNs!, k);
        const edge = 12345 + 1 + nPulses + k * nPulses;
        // at most 1 ns after the first whole ns at which the edge has happened
        expect(t - timeOfPulse(edge)).toBeGreaterThanOrEqual(0);
        expect(t - timeOfPulse(edge)).toBeLessThanOrEqual(1);
        // the model agrees: OUT low just before the edge, high at the delivery time
        expect([sampleAtNs(r, timeOfPulse(edge) - 1), sampleAtNs(r, t)]).toEqual([false, true]);
      }
    }
  });

  it('mode 0 is a one-shot deadline without period', () => {
    const r = new Rig().at(50);
    program(r, 0x30, 11931);
    expect(r.host.lastDeadline).toMatchObject({ line: 0, at: timeOfPulse(50 + 1 + 11931), periodNs: undefined });
  });

  it('mode 4 strobe: deadline at the rising edge one clock after the strobe', () => {
    const r = new Rig().at(0);
    program(r, 0x38, 10);
    expect(r.host.lastDeadline).toMatchObject({ at: timeOfPulse(12), periodNs: undefined });
  });

  it('mode 4 retriggered during its strobe: the second rising edge is announced at the next access, even an ignored one', () => {
    const r = new Rig().at(0);
    program(r, 0x38, 10);
    // CE reaches 0 at pulse 11: OUT is low for that clock and rises at 12 (the announced edge)
    r.at(11).out(0x40, 20).out(0x40, 0);
    expect(r.host.lastDeadline).toMatchObject({ at: timeOfPulse(12) });
    // the new count loads at pulse 12 and strobes 20 pulses later: OUT rises again at 33
    r.dev.ioRead(0x41, 2, timeOfPulse(13)); // wrong width: a no-op, but guest time moved on
    expect(r.host.lastDeadline).toMatchObject({ at: timeOfPulse(33), periodNs: undefined });
    expect(r.dev.counters.badWidth).toBe(1);
  });

  it('reprogramming revises the deadline', () => {
    const r = new Rig().at(0);
    program(r, 0x34, 1193);
    const first = r.host.deadlines.length;
    // new count in mode 2: the next edge stays, the period changes from then on
    r.at(100).out(0x40, 0x9c).out(0x40, 0x2e); // 11932
    expect(r.host.deadlines.length).toBe(first + 1);
    expect(r.host.lastDeadline).toMatchObject({ at: timeOfPulse(1 + 1193) });
    expect(r.host.lastDeadline!.periodNs).toBeCloseTo((11932 * 88000) / 105, 6);
    // a new control word restarts the counter: nothing can fire until a count is written
    r.at(200).out(0x43, 0x34);
    expect(r.host.lastDeadline).toMatchObject({ at: null });
    r.out(0x40, 0xa9).out(0x40, 0x04);
    expect(r.host.lastDeadline).toMatchObject({ at: timeOfPulse(200 + 1 + 1193) });
    // mode 3: a new count changes the next rising edge (end of the next low half-cycle)
    r.at(300);
    program(r, 0x36, 1000);
    r.at(400).out(0x40, 0xc8).out(0x40, 0x00); // 200
    // high half of 1000 ends at pulse 301 + 500; the low half then has 100 pulses
    expect(r.host.lastDeadline).toMatchObject({ at: timeOfPulse(301 + 500 + 100) });
    expect(r.host.lastDeadline!.periodNs).toBeCloseTo((200 * 88000) / 105, 6);
  });

  it('mode 0: the first byte of a two-byte count cancels the pending deadline', () => {
    const r = new Rig().at(0);
    program(r, 0x30, 5000);
    r.at(10).out(0x40, 0x10);
    expect(r.host.lastDeadline).toMatchObject({ at: null });
    r.out(0x40, 0x00);
    expect(r.host.lastDeadline).toMatchObject({ at: timeOfPulse(10 + 1 + 16) });
  });

  it('does not resend an unchanged sequence, nor cancel a one-shot that already fired', () => {
    const r = new Rig().at(0);
    program(r, 0x34, 1193);
    const n = r.host.deadlines.length;
    r.at(5000).out(0x43, 0x00);
    r.in(0x40);
    r.in(0x40);
    r.out(0x40, 1193 & 0xff).out(0x40, 1193 >> 8); // same count again
    expect(r.host.deadlines.length).toBe(n);
    program(r.at(6000), 0x30, 10);
    expect(r.host.lastDeadline).toMatchObject({ at: timeOfPulse(6011) });
    const m = r.host.deadlines.length;
    r.at(7000).out(0x43, 0x30); // the one-shot fired long ago
    expect(r.host.deadlines.length).toBe(m);
  });

  it('counter 0 waiting for a count, or in mode 1/5 without a trigger, has no deadline', () => {
    const r = new Rig().at(0);
    r.out(0x43, 0x32).out(0x40, 10).out(0x40, 0);
    r.out(0x43, 0x3a).out(0x40, 10).out(0x40, 0);
    expect(r.host.deadlines.every((d) => d.at === null)).toBe(true);
  });
});

function sampleAtNs(r: Rig, ns: number): boolean {
  r.dev.ioWrite(0x43, 1, 0xe2, ns);
  return (r.dev.ioRead(0x40, 1, ns) & 0x80) !== 0;
}
