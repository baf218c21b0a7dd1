import type { Cpu } from '../cpu.js';
import type { CpuQuirks } from '../cpu-model.js';
import { decodeModrm } from '../decode/modrm.js';
import { readModrmReg, readRm, signExtend, writeModrmReg, writeRm } from '../decode/operands.js';
import { aluOperation, CMP, decrement, increment, negate, setLogicFlags } from '../ops/alu.js';
import { divideAccumulator, multiplyAccumulator, multiplySigned } from '../ops/multiply-divide.js';
import { EAX, sizeMask, type OperandSize } from '../registers.js';
import { setRange, type OpcodeTable } from './opcode-table.js';

/** 00-3F (low three bits 0-5): ALU op between r/m and reg, or accumulator and immediate. */
function aluForms(cpu: Cpu, opcode: number): void {
  const op = (opcode >>> 3) & 7;
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  switch (opcode & 7) {
    case 0:
    case 1: {
      decodeModrm(cpu);
      const res = aluOperation(cpu.flags, op, readRm(cpu, size), readModrmReg(cpu, size), size);
      if (op !== CMP) writeRm(cpu, size, res);
      break;
    }
    case 2:
    case 3: {
      decodeModrm(cpu);
      const res = aluOperation(cpu.flags, op, readModrmReg(cpu, size), readRm(cpu, size), size);
      if (op !== CMP) writeModrmReg(cpu, size, res);
      break;
    }
    default: {
      const res = aluOperation(cpu.flags, op, cpu.getReg(size, EAX), cpu.fetchImmediate(size), size);
      if (op !== CMP) cpu.setReg(size, EAX, res);
      break;
    }
  }
}

/** 80-83: ALU op between r/m and an immediate; 83 sign-extends a byte immediate. */
function aluImmediate(cpu: Cpu, opcode: number): void {
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  decodeModrm(cpu);
  const a = readRm(cpu, size);
  const b = opcode === 0x83 ? signExtend(cpu.fetch8(), 1) & sizeMask(size) : cpu.fetchImmediate(size);
  const res = aluOperation(cpu.flags, cpu.modrmReg, a, b >>> 0, size);
  if (cpu.modrmReg !== CMP) writeRm(cpu, size, res);
}

/** 84/85: TEST r/m, reg. */
function testRmReg(cpu: Cpu, opcode: number): void {
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  decodeModrm(cpu);
  setLogicFlags(cpu.flags, readRm(cpu, size) & readModrmReg(cpu, size), size);
}

/** A8/A9: TEST accumulator, immediate. */
function testAccumulator(cpu: Cpu, opcode: number): void {
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  setLogicFlags(cpu.flags, cpu.getReg(size, EAX) & cpu.fetchImmediate(size), size);
}

/** 40-47 INC reg, 48-4F DEC reg. */
function incDecRegister(cpu: Cpu, opcode: number): void {
  const r = opcode & 7;
  const size = cpu.opSize;
  const value = cpu.getReg(size, r);
  cpu.setReg(size, r, opcode < 0x48 ? increment(cpu.flags, value, size) : decrement(cpu.flags, value, size));
}

/** F6/F7 group 3: TEST imm, NOT, NEG, MUL, IMUL, DIV, IDIV on r/m. */
function group3(cpu: Cpu, opcode: number): void {
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  decodeModrm(cpu);
  const value = readRm(cpu, size);
  switch (cpu.modrmReg) {
    case 0:
    case 1: // reg 1 is an undocumented alias of TEST
      setLogicFlags(cpu.flags, value & cpu.fetchImmediate(size), size);
      break;
    case 2:
      writeRm(cpu, size, ~value & sizeMask(size));
      break;
    case 3:
      writeRm(cpu, size, negate(cpu.flags, value, size));
      break;
    case 4:
      multiplyAccumulator(cpu, value, size, false);
      break;
    case 5:
      multiplyAccumulator(cpu, value, size, true);
      break;
    case 6:
      divideAccumulator(cpu, value, size, false);
      break;
    default:
      divideAccumulator(cpu, value, size, true);
      break;
  }
}

/** 69 IMUL reg, r/m, imm; 6B IMUL reg, r/m, imm8 (186+). */
function multiplyImmediate(cpu: Cpu, opcode: number): void {
  const size = cpu.opSize;
  decodeModrm(cpu);
  const a = readRm(cpu, size);
  const b = opcode === 0x6b ? signExtend(cpu.fetch8(), 1) & sizeMask(size) : cpu.fetchImmediate(size);
  writeModrmReg(cpu, size, multiplySigned(cpu, a, b >>> 0, size));
}

export function installArithmetic(table: OpcodeTable, quirks: CpuQuirks): void {
  for (let op = 0; op < 0x40; op++) {
    if ((op & 7) <= 5) table[op] = aluForms;
  }
  setRange(table, 0x80, 0x83, aluImmediate);
  setRange(table, 0x84, 0x85, testRmReg);
  setRange(table, 0xa8, 0xa9, testAccumulator);
  setRange(table, 0x40, 0x4f, incDecRegister);
  setRange(table, 0xf6, 0xf7, group3);
  if (!quirks.opcodeAliases8086) {
    table[0x69] = multiplyImmediate;
    table[0x6b] = multiplyImmediate;
  }
}
