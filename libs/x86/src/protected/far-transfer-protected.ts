import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { CS, DS, ES, ESP, FS, GS, SS, type OperandSize } from '../registers.js';
import { checkDirectTarget, enterCodeSegment, readCodeSegment } from './code-segment.js';
import { attributesDpl, descriptorAttributes, gateTarget, isCodeOrData, isPresent, SystemType, systemType } from './descriptor.js';
import { isNullSelector, readDescriptor } from './descriptor-tables.js';
import { checkStackSegment, nullInaccessibleSegments, setFromDescriptor } from './segment-load.js';
import { stackForLevel } from './task-state.js';
import { switchTask, TaskSwitchReason } from './task-switch.js';
import { withRollback } from './transfer-snapshot.js';

/*
 * Far JMP, CALL and RET in protected mode (Intel SDM vol. 2, JMP/CALL/RET
 * "Operation"; vol. 3, sections 5.8.1-5.8.6): direct transfers to code
 * segments and call gates, with the stack switch of a call to a more
 * privileged level, and task switches to a TSS or through a task gate.
 */

/** JMP/CALL to a TSS or task gate: DPL >= CPL and RPL, present, then the switch (task-switch.ts). */
function farTaskSwitch(cpu: Cpu, selector: number, attributes: number, low: number, reason: TaskSwitchReason): void {
  const dpl = attributesDpl(attributes);
  if (dpl < cpu.cpl || dpl < (selector & 3)) throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
  if (!isPresent(attributes)) throw new CpuFault(Vector.SegmentNotPresent, selector & 0xfffc);
  const tssSelector = systemType(attributes) === SystemType.TaskGate ? low >>> 16 : selector;
  switchTask(cpu, tssSelector, reason, cpu.eip);
}

function isTaskTarget(type: number): boolean {
  return type === SystemType.TaskGate || type === SystemType.Tss16Available || type === SystemType.Tss32Available;
}

/** Reads a call gate, checks its DPL against CPL and RPL and its presence; returns its target. */
function readCallGate(cpu: Cpu, selector: number, attributes: number, low: number, high: number) {
  const dpl = attributesDpl(attributes);
  if (dpl < cpu.cpl || dpl < (selector & 3)) throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
  if (!isPresent(attributes)) throw new CpuFault(Vector.SegmentNotPresent, selector & 0xfffc);
  return gateTarget(low, high);
}

export function farJumpProtected(cpu: Cpu, selector: number, offset: number): void {
  if (isNullSelector(selector)) throw new CpuFault(Vector.GeneralProtection, 0);
  const d = readDescriptor(cpu, selector);
  const attributes = descriptorAttributes(d.high);
  if (isCodeOrData(attributes)) {
    const target = readCodeSegment(cpu, selector);
    checkDirectTarget(cpu, selector, target);
    enterCodeSegment(cpu, selector, target, cpu.cpl, offset);
    return;
  }
  const type = systemType(attributes);
  if (type === SystemType.CallGate16 || type === SystemType.CallGate32) {
    const gate = readCallGate(cpu, selector, attributes, d.low, d.high);
    const target = readCodeSegment(cpu, gate.selector);
    const ok = target.conforming ? target.dpl <= cpu.cpl : target.dpl === cpu.cpl;
    if (!ok) throw new CpuFault(Vector.GeneralProtection, gate.selector & 0xfffc);
    enterCodeSegment(cpu, gate.selector, target, cpu.cpl, gate.offset);
    return;
  }
  if (isTaskTarget(type)) {
    farTaskSwitch(cpu, selector, attributes, d.low, TaskSwitchReason.Jump);
    return;
  }
  throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
}

export function farCallProtected(cpu: Cpu, selector: number, offset: number, size: OperandSize): void {
  if (isNullSelector(selector)) throw new CpuFault(Vector.GeneralProtection, 0);
  const d = readDescriptor(cpu, selector);
  const attributes = descriptorAttributes(d.high);
  const returnSelector = cpu.segSelector[CS];
  const returnOffset = cpu.eip;
  if (isCodeOrData(attributes)) {
    const target = readCodeSegment(cpu, selector);
    checkDirectTarget(cpu, selector, target);
    withRollback(cpu, () => {
      cpu.push(size, returnSelector);
      cpu.push(size, returnOffset);
      enterCodeSegment(cpu, selector, target, cpu.cpl, offset);
    });
    return;
  }
  const type = systemType(attributes);
  if (isTaskTarget(type)) {
    farTaskSwitch(cpu, selector, attributes, d.low, TaskSwitchReason.Call);
    return;
  }
  if (type !== SystemType.CallGate16 && type !== SystemType.CallGate32) throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
  const gate = readCallGate(cpu, selector, attributes, d.low, d.high);
  const target = readCodeSegment(cpu, gate.selector);
  if (target.dpl > cpu.cpl) throw new CpuFault(Vector.GeneralProtection, gate.selector & 0xfffc);
  const gateSize: OperandSize = gate.is32 ? 4 : 2;
  if (!target.conforming && target.dpl < cpu.cpl) {
    callToInnerLevel(cpu, gate.selector, target, gate.offset, gate.parameterCount, gateSize, returnSelector, returnOffset);
    return;
  }
  withRollback(cpu, () => {
    cpu.push(gateSize, returnSelector);
    cpu.push(gateSize, returnOffset);
    enterCodeSegment(cpu, gate.selector, target, cpu.cpl, gate.offset);
  });
}

/** CALL through a gate to a more privileged level: new stack from the TSS, parameters copied across. */
function callToInnerLevel(
  cpu: Cpu,
  codeSelector: number,
  target: ReturnType<typeof readCodeSegment>,
  offset: number,
  parameterCount: number,
  size: OperandSize,
  returnSelector: number,
  returnOffset: number,
): void {
  const level = target.dpl;
  const stack = stackForLevel(cpu, level, 0);
  const ssDescriptor = checkStackSegment(cpu, stack.ss, level, 0, Vector.InvalidTss);
  const oldSs = cpu.segSelector[SS];
  const oldEsp = cpu.stackSize === 4 ? cpu.reg32[ESP] : cpu.reg16[ESP << 1];
  const parameters: number[] = [];
  for (let i = 0; i < parameterCount; i++) parameters.push(cpu.peekStack(size, i * size));
  withRollback(cpu, () => {
    setFromDescriptor(cpu, SS, stack.ss, ssDescriptor);
    cpu.setCpl(level);
    if (cpu.stackSize === 4) cpu.reg32[ESP] = stack.esp;
    else cpu.reg16[ESP << 1] = stack.esp;
    cpu.push(size, oldSs);
    cpu.push(size, oldEsp);
    for (let i = parameterCount - 1; i >= 0; i--) cpu.push(size, parameters[i]);
    cpu.push(size, returnSelector);
    cpu.push(size, returnOffset);
    enterCodeSegment(cpu, codeSelector, target, level, offset);
  });
}

/** RETF [imm16] in protected mode: same level, or back out to a less privileged one with its stack. */
export function farReturnProtected(cpu: Cpu, size: OperandSize, release: number): void {
  const offset = cpu.peekStack(size, 0);
  const selector = cpu.peekStack(size, size) & 0xffff;
  const target = checkReturnTarget(cpu, selector);
  const rpl = selector & 3;
  if (rpl === cpu.cpl) {
    withRollback(cpu, () => {
      cpu.adjustStack(2 * size);
      enterCodeSegment(cpu, selector, target, rpl, offset);
      if (release !== 0) cpu.adjustStack(release);
    });
    return;
  }
  const newEsp = cpu.peekStack(size, 2 * size + release);
  const newSs = cpu.peekStack(size, 3 * size + release) & 0xffff;
  returnToOuterLevel(cpu, selector, target, offset, newSs, newEsp, release);
}

/** The checks RET and IRET share for the code segment they return to. */
export function checkReturnTarget(cpu: Cpu, selector: number): ReturnType<typeof readCodeSegment> {
  if (isNullSelector(selector)) throw new CpuFault(Vector.GeneralProtection, 0);
  const rpl = selector & 3;
  if (rpl < cpu.cpl) throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
  const target = readCodeSegment(cpu, selector);
  const ok = target.conforming ? target.dpl <= rpl : target.dpl === rpl;
  if (!ok) throw new CpuFault(Vector.GeneralProtection, selector & 0xfffc);
  return target;
}

/** Loads CS:EIP and SS:ESP of the outer level, then drops data segments it may not use. */
export function returnToOuterLevel(
  cpu: Cpu,
  selector: number,
  target: ReturnType<typeof readCodeSegment>,
  offset: number,
  newSs: number,
  newEsp: number,
  release: number,
): void {
  const level = selector & 3;
  const ssDescriptor = checkStackSegment(cpu, newSs, level, 0, Vector.GeneralProtection);
  withRollback(cpu, () => {
    enterCodeSegment(cpu, selector, target, level, offset);
    setFromDescriptor(cpu, SS, newSs, ssDescriptor);
    if (cpu.stackSize === 4) cpu.reg32[ESP] = (newEsp + release) >>> 0;
    else cpu.reg16[ESP << 1] = newEsp + release;
  });
  nullInaccessibleSegments(cpu, [ES, DS, FS, GS]);
}
