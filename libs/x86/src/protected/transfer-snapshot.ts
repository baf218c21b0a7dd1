import type { Cpu } from '../cpu.js';
import { CS, ESP, SS } from '../registers.js';

/**
 * CS, SS, ESP and CPL as they were before a control transfer that switches
 * stacks, so a fault halfway (a push to a bad new stack, say) leaves the
 * processor as the faulting instruction found it.
 */
export class TransferSnapshot {
  private readonly selectors: number[];
  private readonly bases: number[];
  private readonly limits: number[];
  private readonly attributes: number[];
  private readonly esp: number;
  private readonly cpl: number;
  private readonly eip: number;

  constructor(private readonly cpu: Cpu) {
    this.selectors = [cpu.segSelector[CS], cpu.segSelector[SS]];
    this.bases = [cpu.segBase[CS], cpu.segBase[SS]];
    this.limits = [cpu.segLimit[CS], cpu.segLimit[SS]];
    this.attributes = [cpu.segAttr[CS], cpu.segAttr[SS]];
    this.esp = cpu.reg32[ESP];
    this.cpl = cpu.cpl;
    this.eip = cpu.eip;
  }

  restore(): void {
    const cpu = this.cpu;
    [CS, SS].forEach((seg, i) => cpu.setSegmentCache(seg, this.selectors[i], this.bases[i], this.limits[i], this.attributes[i]));
    cpu.reg32[ESP] = this.esp;
    cpu.setCpl(this.cpl);
    cpu.eip = this.eip;
  }
}

/** Runs `transfer`; if it faults, puts CS, SS, ESP, CPL and EIP back before passing the fault on. */
export function withRollback(cpu: Cpu, transfer: () => void): void {
  const snapshot = new TransferSnapshot(cpu);
  try {
    transfer();
  } catch (e) {
    snapshot.restore();
    throw e;
  }
}
