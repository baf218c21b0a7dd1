import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { IF, NT, RF, TF, VM } from '../flag-bits.js';
import { InterruptKind } from '../interrupt-kind.js';
import { CS, ESP, SS, type OperandSize } from '../registers.js';
import { enterCodeSegment, readCodeSegment } from './code-segment.js';
import { attributesDpl, descriptorAttributes, gateTarget, isCodeOrData, isPresent, SystemType, systemType } from './descriptor.js';
import { checkStackSegment, setFromDescriptor } from './segment-load.js';
import { stackForLevel } from './task-state.js';
import { switchTask, TaskSwitchReason } from './task-switch.js';
import { withRollback } from './transfer-snapshot.js';

/**
 * Interrupt and exception delivery through the IDT (Intel SDM vol. 3,
 * sections 6.10-6.13; INT n "Operation" in vol. 2): interrupt and trap gates,
 * the gate DPL check for software interrupts, the stack switch through the
 * TSS when the handler is more privileged, and the error code.
 * Task gates switch tasks (task-switch.ts).
 */
export function deliverProtectedInterrupt(cpu: Cpu, vector: number, returnEip: number, kind: InterruptKind, errorCode?: number): void {
  const ext = kind === InterruptKind.Software ? 0 : 1;
  const idtCode = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > cpu.idtrLimit) throw new CpuFault(Vector.GeneralProtection, idtCode);
  const entry = (cpu.idtrBase + vector * 8) >>> 0;
  const low = cpu.memory.readSystem32(entry);
  const high = cpu.memory.readSystem32((entry + 4) >>> 0);
  const attributes = descriptorAttributes(high);
  const type = systemType(attributes);
  const isGate =
    type === SystemType.InterruptGate32 || type === SystemType.TrapGate32 || type === SystemType.InterruptGate16 || type === SystemType.TrapGate16;
  if (isCodeOrData(attributes) || (!isGate && type !== SystemType.TaskGate)) throw new CpuFault(Vector.GeneralProtection, idtCode);
  if (kind === InterruptKind.Software && attributesDpl(attributes) < cpu.cpl) throw new CpuFault(Vector.GeneralProtection, vector * 8 + 2);
  if (!isPresent(attributes)) throw new CpuFault(Vector.SegmentNotPresent, idtCode);
  if (type === SystemType.TaskGate) {
    switchTask(cpu, low >>> 16, TaskSwitchReason.Interrupt, returnEip, errorCode);
    return;
  }

  const gate = gateTarget(low, high);
  const target = readCodeSegment(cpu, gate.selector, ext);
  if (target.dpl > cpu.cpl) throw new CpuFault(Vector.GeneralProtection, (gate.selector & 0xfffc) | ext);
  const size: OperandSize = gate.is32 ? 4 : 2;
  const flags = cpu.getFlags();
  const returnSelector = cpu.segSelector[CS];
  const clear = TF | NT | RF | VM | (type === SystemType.InterruptGate32 || type === SystemType.InterruptGate16 ? IF : 0);

  if (!target.conforming && target.dpl < cpu.cpl) {
    const level = target.dpl;
    const stack = stackForLevel(cpu, level, ext);
    const ssDescriptor = checkStackSegment(cpu, stack.ss, level, ext, Vector.InvalidTss);
    const oldSs = cpu.segSelector[SS];
    const oldEsp = cpu.stackSize === 4 ? cpu.reg32[ESP] : cpu.reg16[ESP << 1];
    withRollback(cpu, () => {
      setFromDescriptor(cpu, SS, stack.ss, ssDescriptor);
      cpu.setCpl(level);
      if (cpu.stackSize === 4) cpu.reg32[ESP] = stack.esp;
      else cpu.reg16[ESP << 1] = stack.esp;
      cpu.push(size, oldSs);
      cpu.push(size, oldEsp);
      pushFrame(cpu, size, flags, returnSelector, returnEip, errorCode);
      enterCodeSegment(cpu, gate.selector, target, level, gate.offset);
    });
  } else {
    withRollback(cpu, () => {
      pushFrame(cpu, size, flags, returnSelector, returnEip, errorCode);
      enterCodeSegment(cpu, gate.selector, target, cpu.cpl, gate.offset);
    });
  }
  cpu.flags.assign(clear, 0);
}

function pushFrame(cpu: Cpu, size: OperandSize, flags: number, selector: number, eip: number, errorCode: number | undefined): void {
  cpu.push(size, size === 2 ? flags & 0xffff : flags);
  cpu.push(size, selector);
  cpu.push(size, eip);
  if (errorCode !== undefined) cpu.push(size, errorCode);
}
