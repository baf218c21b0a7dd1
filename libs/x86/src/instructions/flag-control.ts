import type { Cpu } from '../cpu.js';
import type { CpuQuirks } from '../cpu-model.js';
import { requireIopl, requireRing0 } from '../protected/privilege.js';
import { fpuEscape } from './x87/x87-escape.js';
import { fpuWait } from './x87/x87-control.js';
import { decodeModrm } from '../decode/modrm.js';
import { CF, DF, IF } from '../flag-bits.js';
import { setRange, type OpcodeTable } from './opcode-table.js';

/** F8-FD: CLC, STC, CLI, STI, CLD, STD (flag = bit pair, set = odd opcode). */
export function setOrClearFlag(cpu: Cpu, opcode: number): void {
  const bit = opcode <= 0xf9 ? CF : opcode <= 0xfb ? IF : DF;
  const set = (opcode & 1) !== 0;
  if (bit === IF) requireIopl(cpu);
  if (bit === IF && set && cpu.flags.get(IF) === 0) cpu.interruptShadow = true;
  cpu.flags.assign(bit, set ? bit : 0);
}

/** F5: CMC. */
export function complementCarry(cpu: Cpu): void {
  cpu.flags.assign(CF, cpu.flags.get(CF) ^ CF);
}

/** F4: HLT. The run loop reports it and waits for an interrupt. */
function halt(cpu: Cpu): void {
  requireRing0(cpu);
  cpu.halted = true;
}

/** D8-DF: coprocessor escape. With no FPU attached the operand is decoded and ignored. */
function escape(cpu: Cpu): void {
  decodeModrm(cpu);
}

export function installFlagControl(table: OpcodeTable, quirks: CpuQuirks): void {
  setRange(table, 0xf8, 0xfd, setOrClearFlag);
  table[0xf5] = complementCarry;
  table[0xf4] = halt;
  if (quirks.hasI686) {
    table[0x9b] = fpuWait;
    setRange(table, 0xd8, 0xdf, fpuEscape);
  } else {
    table[0x9b] = () => {}; // WAIT: no coprocessor to wait for
    setRange(table, 0xd8, 0xdf, escape);
  }
}
