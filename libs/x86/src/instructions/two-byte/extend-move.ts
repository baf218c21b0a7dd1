import type { Cpu } from '../../cpu.js';
import { decodeModrm } from '../../decode/modrm.js';
import { readModrmReg, readRm, signExtend, writeModrmReg } from '../../decode/operands.js';
import { multiplySigned } from '../../ops/multiply-divide.js';
import { sizeMask, type OperandSize } from '../../registers.js';
import type { OpcodeTable } from '../opcode-table.js';

/** 0F B6/B7 MOVZX, 0F BE/BF MOVSX: widen a byte or word into a register. */
function moveExtended(cpu: Cpu, opcode: number): void {
  const from: OperandSize = (opcode & 1) !== 0 ? 2 : 1;
  const signed = opcode >= 0xbe;
  decodeModrm(cpu);
  const value = readRm(cpu, from);
  const size = cpu.opSize;
  writeModrmReg(cpu, size, signed ? (signExtend(value, from) & sizeMask(size)) >>> 0 : value);
}

/** 0F AF: IMUL reg, r/m. */
function multiplyRegRm(cpu: Cpu): void {
  const size = cpu.opSize;
  decodeModrm(cpu);
  writeModrmReg(cpu, size, multiplySigned(cpu, readModrmReg(cpu, size), readRm(cpu, size), size));
}

export function installExtendMove0F(table: OpcodeTable): void {
  for (const opcode of [0xb6, 0xb7, 0xbe, 0xbf]) table[opcode] = moveExtended;
  table[0xaf] = multiplyRegRm;
}
