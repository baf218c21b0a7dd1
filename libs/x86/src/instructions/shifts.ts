import type { Cpu } from '../cpu.js';
import type { CpuQuirks } from '../cpu-model.js';
import { decodeModrm } from '../decode/modrm.js';
import { readRm, writeRm } from '../decode/operands.js';
import { shiftRotate } from '../ops/shift-rotate.js';
import type { OperandSize } from '../registers.js';
import { setRange, type OpcodeTable } from './opcode-table.js';

/** D0/D1 by 1, D2/D3 by CL, C0/C1 by imm8 (186+): group 2 shifts and rotates. */
function group2(cpu: Cpu, opcode: number): void {
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  decodeModrm(cpu);
  let count = opcode >= 0xd2 ? cpu.reg8[1 << 2] : opcode >= 0xd0 ? 1 : cpu.fetch8();
  if (!cpu.quirks.shiftCountUnmasked) count &= 31;
  const value = readRm(cpu, size);
  if (count === 0) return;
  writeRm(cpu, size, shiftRotate(cpu.flags, cpu.modrmReg, value, count, size, cpu.quirks.opcodeAliases8086));
}

export function installShifts(table: OpcodeTable, quirks: CpuQuirks): void {
  setRange(table, 0xd0, 0xd3, group2);
  if (!quirks.opcodeAliases8086) setRange(table, 0xc0, 0xc1, group2);
}
