/**
 * The PC timer block as one DeviceModel: an Intel 8254 at ports 0x40-0x43 and system
 * control port B at 0x61, wired as on the PC/AT:
 *   - every CLK input runs at 105/88 MHz (clock.ts), derived from the guest time `now`;
 *   - counters 0 and 1 have GATE tied high; counter 2's GATE is port B bit 0;
 *   - counter 0's OUT is IRQ0, delivered by the host from deadlines (never one message per tick);
 *   - counter 2's OUT, enabled by port B bit 1, is the speaker; port B bit 5 reads it back.
 *
 * IRQ0 deadlines: the model tells the host the guest time of the next rising edge of OUT0
 * and, for modes 2 and 3, the period, and revises that whenever the guest reprograms
 * counter 0 (a deadline that can no longer fire is cancelled with `at = null`).
 * Rounding: edge k of the sequence is exactly at pulse P0 + k*N, i.e. (P0 + k*N) * 88000/105
 * ns. `at` is the first whole ns at or after the instant of edge 0 (at most 1 ns late), and
 * `periodNs` is N * 88000/105 as an unrounded double (54 925 409.5238... ns for N = 65536,
 * 999 847.619... ns for N = 1193). Delivering edge k at ceil(at + k * periodNs) lands within
 * 1 ns after the first whole ns of the exact edge, with no drift. Adding the unrounded
 * period to a running double instead costs up to half an ulp per addition (about 1e-4 ns
 * at an hour of guest time), which can add up over millions of periods: prefer multiplying.
 * Rounding the period to whole ns would drift: +0.38 ns per period at 1000 Hz, 33 ms a day.
 */
import { allOnes, type AccessSize, type CounterForecast, type DeviceHost, type DeviceModel, type DeviceState, type GuestTimeNs, type StatusForecast } from '@quasivm/device-sdk';
import { MAX_GUEST_TIME_NS, NS_PER_BLOCK, PIT_CLOCK_HZ, PULSES_PER_BLOCK, pulsesAt, pulsesToNs, timeOfPulse } from './clock.js';
import { Pit8254, PIT_COUNTER0, PIT_COUNTER2 } from './pit8254.js';
import { PORT_B_REFRESH_TOGGLE, PORT_B_TIMER2_OUT, REFRESH_TOGGLE_PULSES, SystemControlPortB } from './port-b.js';
import { PIT_PORTS, PORT_B_PORTS, SPEAKER_COUNTER, SYSTEM_TIMER_COUNTER, TIMER_IRQ } from './ports.js';
import { parseTimerState, TIMER_STATE_DEVICE, TIMER_STATE_VERSION, type Irq0Deadline, type TimerState } from './state.js';

/** Accesses the model ignored, per instance (never module-level). */
export interface TimerAccessCounters {
  /** Accesses wider than one byte: the 8254 and port B are 8-bit registers. */
  badWidth: number;
  /** Accesses to a port this model does not own. */
  unknownPort: number;
  /** Reads of the write-only control word register (a no-operation, reads 0xFF). */
  controlRegisterReads: number;
  /** Accesses whose `now` was earlier than a previous one (or NaN): treated as the latest time. */
  timeWentBackwards: number;
  /** Accesses whose `now` was beyond MAX_GUEST_TIME_NS: treated as that time. */
  timeOutOfRange: number;
}

export class TimerDevice implements DeviceModel {
  private readonly pit = new Pit8254();
  private readonly portB = new SystemControlPortB();
  private timeNs = 0;
  private irq0: Irq0Deadline | null = null;
  private irq0Dirty = false;
  private speakerHz = 0;
  private readonly ignored = { badWidth: 0, unknownPort: 0, timeWentBackwards: 0, timeOutOfRange: 0 };

  constructor(private readonly host: DeviceHost) {
    this.pit.setGate(SPEAKER_COUNTER, this.portB.timer2Gate);
  }

  get counters(): TimerAccessCounters {
    return { ...this.ignored, controlRegisterReads: this.pit.controlRegisterReads };
  }

  /** The speaker frequency last announced (0 = silent). */
  get speakerFrequencyHz(): number {
    return this.speakerHz;
  }

  /** The chip itself, for inspection by tests and tools (drive it through the ports). */
  get chip(): Pit8254 {
    return this.pit;
  }

  /** The IRQ0 deadline as last given to the host, in pulses (null: none pending). */
  get irq0Deadline(): Irq0Deadline | null {
    return this.irq0 === null ? null : { ...this.irq0 };
  }

  ioRead(port: number, size: AccessSize, now: GuestTimeNs): number {
    this.advance(now);
    const value = this.readPort(port, size);
    // Even an ignored access moved time on: a one-shot deadline may have passed with another edge behind it.
    this.syncIrq0();
    return value;
  }

  private readPort(port: number, size: AccessSize): number {
    if (port >= PIT_PORTS.base && port < PIT_PORTS.base + PIT_PORTS.length) {
      if (size !== 1) return this.badWidth(size);
      return this.pit.read(port - PIT_PORTS.base);
    }
    if (port === PORT_B_PORTS.base) {
      if (size !== 1) return this.badWidth(size);
      return this.portB.read(this.pit.pulses, this.pit.out(SPEAKER_COUNTER));
    }
    this.ignored.unknownPort++;
    return allOnes(size);
  }

  /**
   * After a read of a counter's port: the next reads of it, while that counter runs down
   * linearly (PitCounter.linearReads), as a count against the PIT clock (clock.ts: pulse k
   * at k * 88000/105 ns, so pulses(t) = floor(t * 105 / 88000)).
   */
  counterForecast(port: number): CounterForecast | null {
    const offset = port - PIT_PORTS.base;
    if (offset < PIT_COUNTER0 || offset > PIT_COUNTER2) return null;
    const linear = this.pit.counters[offset].linearReads();
    if (linear === null) return null;
    return { port, tick: this.pit.pulses, count: linear.count, modulus: 0x10000, tickNum: PULSES_PER_BLOCK, tickDen: NS_PER_BLOCK, bytes: linear.bytes };
  }

  /**
   * After a read of port B: its next reads (proto StatusForecast) while counter 2 is in mode
   * 0 or 1, where OUT2 only rises once (at the terminal count) or stays as it is, and the
   * refresh toggle follows the PIT clock (port-b.ts). SeaBIOS's TSC calibration polls port B
   * for OUT2 this way; other modes make OUT2 periodic, and no forecast is offered.
   */
  statusForecast(port: number): StatusForecast | null {
    if (port !== PORT_B_PORTS.base) return null;
    const counter = this.pit.counters[SPEAKER_COUNTER];
    if (counter.mode !== 0 && counter.mode !== 1) return null;
    const out = this.pit.out(SPEAKER_COUNTER);
    const edges = out ? null : counter.nextRisingEdges();
    if (edges !== null && edges.period !== null) return null;
    // The latched bits as they read now, with neither the toggle nor OUT2 set.
    const fixed = this.portB.read(0, out);
    return {
      port,
      fixed,
      toggleMask: PORT_B_REFRESH_TOGGLE,
      togglePeriod: REFRESH_TOGGLE_PULSES,
      riseMask: edges !== null ? PORT_B_TIMER2_OUT : 0,
      riseTick: edges !== null ? this.pit.pulses + edges.first : 0,
      tickNum: PULSES_PER_BLOCK,
      tickDen: NS_PER_BLOCK,
    };
  }

  ioWrite(port: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    this.advance(now);
    this.writePort(port, size, value);
    this.syncIrq0();
    this.syncSpeaker();
  }

  private writePort(port: number, size: AccessSize, value: number): void {
    if (port >= PIT_PORTS.base && port < PIT_PORTS.base + PIT_PORTS.length) {
      if (size !== 1) {
        this.badWidth(size);
        return;
      }
      this.pit.write(port - PIT_PORTS.base, value);
      this.irq0Dirty = true;
    } else if (port === PORT_B_PORTS.base) {
      if (size !== 1) {
        this.badWidth(size);
        return;
      }
      this.portB.write(value);
      this.pit.setGate(SPEAKER_COUNTER, this.portB.timer2Gate);
    } else {
      this.ignored.unknownPort++;
    }
  }

  saveState(): TimerState {
    return {
      device: TIMER_STATE_DEVICE,
      version: TIMER_STATE_VERSION,
      timeNs: this.timeNs,
      pit: this.pit.toState(),
      portB: this.portB.toState(),
      irq0Deadline: this.irq0 === null ? null : { ...this.irq0 },
    };
  }

  /**
   * Restore a saved state. The host is told the saved IRQ0 deadline again (a fresh host, e.g.
   * after moving the device, has none), unless it was a one-shot already due at the saved
   * time; and the speaker frequency is announced if it differs from what this instance said.
   */
  loadState(state: DeviceState): void {
    const s = parseTimerState(state);
    this.timeNs = s.timeNs;
    this.pit.fromState(s.pit, pulsesAt(s.timeNs));
    this.portB.fromState(s.portB);
    this.irq0 = s.irq0Deadline;
    this.irq0Dirty = false;
    const pulse = this.pit.pulses;
    if (this.irq0 !== null && (this.irq0.periodPulses !== null || this.irq0.atPulse > pulse)) {
      this.host.setIrqDeadline(TIMER_IRQ, timeOfPulse(this.irq0.atPulse), this.irq0.periodPulses === null ? undefined : pulsesToNs(this.irq0.periodPulses));
    } else {
      this.host.setIrqDeadline(TIMER_IRQ, null);
    }
    this.syncSpeaker();
  }

  private badWidth(size: AccessSize): number {
    this.ignored.badWidth++;
    return allOnes(size);
  }

  /** Take `now` as the guest time (clamped: never backwards, never past MAX_GUEST_TIME_NS) and bring the chip there. */
  private advance(now: GuestTimeNs): void {
    let t = now;
    if (!(t >= this.timeNs)) {
      this.ignored.timeWentBackwards++;
      t = this.timeNs;
    } else if (t > MAX_GUEST_TIME_NS) {
      this.ignored.timeOutOfRange++;
      t = MAX_GUEST_TIME_NS;
    }
    this.timeNs = t;
    this.pit.advanceTo(pulsesAt(t));
  }

  /**
   * Keep the host's IRQ0 deadline equal to the next rising edges of OUT0. Recomputed after
   * a write to the chip, and after a one-shot deadline has passed (in mode 4 a second edge
   * can follow), which the model notices at the guest's next access of any port or width.
   * A periodic sequence that still matches is not sent again.
   */
  private syncIrq0(): void {
    const pulse = this.pit.pulses;
    const fired = this.irq0 !== null && this.irq0.periodPulses === null && this.irq0.atPulse <= pulse;
    if (!this.irq0Dirty && !fired) return;
    this.irq0Dirty = false;
    const edges = this.pit.nextRisingEdges(SYSTEM_TIMER_COUNTER);
    const next: Irq0Deadline | null = edges === null ? null : { atPulse: edges.at, periodPulses: edges.period };
    const old = this.irq0;
    if (next === null) {
      this.irq0 = null;
      if (old !== null && !fired) this.host.setIrqDeadline(TIMER_IRQ, null);
      return;
    }
    if (old !== null && !fired && sameEdges(old, next)) return;
    this.irq0 = next;
    this.host.setIrqDeadline(TIMER_IRQ, timeOfPulse(next.atPulse), next.periodPulses === null ? undefined : pulsesToNs(next.periodPulses));
  }

  /** Announce the speaker tone: counter 2 in mode 2 or 3 with GATE and speaker data enabled. */
  private syncSpeaker(): void {
    let hz = 0;
    if (this.portB.timer2Gate && this.portB.speakerData) {
      const n = this.pit.counters[SPEAKER_COUNTER].periodicCount;
      if (n !== null && n > 1) hz = PIT_CLOCK_HZ / n;
    }
    if (hz === this.speakerHz) return;
    this.speakerHz = hz;
    this.host.emitEvent('speaker', { hz });
  }
}

/** Whether two deadlines describe the same future edges (the later one is part of the earlier sequence). */
function sameEdges(a: Irq0Deadline, b: Irq0Deadline): boolean {
  if (a.periodPulses !== b.periodPulses) return false;
  if (a.periodPulses === null) return a.atPulse === b.atPulse;
  return b.atPulse >= a.atPulse && (b.atPulse - a.atPulse) % a.periodPulses === 0;
}
