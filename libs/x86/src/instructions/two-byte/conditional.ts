import type { Cpu } from '../../cpu.js';
import { decodeModrm } from '../../decode/modrm.js';
import { writeRm } from '../../decode/operands.js';
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

export function installConditional0F(table: OpcodeTable): void {
  setRange(table, 0x80, 0x8f, jumpConditionalNear);
  setRange(table, 0x90, 0x9f, setOnCondition);
}
