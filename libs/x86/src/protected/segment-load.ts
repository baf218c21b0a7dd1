import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { CS, SS } from '../registers.js';
import {
  attributesDpl,
  CODE_READABLE,
  DATA_WRITABLE,
  descriptorAttributes,
  descriptorBase,
  descriptorLimit,
  isCode,
  isCodeOrData,
  isConformingCode,
  isData,
  isPresent,
} from './descriptor.js';
import { isNullSelector, markAccessed, readDescriptor, type RawDescriptor } from './descriptor-tables.js';

/**
 * MOV/POP Sreg, LDS & co. in protected mode (Intel SDM vol. 2, MOV "Operation"):
 * SS needs a present writable data segment at exactly CPL; DS/ES/FS/GS take a
 * null selector (later accesses fault) or a readable segment whose DPL is at
 * least max(CPL, RPL) unless it is conforming code.
 */
export function loadSegmentProtected(cpu: Cpu, seg: number, selector: number): void {
  if (seg === CS) throw new Error('CS is loaded by far transfers, not loadSegment, in protected mode');
  if (seg === SS) {
    const d = checkStackSegment(cpu, selector, cpu.cpl, 0, Vector.GeneralProtection);
    setFromDescriptor(cpu, SS, selector, d);
    return;
  }
  if (isNullSelector(selector)) {
    cpu.setSegmentCache(seg, selector, 0, 0, 0);
    return;
  }
  const d = readDescriptor(cpu, selector);
  const attributes = descriptorAttributes(d.high);
  const code = selector & 0xfffc;
  if (!isCodeOrData(attributes) || (isCode(attributes) && (attributes & CODE_READABLE) === 0)) throw new CpuFault(Vector.GeneralProtection, code);
  if (!isConformingCode(attributes)) {
    const dpl = attributesDpl(attributes);
    if ((selector & 3) > dpl || cpu.cpl > dpl) throw new CpuFault(Vector.GeneralProtection, code);
  }
  if (!isPresent(attributes)) throw new CpuFault(Vector.SegmentNotPresent, code);
  setFromDescriptor(cpu, seg, selector, d);
}

/**
 * Validates a stack segment for privilege level `level`: selector RPL and
 * descriptor DPL equal to it, writable data, present. Failures raise
 * `vector` (#GP for MOV SS, #TS for stack switches), not-present raises #SS.
 */
export function checkStackSegment(cpu: Cpu, selector: number, level: number, ext: number, vector: number): RawDescriptor {
  if (isNullSelector(selector)) throw new CpuFault(vector, ext);
  const code = (selector & 0xfffc) | ext;
  const d = readDescriptor(cpu, selector, ext, vector);
  const attributes = descriptorAttributes(d.high);
  if ((selector & 3) !== level || attributesDpl(attributes) !== level || !isData(attributes) || (attributes & DATA_WRITABLE) === 0) {
    throw new CpuFault(vector, code);
  }
  if (!isPresent(attributes)) throw new CpuFault(Vector.StackFault, code);
  return d;
}

/** Loads a segment register's cache from a checked descriptor, setting the accessed bit. */
export function setFromDescriptor(cpu: Cpu, seg: number, selector: number, d: RawDescriptor): void {
  markAccessed(cpu, d);
  cpu.setSegmentCache(seg, selector, descriptorBase(d.low, d.high), descriptorLimit(d.low, d.high), descriptorAttributes(d.high));
}

/**
 * After a return to an outer privilege level: data segment registers whose
 * DPL is below the new CPL (other than conforming code) become null, so the
 * less privileged code cannot use them (IRET/RET "Operation").
 */
export function nullInaccessibleSegments(cpu: Cpu, segments: readonly number[]): void {
  for (const seg of segments) {
    const attributes = cpu.segAttr[seg];
    if (!isPresent(attributes)) continue;
    if ((isData(attributes) || !isConformingCode(attributes)) && attributesDpl(attributes) < cpu.cpl) {
      cpu.setSegmentCache(seg, 0, 0, 0, 0);
    }
  }
}
