/**
 * System control port B: the PC/AT's port 61h, on PIIX-class chipsets the "NMI Status and
 * Control Register" (Intel 82371AB PIIX4 datasheet, NMISC, I/O 061h; IBM PC/AT Technical
 * Reference, system board I/O port 061h). A plain latch plus read-only status lines:
 *
 *   bit 0  R/W  timer counter 2 GATE (speaker gate)
 *   bit 1  R/W  speaker data enable (counter 2 OUT reaches the speaker)
 *   bit 2  R/W  parity / PCI SERR# check control  (stored, NMI logic not modelled here)
 *   bit 3  R/W  I/O channel check (IOCHK#) control (stored, NMI logic not modelled here)
 *   bit 4  RO   refresh cycle toggle: flips on every DRAM refresh request, about every 15 us
 *   bit 5  RO   counter 2 OUT state
 *   bit 6  RO   IOCHK# NMI source (always 0 here)
 *   bit 7  RO   parity / SERR# NMI source (always 0 here)
 */

export const PORT_B_TIMER2_GATE = 0x01;
export const PORT_B_SPEAKER_DATA = 0x02;
export const PORT_B_CHECK_CONTROL = 0x0c;
export const PORT_B_REFRESH_TOGGLE = 0x10;
export const PORT_B_TIMER2_OUT = 0x20;
/** Bits the guest can write; the rest of a write is ignored. */
const PORT_B_WRITABLE = PORT_B_TIMER2_GATE | PORT_B_SPEAKER_DATA | PORT_B_CHECK_CONTROL;

/**
 * The refresh toggle period in PIT clock pulses: the AT refresh request runs from a divisor
 * of 18 (18 / 1.193182 MHz = 15.09 us). It is derived from the clock pulse count, not from
 * counter 1's programming: chipsets since the PIIX generate refresh independently.
 */
export const REFRESH_TOGGLE_PULSES = 18;

export interface PortBState {
  timer2Gate: boolean;
  speakerData: boolean;
  /** Bits 2-3 as last written. */
  checkControl: number;
}

export class SystemControlPortB {
  timer2Gate = false;
  speakerData = false;
  checkControl = 0;

  write(value: number): void {
    const v = value & PORT_B_WRITABLE;
    this.timer2Gate = (v & PORT_B_TIMER2_GATE) !== 0;
    this.speakerData = (v & PORT_B_SPEAKER_DATA) !== 0;
    this.checkControl = v & PORT_B_CHECK_CONTROL;
  }

  /** The byte the guest reads, given the PIT clock pulse count and counter 2's OUT. */
  read(pulses: number, timer2Out: boolean): number {
    const refresh = Math.floor(pulses / REFRESH_TOGGLE_PULSES) % 2 === 1;
    return (
      (this.timer2Gate ? PORT_B_TIMER2_GATE : 0) |
      (this.speakerData ? PORT_B_SPEAKER_DATA : 0) |
      this.checkControl |
      (refresh ? PORT_B_REFRESH_TOGGLE : 0) |
      (timer2Out ? PORT_B_TIMER2_OUT : 0)
    );
  }

  toState(): PortBState {
    return { timer2Gate: this.timer2Gate, speakerData: this.speakerData, checkControl: this.checkControl };
  }

  fromState(s: PortBState): void {
    this.timer2Gate = s.timer2Gate;
    this.speakerData = s.speakerData;
    this.checkControl = s.checkControl;
  }
}
