import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { CS } from '../registers.js';
import { attributesDpl, descriptorAttributes, descriptorLimit, isCode, isConformingCode, isPresent } from './descriptor.js';
import { isNullSelector, readDescriptor, type RawDescriptor } from './descriptor-tables.js';
import { setFromDescriptor } from './segment-load.js';

/** A code segment descriptor that passed the type and presence checks. */
export interface CodeTarget {
  descriptor: RawDescriptor;
  attributes: number;
  dpl: number;
  conforming: boolean;
}

/** Reads and checks that `selector` names a present code segment (#GP/#NP with the selector otherwise). */
export function readCodeSegment(cpu: Cpu, selector: number, ext = 0): CodeTarget {
  if (isNullSelector(selector)) throw new CpuFault(Vector.GeneralProtection, ext);
  const descriptor = readDescriptor(cpu, selector, ext);
  const attributes = descriptorAttributes(descriptor.high);
  const code = (selector & 0xfffc) | ext;
  if (!isCode(attributes)) throw new CpuFault(Vector.GeneralProtection, code);
  const target = { descriptor, attributes, dpl: attributesDpl(attributes), conforming: isConformingCode(attributes) };
  if (!isPresent(attributes)) throw new CpuFault(Vector.SegmentNotPresent, code);
  return target;
}

/**
 * The privilege rule for a direct JMP/CALL to a code segment: conforming code
 * needs DPL <= CPL, non-conforming code needs RPL <= CPL and DPL == CPL.
 */
export function checkDirectTarget(cpu: Cpu, selector: number, target: CodeTarget): void {
  const ok = target.conforming ? target.dpl <= cpu.cpl : (selector & 3) <= cpu.cpl && target.dpl === cpu.cpl;
  if (!ok) throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
}

/** Loads CS with RPL = `level`, makes `level` the CPL and jumps to `offset` (#GP(0) past the limit). */
export function enterCodeSegment(cpu: Cpu, selector: number, target: CodeTarget, level: number, offset: number): void {
  if (offset > descriptorLimit(target.descriptor.low, target.descriptor.high)) throw new CpuFault(Vector.GeneralProtection, 0);
  setFromDescriptor(cpu, CS, (selector & 0xfffc) | level, target.descriptor);
  cpu.setCpl(level);
  cpu.eip = offset >>> 0;
}
