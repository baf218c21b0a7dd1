import type { Cpu } from '../../cpu.js';
import { CpuFault, Vector } from '../../cpu-fault.js';
import { decodeModrm } from '../../decode/modrm.js';
import { readRm, writeModrmReg, writeRm } from '../../decode/operands.js';
import { ZF } from '../../flag-bits.js';
import {
  attributesDpl,
  CODE_READABLE,
  DATA_WRITABLE,
  descriptorAttributes,
  descriptorBase,
  descriptorLimit,
  isCodeOrData,
  isConformingCode,
  isData,
  isPresent,
  SystemType,
  systemType,
} from '../../protected/descriptor.js';
import { isNullSelector, readDescriptor, SELECTOR_LDT, type RawDescriptor } from '../../protected/descriptor-tables.js';
import { requireRing0 } from '../../protected/privilege.js';
import type { OpcodeTable } from '../opcode-table.js';

/*
 * 0F 00 group 6 (SLDT, STR, LLDT, LTR, VERR, VERW) and 0F 02/03 LAR/LSL
 * (Intel SDM vol. 2). All of them raise #UD outside protected mode.
 */

function requireProtectedMode(cpu: Cpu): void {
  if (!cpu.protectedMode) throw new CpuFault(Vector.InvalidOpcode);
}

/** A descriptor LAR/LSL/VERR/VERW may look at, or undefined (ZF cleared) when the selector is null or out of range. */
function probeDescriptor(cpu: Cpu, selector: number): RawDescriptor | undefined {
  if (isNullSelector(selector)) return undefined;
  try {
    return readDescriptor(cpu, selector);
  } catch (e) {
    if (e instanceof CpuFault && e.vector === Vector.GeneralProtection) return undefined;
    throw e;
  }
}

/** The visibility rule of LAR/LSL/VERR/VERW: conforming code always, otherwise DPL >= CPL and DPL >= RPL. */
function visible(cpu: Cpu, selector: number, attributes: number): boolean {
  if (isConformingCode(attributes)) return true;
  const dpl = attributesDpl(attributes);
  return dpl >= cpu.cpl && dpl >= (selector & 3);
}

const LAR_SYSTEM_TYPES = new Set([1, 2, 3, 4, 5, 9, 11, 12]);
const LSL_SYSTEM_TYPES = new Set([1, 2, 3, 9, 11]);

/** 0F 02 LAR, 0F 03 LSL: access rights or byte-granular limit of a descriptor, ZF set when valid. */
function loadAccessOrLimit(cpu: Cpu, opcode: number): void {
  requireProtectedMode(cpu);
  decodeModrm(cpu);
  const selector = readRm(cpu, 2);
  const d = probeDescriptor(cpu, selector);
  const attributes = d ? descriptorAttributes(d.high) : 0;
  const types = opcode === 0x02 ? LAR_SYSTEM_TYPES : LSL_SYSTEM_TYPES;
  if (!d || (!isCodeOrData(attributes) && !types.has(systemType(attributes))) || !visible(cpu, selector, attributes)) {
    cpu.flags.assign(ZF, 0);
    return;
  }
  const size = cpu.opSize;
  const value = opcode === 0x02 ? d.high & (size === 2 ? 0xff00 : 0x00ffff00) : descriptorLimit(d.low, d.high);
  writeModrmReg(cpu, size, size === 2 ? value & 0xffff : value >>> 0);
  cpu.flags.assign(ZF, ZF);
}

/** VERR (/4), VERW (/5): may the current level read / write through this selector? */
function verify(cpu: Cpu, selector: number, forWrite: boolean): void {
  const d = probeDescriptor(cpu, selector);
  const attributes = d ? descriptorAttributes(d.high) : 0;
  let ok = d !== undefined && isCodeOrData(attributes) && visible(cpu, selector, attributes);
  if (ok && forWrite) ok = isData(attributes) && (attributes & DATA_WRITABLE) !== 0;
  if (ok && !forWrite) ok = isData(attributes) || (attributes & CODE_READABLE) !== 0;
  cpu.flags.assign(ZF, ok ? ZF : 0);
}

/** LLDT: a GDT selector naming a present LDT descriptor, or null to have no LDT. */
function loadLdt(cpu: Cpu, selector: number): void {
  if (isNullSelector(selector)) {
    cpu.ldtr.clear();
    cpu.ldtr.selector = selector;
    return;
  }
  if ((selector & SELECTOR_LDT) !== 0) throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
  const d = readDescriptor(cpu, selector);
  const attributes = descriptorAttributes(d.high);
  if (isCodeOrData(attributes) || systemType(attributes) !== SystemType.Ldt) throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
  if (!isPresent(attributes)) throw new CpuFault(Vector.SegmentNotPresent, selector & 0xfffc);
  cpu.ldtr.set(selector, descriptorBase(d.low, d.high), descriptorLimit(d.low, d.high), attributes);
}

/** LTR: a GDT selector naming a present, available TSS; the descriptor is marked busy. */
function loadTaskRegister(cpu: Cpu, selector: number): void {
  if (isNullSelector(selector)) throw new CpuFault(Vector.GeneralProtection, 0);
  if ((selector & SELECTOR_LDT) !== 0) throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
  const d = readDescriptor(cpu, selector);
  const attributes = descriptorAttributes(d.high);
  const type = systemType(attributes);
  if (isCodeOrData(attributes) || (type !== SystemType.Tss16Available && type !== SystemType.Tss32Available)) {
    throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
  }
  if (!isPresent(attributes)) throw new CpuFault(Vector.SegmentNotPresent, selector & 0xfffc);
  const busyBit = 0x200; // type 1 -> 3, 9 -> 11
  cpu.memory.writeSystem32((d.address + 4) >>> 0, (d.high | busyBit) >>> 0);
  cpu.tr.set(selector, descriptorBase(d.low, d.high), descriptorLimit(d.low, d.high), attributes | (busyBit >>> 8));
}

/** 0F 00 group 6. */
function group6(cpu: Cpu): void {
  requireProtectedMode(cpu);
  decodeModrm(cpu);
  switch (cpu.modrmReg) {
    case 0: // SLDT
    case 1: // STR
      writeRm(cpu, cpu.modrmMod === 3 ? cpu.opSize : 2, cpu.modrmReg === 0 ? cpu.ldtr.selector : cpu.tr.selector);
      return;
    case 2:
      requireRing0(cpu);
      loadLdt(cpu, readRm(cpu, 2));
      return;
    case 3:
      requireRing0(cpu);
      loadTaskRegister(cpu, readRm(cpu, 2));
      return;
    case 4:
    case 5:
      verify(cpu, readRm(cpu, 2), cpu.modrmReg === 5);
      return;
    default:
      throw new CpuFault(Vector.InvalidOpcode);
  }
}

export function installDescriptorInstructions0F(table: OpcodeTable): void {
  table[0x00] = group6;
  table[0x02] = loadAccessOrLimit;
  table[0x03] = loadAccessOrLimit;
}
