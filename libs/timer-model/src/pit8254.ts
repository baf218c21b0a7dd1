/**
 * Intel 8254 Programmable Interval Timer (Intel 8254 datasheet, order no. 231164).
 *
 * Three independent 16-bit down counters and a control word register, addressed by
 * A1 A0 (datasheet "Read/Write Operations Summary"). The chip knows nothing of time in
 * nanoseconds: its owner says how many CLK pulses have happened (`advanceTo(pulse)`), and
 * each counter applies the elapsed pulses in closed form. Port numbers live in ports.ts.
 */
import { PitCounter, type OutEdges, type PitCounterState } from './pit-counter.js';

/** A1 A0 register offsets (datasheet "Read/Write Operations Summary"). */
export const PIT_COUNTER0 = 0;
export const PIT_COUNTER1 = 1;
export const PIT_COUNTER2 = 2;
export const PIT_CONTROL = 3;

/** Control word fields (datasheet "Control Word Format": SC1 SC0 RW1 RW0 M2 M1 M0 BCD). */
const CW_SC_SHIFT = 6;
const CW_RW_SHIFT = 4;
const CW_M_SHIFT = 1;
const CW_BCD = 0x01;
/** SC1 SC0 = 11: Read-Back command (datasheet "Read-Back Command"). */
const SC_READ_BACK = 3;
/** RW1 RW0 = 00: Counter Latch command (datasheet "Counter Latch Command"). */
const RW_COUNTER_LATCH = 0;
/** Read-Back bits: D5 = !COUNT, D4 = !STATUS (active low), D3..D1 = CNT2..CNT0. */
const RB_NOT_COUNT = 0x20;
const RB_NOT_STATUS = 0x10;
const RB_CNT0 = 0x02;

export interface Pit8254State {
  counters: [PitCounterState, PitCounterState, PitCounterState];
}

export class Pit8254 {
  readonly counters: readonly [PitCounter, PitCounter, PitCounter] = [new PitCounter(), new PitCounter(), new PitCounter()];
  /** CLK pulses applied so far. */
  private pulse = 0;
  /** Reads of the control word register: the datasheet calls them a no-operation (bus floats). */
  controlRegisterReads = 0;

  get pulses(): number {
    return this.pulse;
  }

  /** Bring all three counters to CLK pulse `pulse` (earlier values are ignored). */
  advanceTo(pulse: number): void {
    const n = pulse - this.pulse;
    if (!(n > 0)) return;
    this.pulse = pulse;
    for (const c of this.counters) c.advance(n);
  }

  /** A read at offset 0-3 (offset 3: no-operation, reads as a floating bus, 0xFF). */
  read(offset: number): number {
    if (offset >= PIT_COUNTER0 && offset <= PIT_COUNTER2) return this.counters[offset].readByte();
    this.controlRegisterReads++;
    return 0xff;
  }

  /** A write at offset 0-3. */
  write(offset: number, value: number): void {
    const v = value & 0xff;
    if (offset >= PIT_COUNTER0 && offset <= PIT_COUNTER2) {
      this.counters[offset].writeByte(v);
      return;
    }
    const sc = v >> CW_SC_SHIFT;
    const rw = (v >> CW_RW_SHIFT) & 3;
    if (sc === SC_READ_BACK) {
      this.readBack(v);
    } else if (rw === RW_COUNTER_LATCH) {
      this.counters[sc].latchCount();
    } else {
      this.counters[sc].programControlWord(rw, (v >> CW_M_SHIFT) & 7, (v & CW_BCD) !== 0);
    }
  }

  /** Read-Back: latch count and/or status of any set of counters at once. D0 is reserved and ignored. */
  private readBack(v: number): void {
    for (let i = 0; i < 3; i++) {
      if ((v & (RB_CNT0 << i)) === 0) continue;
      if ((v & RB_NOT_COUNT) === 0) this.counters[i].latchCount();
      if ((v & RB_NOT_STATUS) === 0) this.counters[i].latchStatus();
    }
  }

  setGate(counter: number, level: boolean): void {
    this.counters[counter].setGate(level);
  }

  out(counter: number): boolean {
    return this.counters[counter].output;
  }

  /** Rising edges of a counter's OUT, in absolute CLK pulses. */
  nextRisingEdges(counter: number): { at: number; period: number | null } | null {
    const e: OutEdges | null = this.counters[counter].nextRisingEdges();
    return e === null ? null : { at: this.pulse + e.first, period: e.period };
  }

  toState(): Pit8254State {
    return { counters: [this.counters[0].toState(), this.counters[1].toState(), this.counters[2].toState()] };
  }

  /** Assign an already validated state; `pulse` is where the saved counters stood. */
  fromState(s: Pit8254State, pulse: number): void {
    this.pulse = pulse;
    s.counters.forEach((c, i) => this.counters[i].fromState(c));
  }
}
