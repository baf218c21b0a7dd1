/**
 * Access modes, the Counter Latch command and the Read-Back command (Intel 8254 datasheet,
 * "Read Operations", "Counter Latch Command", "Read-Back Command", "Status Byte").
 */
import { describe, expect, it } from 'vitest';
import { Rig } from './helpers.js';

/** Program counter 0 in mode 2, LSB then MSB, count 0x1234; loaded at pulse 1. */
function running1234(): Rig {
  return new Rig().at(0).out(0x43, 0x34).out(0x40, 0x34).out(0x40, 0x12);
}

describe('access modes and flip-flops', () => {
  it('LSB then MSB reads alternate bytes of the live count', () => {
    const r = running1234().at(1);
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x34, 0x12]);
    r.at(5);
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x30, 0x12]);
  });

  it('read and write flip-flops are independent: read LSB, write LSB, read MSB, write MSB', () => {
    const r = running1234().at(1);
    expect(r.in(0x40)).toBe(0x34);
    r.out(0x40, 0x00);
    expect(r.in(0x40)).toBe(0x12);
    r.out(0x40, 0x10); // new count 0x1000, mode 2: used from the next period
    expect(r.sample(0).status & 0x40).toBe(0x40); // null count: CR not yet in CE
    r.at(1 + 0x1234); // the reload pulse
    const s = r.sample(0);
    expect(s.count).toBe(0x1000);
    expect(s.status & 0x40).toBe(0);
  });

  it('LSB-only and MSB-only counters read one byte each time', () => {
    const r = new Rig().at(0).out(0x43, 0x14).out(0x40, 0x80).out(0x43, 0x64).out(0x41, 0x02);
    r.at(3);
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x7e, 0x7e]);
    expect([r.in(0x41), r.in(0x41)]).toEqual([0x01, 0x01]); // 0x0200 - 2 = 0x01fe
  });

  it('a control word resets both flip-flops', () => {
    const r = running1234().at(2);
    r.in(0x40); // read flip-flop now on MSB
    r.out(0x40, 0x55); // write flip-flop now waiting for MSB
    r.out(0x43, 0x34).out(0x40, 0x10).out(0x40, 0x00); // LSB 0x10, MSB 0x00
    r.at(3);
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x10, 0x00]);
  });
});

describe('counter latch command', () => {
  it('holds the count at the latch while counting goes on', () => {
    const r = running1234().at(3).out(0x43, 0x00);
    r.at(50);
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x32, 0x12]);
    // released after both bytes: the next reads are live again
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x34 - 49, 0x12]);
  });

  it('a second latch before the first is read is ignored', () => {
    const r = running1234().at(3).out(0x43, 0x00);
    r.at(7).out(0x43, 0x00);
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x32, 0x12]);
    r.at(9).out(0x43, 0x00);
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x2c, 0x12]);
  });

  it('an LSB-only latch is released by one read', () => {
    const r = new Rig().at(0).out(0x43, 0x14).out(0x40, 0x80).at(2).out(0x43, 0x00);
    r.at(10);
    expect(r.in(0x40)).toBe(0x7f);
    expect(r.in(0x40)).toBe(0x77);
  });

  it('a latched count survives interleaved access to another counter, and is dropped by a control word', () => {
    const r = running1234().at(3).out(0x43, 0x00);
    r.out(0x43, 0x54).out(0x41, 9).at(6);
    expect(r.in(0x41)).toBe(7);
    expect(r.in(0x40)).toBe(0x32);
    r.out(0x43, 0x34).out(0x40, 0x00).out(0x40, 0x01);
    r.at(7);
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x00, 0x01]);
  });

  it('latching in BCD presents BCD digits', () => {
    const r = new Rig().at(0).out(0x43, 0x31).out(0x40, 0x00).out(0x40, 0x10).at(3).out(0x43, 0x00);
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x98, 0x09]); // 1000 - 2 = 0998
  });
});

describe('read-back command', () => {
  it('status byte: OUT, null count, RW, mode, BCD', () => {
    const r = new Rig().at(0).out(0x43, 0x36); // counter 0, LSB then MSB, mode 3, binary
    r.out(0x43, 0xe2); // status only, counter 0
    expect(r.in(0x40)).toBe(0x80 | 0x40 | 0x30 | 0x06);
    r.out(0x40, 0x00).out(0x40, 0x10);
    r.out(0x43, 0xe2);
    expect(r.in(0x40)).toBe(0x80 | 0x40 | 0x36); // CR written, not yet loaded
    r.at(1).out(0x43, 0xe2);
    expect(r.in(0x40)).toBe(0x80 | 0x36); // loaded
    r.out(0x43, 0x71); // counter 1, LSB then MSB, mode 0, BCD
    r.out(0x43, 0xe4);
    expect(r.in(0x41)).toBe(0x40 | 0x30 | 0x01); // OUT low in mode 0
    r.out(0x43, 0x9c); // counter 2, LSB, M=110 (mode 2 as written)
    r.out(0x43, 0xe8);
    expect(r.in(0x42)).toBe(0x80 | 0x40 | 0x10 | 0x0c);
  });

  it('latches several counters at once; each reads status, then count', () => {
    const r = new Rig().at(0).out(0x61, 1);
    r.out(0x43, 0x34).out(0x40, 100).out(0x40, 0);
    r.out(0x43, 0x54).out(0x41, 50);
    r.out(0x43, 0x90).out(0x42, 30);
    r.at(5).out(0x43, 0xce); // count and status, counters 0-2
    r.at(20);
    expect([r.in(0x42), r.in(0x42)]).toEqual([0x10 | 0x00, 26]);
    expect([r.in(0x40), r.in(0x40), r.in(0x40)]).toEqual([0x80 | 0x34, 96, 0]);
    expect([r.in(0x41), r.in(0x41)]).toEqual([0x80 | 0x14, 46]);
  });

  it('status first whatever the latch order; a latched count is not overwritten', () => {
    const r = running1234().at(3).out(0x43, 0x00); // count latched at 0x1232
    r.at(10).out(0x43, 0xc2); // count (ignored: already latched) and status
    expect(r.in(0x40)).toBe(0x80 | 0x34);
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x32, 0x12]);
  });

  it('a latched status stays until read, later status latches are ignored', () => {
    const r = new Rig().at(0).out(0x43, 0x10).out(0x40, 2);
    r.at(1).out(0x43, 0xe2); // OUT low
    r.at(5).out(0x43, 0xe2); // OUT now high, but the first status is unread
    expect(r.in(0x40)).toBe(0x10);
    r.out(0x43, 0xe2);
    expect(r.in(0x40)).toBe(0x80 | 0x10);
  });

  it('count-only read-back leaves the status unlatched', () => {
    const r = running1234().at(4).out(0x43, 0xd2);
    r.at(9);
    expect([r.in(0x40), r.in(0x40)]).toEqual([0x31, 0x12]);
  });
});

describe('null count', () => {
  it('is set by a control word and a count write, cleared by the load', () => {
    const r = new Rig().at(0).out(0x43, 0x14);
    expect(r.sample(0).status & 0x40).toBe(0x40);
    r.out(0x40, 5);
    expect(r.sample(0).status & 0x40).toBe(0x40);
    r.at(1);
    expect(r.sample(0).status & 0x40).toBe(0);
  });

  it('mode 1: stays set until a trigger loads the count', () => {
    const r = new Rig().at(0).out(0x43, 0x92).out(0x42, 5).at(4);
    expect(r.sample(2).status & 0x40).toBe(0x40);
    r.out(0x61, 1).at(5);
    expect(r.sample(2).status & 0x40).toBe(0);
  });
});
