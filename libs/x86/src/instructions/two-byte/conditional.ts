import type { Cpu } from '../../cpu.js';
import { decodeModrm } from '../../decode/modrm.js';
import { readRm, writeModrmReg, writeRm } from '../../decode/operands.js';
import { testCondition } from '../conditions.js';
import { setRange, type OpcodeTable } from '../opcode-table.js';
import { fetchDisplacement, jumpRelative } from '../relative-jump.js';

/** 0F 80-8F: Jcc rel16/32. */
function jumpConditionalNear(cpu: Cpu, opcode: number): void {
  const displacement = fetchDisplacement(cpu);
  if (testCondition(cpu.flags, opcode & 0xf)) jumpRelative(cpu, displacement);
}

/** 0F 90-9F: SETcc r/m8. */
function setOnCondition(cpu: Cpu, opcode: number): void {
  decodeModrm(cpu);
  writeRm(cpu, 1, testCondition(cpu.flags, opcode & 0xf) ? 1 : 0);
}

/** 0F 40-4F: CMOVcc reg, r/m (i686). The source is read even when the condition is false. */
function moveOnCondition(cpu: Cpu, opcode: number): void {
  const size = cpu.opSize;
  decodeModrm(cpu);
  const value = readRm(cpu, size);
  if (testCondition(cpu.flags, opcode & 0xf)) writeModrmReg(cpu, size, value);
}

export function installConditional0F(table: OpcodeTable, withCmov: boolean): void {
  setRange(table, 0x80, 0x8f, jumpConditionalNear);
  setRange(table, 0x90, 0x9f, setOnCondition);
  if (withCmov) setRange(table, 0x40, 0x4f, moveOnCondition);
}
