/**
 * The PC/AT's two cascaded 8259A interrupt controllers (master 0x20/0x21, slave
 * 0xA0/0xA1, slave INT on master IR2) with the PIIX3 Edge/Level Control Registers
 * (ELCR1 0x4D0 for IRQ0-7, ELCR2 0x4D1 for IRQ8-15; 82371SB datasheet, "ELCR1/ELCR2 -
 * Edge/Level Control Registers"). This is the interrupt controller of the software CPU backend; the
 * KVM backend uses the in-kernel one.
 *
 * CPU interface: setIrq(line, level) from devices, hasInterrupt() at instruction
 * boundaries (and onIntChange when the INT output changes), acknowledge() for INTA,
 * which returns the vector, or the master's spurious IRQ7 vector when the request went
 * away before INTA. INTA is one atomic call here, so the slave's spurious IRQ15 (a slave
 * request vanishing between the two INTA pulses) cannot arise; the slave still answers
 * IR7 without setting ISR if it had nothing when asked.
 * Master IR2 follows the slave's INT output: a request withdrawn on the slave withdraws
 * the master's IR2 request too (the 8259A drops an edge request that falls before INTA).
 *
 * State: both chips (registers, init sequence position, modes, input levels) and ELCR.
 * Not state: the onIntChange callback, access counters.
 */
import { allOnes, type AccessSize, type DeviceModel, type DeviceState, type GuestTimeNs } from '@quasivm/device-sdk';
import { Pic8259 } from './pic8259.js';
import { PIC_CASCADE_IRQ, PIC_ELCR_PORTS, PIC_MASTER_PORTS, PIC_SLAVE_PORTS } from './ports.js';
import { AccessCounters, StateReader } from './state-reader.js';

/** ELCR bits that can be set: IRQ0, 1, 2, 8 and 13 are always edge-triggered (PIIX3 ELCR). */
export const ELCR1_WRITABLE = 0xf8;
export const ELCR2_WRITABLE = 0xde;
export const PIC_LINES = 16;

export interface Pic8259PairConfig {
  masterBase?: number;
  slaveBase?: number;
  elcrBase?: number;
  /** The INT output to the CPU changed. */
  onIntChange?: (asserted: boolean) => void;
}

const STATE_NAME = 'pic8259-pair';
const STATE_VERSION = 1;

export class Pic8259Pair implements DeviceModel {
  readonly masterBase: number;
  readonly slaveBase: number;
  readonly elcrBase: number;
  readonly counters = new AccessCounters();
  private readonly master = new Pic8259(true);
  private readonly slave = new Pic8259(false);
  private readonly onIntChange: (asserted: boolean) => void;
  private intOutput = false;

  constructor(config: Pic8259PairConfig = {}) {
    this.masterBase = config.masterBase ?? PIC_MASTER_PORTS.base;
    this.slaveBase = config.slaveBase ?? PIC_SLAVE_PORTS.base;
    this.elcrBase = config.elcrBase ?? PIC_ELCR_PORTS.base;
    this.onIntChange = config.onIntChange ?? (() => {});
    this.master.dropOnFall = 1 << PIC_CASCADE_IRQ;
  }

  /** Drive ISA interrupt line 0-15. Lines outside that range are counted and ignored. */
  setIrq(line: number, level: boolean): void {
    if (!Number.isInteger(line) || line < 0 || line >= PIC_LINES) {
      this.counters.unknownRegister++;
      return;
    }
    if (line < 8) this.master.setLine(line, level);
    else this.slave.setLine(line - 8, level);
    this.update();
  }

  /** Whether the INT output to the CPU is asserted. */
  hasInterrupt(): boolean {
    return this.master.pendingIr() >= 0;
  }

  /** INTA cycle: the vector of the highest-priority request. */
  acknowledge(): number {
    const ir = this.master.pendingIr();
    let vector: number;
    if (ir === PIC_CASCADE_IRQ && this.master.icw3 & (1 << PIC_CASCADE_IRQ) && !this.master.single) {
      this.master.acknowledge(ir);
      const sir = this.slave.pendingIr();
      vector = this.slave.vector(this.slave.acknowledge(sir));
    } else {
      vector = this.master.vector(this.master.acknowledge(ir));
    }
    this.update();
    return vector;
  }

  /** Interrupt mask of lines 0-15 (bit n = line n masked), for diagnostics. */
  get mask(): number {
    return this.master.imr | (this.slave.imr << 8);
  }

  /** In-service lines 0-15, for diagnostics. */
  get inService(): number {
    return this.master.isr | (this.slave.isr << 8);
  }

  ioRead(port: number, size: AccessSize, _now: GuestTimeNs): number {
    const target = this.decode(port, size);
    if (!target) return allOnes(size);
    let value: number;
    if (target.elcr) value = target.chip.elcr;
    else value = target.offset === 0 ? target.chip.readCommand() : target.chip.readData();
    this.update();
    return value;
  }

  ioWrite(port: number, size: AccessSize, value: number, _now: GuestTimeNs): void {
    const target = this.decode(port, size);
    if (!target) return;
    value &= 0xff;
    if (target.elcr) target.chip.elcr = value & (target.chip === this.master ? ELCR1_WRITABLE : ELCR2_WRITABLE);
    else if (target.offset === 0) target.chip.writeCommand(value);
    else target.chip.writeData(value);
    // Level-sensitive inputs that are high now request at once.
    for (let ir = 0; ir < 8; ir++) target.chip.setLine(ir, (target.chip.lines & (1 << ir)) !== 0);
    this.update();
  }

  saveState(): DeviceState {
    return { device: STATE_NAME, version: STATE_VERSION, master: { ...this.master.save() }, slave: { ...this.slave.save() } };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader(state, STATE_NAME, STATE_VERSION);
    const master = Pic8259.parse(r.obj('master'));
    const slave = Pic8259.parse(r.obj('slave'));
    this.master.load(master);
    this.slave.load(slave);
    this.update();
  }

  private decode(port: number, size: AccessSize): { chip: Pic8259; offset: number; elcr: boolean } | null {
    let target: { chip: Pic8259; offset: number; elcr: boolean } | null = null;
    if (port === this.masterBase || port === this.masterBase + 1) target = { chip: this.master, offset: port - this.masterBase, elcr: false };
    else if (port === this.slaveBase || port === this.slaveBase + 1) target = { chip: this.slave, offset: port - this.slaveBase, elcr: false };
    else if (port === this.elcrBase) target = { chip: this.master, offset: 0, elcr: true };
    else if (port === this.elcrBase + 1) target = { chip: this.slave, offset: 1, elcr: true };
    if (!target) {
      this.counters.unknownRegister++;
      return null;
    }
    if (size !== 1) {
      this.counters.badWidth++;
      return null;
    }
    return target;
  }

  /** Propagate the slave's INT to master IR2 and the master's INT to the CPU. */
  private update(): void {
    this.master.setLine(PIC_CASCADE_IRQ, this.slave.pendingIr() >= 0);
    const asserted = this.hasInterrupt();
    if (asserted !== this.intOutput) {
      this.intOutput = asserted;
      this.onIntChange(asserted);
    }
  }
}
