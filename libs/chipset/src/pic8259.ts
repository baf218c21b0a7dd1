/**
 * One Intel 8259A programmable interrupt controller. References are to the 8259A
 * datasheet (Intel 231468): "Initialization Command Words" (Figure 6-7), "Operation
 * Command Words" (Figure 8), "Priority Modes", "End of Interrupt", "Special Mask Mode",
 * "Poll Command", "Reading the 8259A Status", "Edge and Level Triggered Modes".
 *
 * This class is one chip and knows nothing of cascading beyond ICW3's bits;
 * Pic8259Pair wires a master and a slave together, with the PIIX3 ELCR.
 * Port offsets: 0 = A0 low (ICW1, OCW2, OCW3; reads IRR/ISR/poll), 1 = A0 high (ICW2-4,
 * OCW1; reads IMR).
 *
 * Edge-triggered requests are latched in IRR until acknowledged (or until the chip is
 * initialised), so a raise-then-lower pulse, the DeviceHost convention for edge
 * interrupts, is never lost. The real chip drops a request whose line falls before INTA.
 */
import { DeviceStateError } from '@quasivm/device-sdk';
import { StateReader } from './state-reader.js';

/** ICW1 (port offset 0, D4 = 1). */
export const ICW1_INIT = 0x10;
export const ICW1_IC4 = 0x01; // ICW4 needed
export const ICW1_SNGL = 0x02; // single (no ICW3)
export const ICW1_ADI = 0x04; // call address interval (8080 only)
export const ICW1_LTIM = 0x08; // level triggered mode
/** ICW4. */
export const ICW4_UPM = 0x01; // 8086/8088 mode
export const ICW4_AEOI = 0x02; // automatic end of interrupt
export const ICW4_MS = 0x04; // buffered master/slave
export const ICW4_BUF = 0x08; // buffered mode
export const ICW4_SFNM = 0x10; // special fully nested mode
/** OCW2 (port offset 0, D4:D3 = 00): R, SL, EOI in bits 7:5, level in 2:0. */
export const OCW2_NON_SPECIFIC_EOI = 0x20;
export const OCW2_NOP = 0x40;
export const OCW2_SPECIFIC_EOI = 0x60;
export const OCW2_ROTATE_AEOI_CLEAR = 0x00;
export const OCW2_ROTATE_NON_SPECIFIC_EOI = 0xa0;
export const OCW2_ROTATE_AEOI_SET = 0x80;
export const OCW2_ROTATE_SPECIFIC_EOI = 0xe0;
export const OCW2_SET_PRIORITY = 0xc0;
export const OCW2_COMMAND_MASK = 0xe0;
export const OCW2_LEVEL_MASK = 0x07;
/** OCW3 (port offset 0, D4:D3 = 01). */
export const OCW3_SELECT = 0x08;
export const OCW3_RIS = 0x01; // read ISR (with RR)
export const OCW3_RR = 0x02; // read register command
export const OCW3_POLL = 0x04;
export const OCW3_SMM = 0x20; // special mask mode (with ESMM)
export const OCW3_ESMM = 0x40;
/** The poll word's "interrupt present" bit. */
export const POLL_INTERRUPT = 0x80;
/** IR7 is what a chip answers when a request vanished before INTA (spurious). */
export const SPURIOUS_IR = 7;

export interface Pic8259State {
  irr: number;
  isr: number;
  imr: number;
  lines: number;
  elcr: number;
  vectorBase: number;
  lowestPriority: number;
  icw3: number;
  initStep: number; // 0 = ready; 2, 3, 4 = the ICW expected next
  needIcw4: boolean;
  single: boolean;
  levelTriggered: boolean; // ICW1 LTIM
  autoEoi: boolean;
  rotateOnAutoEoi: boolean;
  specialFullyNested: boolean;
  specialMask: boolean;
  readIsr: boolean;
  poll: boolean;
}

export class Pic8259 {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Current levels of the eight IR inputs. */
  lines = 0;
  /**
   * Edge inputs whose request is withdrawn when the line falls before INTA, as on the real
   * chip. Used for the slave's INT on master IR2, which is a level, not a device pulse.
   */
  dropOnFall = 0;
  /** Per-input level-trigger bits (PIIX3 ELCR), ORed with ICW1 LTIM. */
  elcr = 0;
  vectorBase = 0;
  /** The IR with the lowest priority; the next one up has the highest. IR7 after init. */
  lowestPriority = 7;
  icw3 = 0;
  initStep = 0;
  needIcw4 = false;
  single = false;
  levelTriggered = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  specialMask = false;
  readIsr = false;
  poll = false;

  constructor(
    /** Whether this chip is the master (special fully nested mode applies to its ICW3 inputs). */
    private readonly isMaster: boolean,
  ) {}

  /** Drive IR input `ir` to `level`. */
  setLine(ir: number, level: boolean): void {
    const bit = 1 << ir;
    const was = (this.lines & bit) !== 0;
    if (level) this.lines |= bit;
    else this.lines &= ~bit;
    if (this.isLevel(ir)) {
      // Level mode: the request follows the line.
      if (level) this.irr |= bit;
      else this.irr &= ~bit;
    } else if (level && !was) {
      this.irr |= bit; // rising edge, latched until INTA
    } else if (!level && this.dropOnFall & bit) {
      this.irr &= ~bit; // the chip's own behaviour: a request must stay high until INTA
    }
  }

  /** The IR that would be delivered now, or -1. */
  pendingIr(): number {
    const requests = this.irr & ~this.imr;
    if (requests === 0) return -1;
    const candidate = this.highestPriority(requests);
    // In special mask mode only the in-service bits of unmasked levels block.
    let inService = this.specialMask ? this.isr & ~this.imr : this.isr;
    // Special fully nested: the master lets a slave interrupt through while the slave's
    // IR is in service, so higher-priority slave requests can nest.
    if (this.isMaster && this.specialFullyNested) inService &= ~this.icw3;
    if (inService === 0) return candidate;
    if (this.specialMask) {
      return (inService & (1 << candidate)) === 0 ? candidate : this.highestPriority(requests & ~inService);
    }
    const current = this.highestPriority(inService);
    return this.priorityOf(candidate) < this.priorityOf(current) ? candidate : -1;
  }

  /**
   * INTA: take the IR `ir` (from pendingIr()), or -1 when the request vanished, which
   * yields the spurious IR7 without setting ISR. Returns the IR taken.
   */
  acknowledge(ir: number): number {
    if (ir < 0) return SPURIOUS_IR;
    const bit = 1 << ir;
    // Edge mode: the latched request is consumed. Level mode: IRR keeps following the line.
    if (!this.isLevel(ir)) this.irr &= ~bit;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.lowestPriority = ir;
    } else {
      this.isr |= bit;
    }
    return ir;
  }

  /** The vector for IR `ir` (8086 mode: ICW2 bits 7:3 plus the IR number). */
  vector(ir: number): number {
    return (this.vectorBase & 0xf8) | ir;
  }

  writeCommand(value: number): void {
    if (value & ICW1_INIT) {
      this.initialise(value);
    } else if (value & OCW3_SELECT) {
      this.writeOcw3(value);
    } else {
      this.writeOcw2(value);
    }
  }

  writeData(value: number): void {
    switch (this.initStep) {
      case 2:
        this.vectorBase = value & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? 4 : 0) : 3;
        return;
      case 3:
        this.icw3 = value;
        this.initStep = this.needIcw4 ? 4 : 0;
        return;
      case 4:
        this.autoEoi = (value & ICW4_AEOI) !== 0;
        this.specialFullyNested = (value & ICW4_SFNM) !== 0;
        this.initStep = 0;
        return;
      default:
        this.imr = value; // OCW1
    }
  }

  /** Read at offset 0: the poll word after a poll command, else IRR or ISR per OCW3. */
  readCommand(): number {
    if (this.poll) {
      this.poll = false;
      const ir = this.pendingIr();
      if (ir < 0) return 0;
      this.acknowledge(ir);
      return POLL_INTERRUPT | ir;
    }
    return this.readIsr ? this.isr : this.irr;
  }

  readData(): number {
    return this.imr;
  }

  /** The highest-priority IR in the in-service register, or -1. */
  highestInService(): number {
    return this.isr === 0 ? -1 : this.highestPriority(this.isr);
  }

  save(): Pic8259State {
    return {
      irr: this.irr, isr: this.isr, imr: this.imr, lines: this.lines, elcr: this.elcr, vectorBase: this.vectorBase,
      lowestPriority: this.lowestPriority, icw3: this.icw3, initStep: this.initStep, needIcw4: this.needIcw4,
      single: this.single, levelTriggered: this.levelTriggered, autoEoi: this.autoEoi, rotateOnAutoEoi: this.rotateOnAutoEoi,
      specialFullyNested: this.specialFullyNested, specialMask: this.specialMask, readIsr: this.readIsr, poll: this.poll,
    };
  }

  /** Validate a saved chip (throws DeviceStateError). */
  static parse(r: StateReader): Pic8259State {
    const s: Pic8259State = {
      irr: r.byte('irr'), isr: r.byte('isr'), imr: r.byte('imr'), lines: r.byte('lines'), elcr: r.byte('elcr'),
      vectorBase: r.byte('vectorBase'), lowestPriority: r.int('lowestPriority', 0, 7), icw3: r.byte('icw3'),
      initStep: r.int('initStep', 0, 4), needIcw4: r.bool('needIcw4'), single: r.bool('single'),
      levelTriggered: r.bool('levelTriggered'), autoEoi: r.bool('autoEoi'), rotateOnAutoEoi: r.bool('rotateOnAutoEoi'),
      specialFullyNested: r.bool('specialFullyNested'), specialMask: r.bool('specialMask'), readIsr: r.bool('readIsr'),
      poll: r.bool('poll'),
    };
    if (s.initStep === 1) throw new DeviceStateError('pic8259: initStep 1 does not exist (ICW1 starts initialisation)');
    if (s.vectorBase & 0x07) throw new DeviceStateError('pic8259: vectorBase must be a multiple of 8');
    return s;
  }

  load(s: Pic8259State): void {
    Object.assign(this, s);
  }

  // --- internals ---

  private isLevel(ir: number): boolean {
    return this.levelTriggered || (this.elcr & (1 << ir)) !== 0;
  }

  /** 0 = highest priority. */
  private priorityOf(ir: number): number {
    return (ir - this.lowestPriority - 1 + 16) & 7;
  }

  private highestPriority(bits: number): number {
    for (let p = 0; p < 8; p++) {
      const ir = (this.lowestPriority + 1 + p) & 7;
      if (bits & (1 << ir)) return ir;
    }
    return -1;
  }

  private initialise(icw1: number): void {
    this.needIcw4 = (icw1 & ICW1_IC4) !== 0;
    this.single = (icw1 & ICW1_SNGL) !== 0;
    this.levelTriggered = (icw1 & ICW1_LTIM) !== 0;
    // Datasheet "Initialization Command Words": edge sense reset, IMR cleared, IR7 lowest
    // priority, slave address 7, special mask mode cleared, status read set to IRR, and
    // ICW4 functions cleared when IC4 = 0. ISR and latched requests are cleared as well.
    this.imr = 0;
    this.isr = 0;
    this.irr = 0;
    for (let ir = 0; ir < 8; ir++) if (this.isLevel(ir) && this.lines & (1 << ir)) this.irr |= 1 << ir;
    this.lowestPriority = 7;
    this.specialMask = false;
    this.readIsr = false;
    this.poll = false;
    this.rotateOnAutoEoi = false;
    this.autoEoi = false;
    this.specialFullyNested = false;
    this.initStep = 2;
  }

  private writeOcw2(value: number): void {
    const level = value & OCW2_LEVEL_MASK;
    switch (value & OCW2_COMMAND_MASK) {
      case OCW2_NON_SPECIFIC_EOI:
      case OCW2_ROTATE_NON_SPECIFIC_EOI: {
        const ir = this.highestInService();
        if (ir < 0) return;
        this.isr &= ~(1 << ir);
        if ((value & OCW2_COMMAND_MASK) === OCW2_ROTATE_NON_SPECIFIC_EOI) this.lowestPriority = ir;
        return;
      }
      case OCW2_SPECIFIC_EOI:
        this.isr &= ~(1 << level);
        return;
      case OCW2_ROTATE_SPECIFIC_EOI:
        this.isr &= ~(1 << level);
        this.lowestPriority = level;
        return;
      case OCW2_SET_PRIORITY:
        this.lowestPriority = level;
        return;
      case OCW2_ROTATE_AEOI_SET:
        this.rotateOnAutoEoi = true;
        return;
      case OCW2_ROTATE_AEOI_CLEAR:
        this.rotateOnAutoEoi = false;
        return;
      default: // OCW2_NOP
        return;
    }
  }

  private writeOcw3(value: number): void {
    if (value & OCW3_POLL) this.poll = true;
    if (value & OCW3_RR) this.readIsr = (value & OCW3_RIS) !== 0;
    if (value & OCW3_ESMM) this.specialMask = (value & OCW3_SMM) !== 0;
  }
}
