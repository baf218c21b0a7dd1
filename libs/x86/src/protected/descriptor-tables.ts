import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { ACCESSED } from './descriptor.js';

/** Selector fields (Intel SDM vol. 3, section 3.4.2). */
export const SELECTOR_RPL = 3;
export const SELECTOR_LDT = 4;

/** The two dwords of a descriptor and where it lives (for setting the accessed/busy bits). */
export interface RawDescriptor {
  low: number;
  high: number;
  /** Linear address of the descriptor. */
  address: number;
}

/** Null selector: index 0 in the GDT (RPL ignored). */
export function isNullSelector(selector: number): boolean {
  return (selector & 0xfffc) === 0;
}

/**
 * Reads the descriptor a selector names, from the GDT or (TI set) the LDT.
 * A selector past the table's limit raises `vector` (default #GP) with the
 * selector as error code, plus EXT when an event outside the program caused it.
 */
export function readDescriptor(cpu: Cpu, selector: number, ext = 0, vector: number = Vector.GeneralProtection): RawDescriptor {
  const index = selector & 0xfff8;
  let base: number;
  let limit: number;
  if ((selector & SELECTOR_LDT) !== 0) {
    if (cpu.ldtr.attributes === 0) throw new CpuFault(vector, (selector & 0xfffc) | ext);
    base = cpu.ldtr.base;
    limit = cpu.ldtr.limit;
  } else {
    base = cpu.gdtrBase;
    limit = cpu.gdtrLimit;
  }
  if (index + 7 > limit) throw new CpuFault(vector, (selector & 0xfffc) | ext);
  const address = (base + index) >>> 0;
  return { low: cpu.memory.readSystem32(address), high: cpu.memory.readSystem32((address + 4) >>> 0), address };
}

/** Sets the accessed bit of a code or data descriptor in memory, as a segment load does. */
export function markAccessed(cpu: Cpu, descriptor: RawDescriptor): void {
  const accessedBit = ACCESSED << 8;
  if ((descriptor.high & accessedBit) === 0) {
    descriptor.high = (descriptor.high | accessedBit) >>> 0;
    cpu.memory.writeSystem32((descriptor.address + 4) >>> 0, descriptor.high);
  }
}
