import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { NT, VM } from '../flag-bits.js';
import { CS, DS, ES, FS, GS, SS } from '../registers.js';
import { readCodeSegment } from './code-segment.js';
import { descriptorAttributes, descriptorBase, descriptorLimit, isCodeOrData, isPresent, SystemType, systemType } from './descriptor.js';
import { isNullSelector, readDescriptor, SELECTOR_LDT, type RawDescriptor } from './descriptor-tables.js';
import { checkStackSegment, loadSegmentProtected, setFromDescriptor } from './segment-load.js';

/** Why a task switch happens: it decides the busy bits, the back link and NT (Intel SDM vol. 3, table 7-2). */
export const enum TaskSwitchReason {
  Jump = 0,
  Call = 1,
  Interrupt = 2,
  Iret = 3,
}

const BUSY_BIT = 0x200;
const CR0_TS = 1 << 3;

/** Offsets in a 32-bit and a 16-bit TSS (figures 7-2 and 7-11). */
const TSS32 = { eip: 0x20, eflags: 0x24, registers: 0x28, segments: 0x48, ldt: 0x60, cr3: 0x1c, minimumLimit: 0x67 };
const TSS16 = { eip: 0x0e, eflags: 0x10, registers: 0x12, segments: 0x22, ldt: 0x2a, cr3: -1, minimumLimit: 0x2b };

function isTss32Type(type: number): boolean {
  return type === SystemType.Tss32Available || type === SystemType.Tss32Busy;
}

function setBusy(cpu: Cpu, descriptor: RawDescriptor, busy: boolean): void {
  descriptor.high = (busy ? descriptor.high | BUSY_BIT : descriptor.high & ~BUSY_BIT) >>> 0;
  cpu.memory.writeSystem32((descriptor.address + 4) >>> 0, descriptor.high);
}

/**
 * Switches to the task whose TSS `selector` names (section 7.3): saves the
 * running task's registers into its TSS, loads the new task's, updates busy
 * bits, NT and the back link as `reason` says, sets CR0.TS and, for an
 * exception with an error code, pushes it on the new task's stack.
 * Segment checks in the new task raise #GP/#NP/#SS rather than #TS.
 * Virtual-8086 tasks are not supported.
 */
export function switchTask(cpu: Cpu, selector: number, reason: TaskSwitchReason, returnEip: number, errorCode?: number): void {
  if ((selector & SELECTOR_LDT) !== 0 || isNullSelector(selector)) throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
  const target = readDescriptor(cpu, selector);
  const attributes = descriptorAttributes(target.high);
  const type = systemType(attributes);
  const wantBusy = reason === TaskSwitchReason.Iret;
  const validType = wantBusy
    ? type === SystemType.Tss32Busy || type === SystemType.Tss16Busy
    : type === SystemType.Tss32Available || type === SystemType.Tss16Available;
  if (isCodeOrData(attributes) || !validType) throw new CpuFault(wantBusy ? Vector.InvalidTss : Vector.GeneralProtection, selector & 0xfffc);
  if (!isPresent(attributes)) throw new CpuFault(Vector.SegmentNotPresent, selector & 0xfffc);
  const newLayout = isTss32Type(type) ? TSS32 : TSS16;
  const newBase = descriptorBase(target.low, target.high);
  const newLimit = descriptorLimit(target.low, target.high);
  if (newLimit < newLayout.minimumLimit) throw new CpuFault(Vector.InvalidTss, selector & 0xfffc);

  // Save the outgoing task.
  const old = cpu.tr;
  const oldLayout = isTss32Type(old.attributes & 0xf) ? TSS32 : TSS16;
  const oldWide = oldLayout === TSS32;
  let flags = cpu.getFlags();
  if (reason === TaskSwitchReason.Iret) flags &= ~NT;
  const write = (offset: number, value: number) =>
    oldWide ? cpu.memory.writeSystem32(old.base + offset, value) : cpu.memory.writeSystem16(old.base + offset, value);
  const step = oldWide ? 4 : 2;
  write(oldLayout.eip, returnEip);
  write(oldLayout.eflags, flags);
  for (let r = 0; r < 8; r++) write(oldLayout.registers + r * step, oldWide ? cpu.reg32[r] : cpu.reg16[r << 1]);
  for (let seg = 0; seg < (oldWide ? 6 : 4); seg++) write(oldLayout.segments + seg * step, cpu.segSelector[seg]);
  if (reason === TaskSwitchReason.Jump || reason === TaskSwitchReason.Iret) {
    setBusy(cpu, readDescriptor(cpu, old.selector), false);
  }

  // Read the incoming task.
  const wide = newLayout === TSS32;
  const read = (offset: number) => (wide ? cpu.memory.readSystem32(newBase + offset) : cpu.memory.readSystem16(newBase + offset));
  const nstep = wide ? 4 : 2;
  const eip = read(newLayout.eip);
  let eflags = read(newLayout.eflags);
  const registers = Array.from({ length: 8 }, (_, r) => read(newLayout.registers + r * nstep));
  const selectors = Array.from({ length: wide ? 6 : 4 }, (_, seg) => read(newLayout.segments + seg * nstep) & 0xffff);
  const ldt = cpu.memory.readSystem16(newBase + newLayout.ldt);
  if ((eflags & VM) !== 0) throw new Error('task switch into virtual-8086 mode is not implemented');
  if (reason === TaskSwitchReason.Call || reason === TaskSwitchReason.Interrupt) {
    cpu.memory.writeSystem16(newBase, old.selector); // back link
    eflags |= NT;
  }
  if (reason !== TaskSwitchReason.Iret) setBusy(cpu, target, true);
  cpu.tr.set(selector, newBase, newLimit, descriptorAttributes(target.high));

  // Load it.
  if (wide && (cpu.cr0 & 0x80000000) !== 0) cpu.setControlRegister3(cpu.memory.readSystem32(newBase + newLayout.cr3));
  cpu.setControlRegister0(cpu.cr0 | CR0_TS);
  cpu.flags.value = (eflags | 2) >>> 0;
  for (let r = 0; r < 8; r++) {
    if (wide) cpu.reg32[r] = registers[r];
    else cpu.reg16[r << 1] = registers[r];
  }
  loadTaskLdt(cpu, ldt);
  const codeSelector = selectors[CS];
  const code = readCodeSegment(cpu, codeSelector);
  setFromDescriptor(cpu, CS, codeSelector, code.descriptor);
  cpu.setCpl(codeSelector & 3);
  setFromDescriptor(cpu, SS, selectors[SS], checkStackSegment(cpu, selectors[SS], cpu.cpl, 0, Vector.InvalidTss));
  for (const seg of wide ? [ES, DS, FS, GS] : [ES, DS]) loadSegmentProtected(cpu, seg, selectors[seg]);
  if (!wide) {
    cpu.setSegmentCache(FS, 0, 0, 0, 0);
    cpu.setSegmentCache(GS, 0, 0, 0, 0);
  }
  cpu.eip = eip >>> 0;
  if (errorCode !== undefined) cpu.push(wide ? 4 : 2, errorCode);
}

function loadTaskLdt(cpu: Cpu, selector: number): void {
  if (isNullSelector(selector)) {
    cpu.ldtr.clear();
    return;
  }
  const d = readDescriptor(cpu, selector, 0, Vector.InvalidTss);
  const attributes = descriptorAttributes(d.high);
  if (isCodeOrData(attributes) || systemType(attributes) !== SystemType.Ldt || !isPresent(attributes)) {
    throw new CpuFault(Vector.InvalidTss, selector & 0xfffc);
  }
  cpu.ldtr.set(selector, descriptorBase(d.low, d.high), descriptorLimit(d.low, d.high), attributes);
}
