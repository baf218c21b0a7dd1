import type { Cpu } from '../cpu.js';
import { NT, VM } from '../flag-bits.js';
import type { OperandSize } from '../registers.js';
import { enterCodeSegment } from './code-segment.js';
import { checkReturnTarget, returnToOuterLevel } from './far-transfer-protected.js';
import { writableFlags } from './privilege.js';
import { switchTask, TaskSwitchReason } from './task-switch.js';
import { withRollback } from './transfer-snapshot.js';

/**
 * IRET in protected mode (Intel SDM vol. 2, IRET "Operation"): back to the
 * same level, or out to a less privileged one with its SS:ESP. Which EFLAGS
 * bits it may restore follow the old CPL (IOPL at CPL 0, IF at CPL <= IOPL).
 * With NT set it returns to the previous task; returns to virtual-8086 mode are not implemented.
 */
export function interruptReturnProtected(cpu: Cpu, size: OperandSize): void {
  if (cpu.flags.get(NT) !== 0) {
    // Return from a nested task: back to the task in the back link of this TSS.
    switchTask(cpu, cpu.memory.readSystem16(cpu.tr.base), TaskSwitchReason.Iret, cpu.eip);
    return;
  }
  const offset = cpu.peekStack(size, 0);
  const selector = cpu.peekStack(size, size) & 0xffff;
  const flags = cpu.peekStack(size, 2 * size);
  if (size === 4 && (flags & VM) !== 0 && cpu.cpl === 0) throw new Error('IRET to virtual-8086 mode is not implemented');
  const mask = writableFlags(cpu, size);
  const target = checkReturnTarget(cpu, selector);
  const rpl = selector & 3;
  if (rpl === cpu.cpl) {
    withRollback(cpu, () => {
      cpu.adjustStack(3 * size);
      enterCodeSegment(cpu, selector, target, rpl, offset);
    });
  } else {
    const newEsp = cpu.peekStack(size, 3 * size);
    const newSs = cpu.peekStack(size, 4 * size) & 0xffff;
    returnToOuterLevel(cpu, selector, target, offset, newSs, newEsp, 0);
  }
  cpu.setFlags(flags, mask);
}
