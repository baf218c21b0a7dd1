import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import type { CpuQuirks } from '../cpu-model.js';
import { decodeModrm } from '../decode/modrm.js';
import { readModrmReg, readRm, signExtend, writeModrmReg, writeRm } from '../decode/operands.js';
import { AF, CF, PF, SF, ZF } from '../flag-bits.js';
import { CS, DS, EAX, EBX, EDX, ES, SS, type OperandSize } from '../registers.js';
import { setRange, type OpcodeTable } from './opcode-table.js';

/** 88-8B: MOV between r/m and reg in either direction. */
function moveRmReg(cpu: Cpu, opcode: number): void {
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  decodeModrm(cpu);
  if ((opcode & 2) === 0) writeRm(cpu, size, readModrmReg(cpu, size));
  else writeModrmReg(cpu, size, readRm(cpu, size));
}

/** 8C: MOV r/m16, Sreg. */
function moveFromSegment(cpu: Cpu): void {
  decodeModrm(cpu);
  const seg = cpu.quirks.segmentRegisterField2Bits ? cpu.modrmReg & 3 : cpu.modrmReg;
  if (seg > 5) throw new CpuFault(Vector.InvalidOpcode);
  const selector = cpu.segSelector[seg];
  writeRm(cpu, cpu.modrmMod === 3 ? cpu.opSize : 2, selector);
}

/** 8E: MOV Sreg, r/m16. Loading SS holds off interrupts for one instruction. */
function moveToSegment(cpu: Cpu): void {
  decodeModrm(cpu);
  const seg = cpu.quirks.segmentRegisterField2Bits ? cpu.modrmReg & 3 : cpu.modrmReg;
  if (seg > 5 || (seg === CS && !cpu.quirks.segmentRegisterField2Bits)) throw new CpuFault(Vector.InvalidOpcode);
  cpu.loadSegment(seg, readRm(cpu, 2));
  if (seg === SS) cpu.interruptShadow = true;
}

/** 8D: LEA reg, m. */
function loadEffectiveAddress(cpu: Cpu): void {
  decodeModrm(cpu);
  if (cpu.modrmMod === 3 && cpu.quirks.has32Bit) throw new CpuFault(Vector.InvalidOpcode);
  writeModrmReg(cpu, cpu.opSize, cpu.eaOffset);
}

/** C4 LES, C5 LDS: load a far pointer into a register and ES/DS. */
function loadFarPointer(cpu: Cpu, opcode: number): void {
  decodeModrm(cpu);
  if (cpu.modrmMod === 3 && cpu.quirks.has32Bit) throw new CpuFault(Vector.InvalidOpcode);
  const size = cpu.opSize;
  const offset = cpu.readMemory(cpu.eaSegment, cpu.eaOffset, size);
  const selectorOffset = (cpu.eaOffset + size) & (cpu.addrSize === 2 ? 0xffff : -1);
  const selector = cpu.readMemory(cpu.eaSegment, selectorOffset >>> 0, 2);
  cpu.loadSegment(opcode === 0xc4 ? ES : DS, selector);
  writeModrmReg(cpu, size, offset);
}

/** 86/87: XCHG r/m, reg. */
function exchangeRmReg(cpu: Cpu, opcode: number): void {
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  decodeModrm(cpu);
  const a = readRm(cpu, size);
  const b = readModrmReg(cpu, size);
  writeRm(cpu, size, b);
  writeModrmReg(cpu, size, a);
}

/** 91-97: XCHG accumulator, reg (90 is NOP). */
function exchangeAccumulator(cpu: Cpu, opcode: number): void {
  const size = cpu.opSize;
  const r = opcode & 7;
  const a = cpu.getReg(size, EAX);
  cpu.setReg(size, EAX, cpu.getReg(size, r));
  cpu.setReg(size, r, a);
}

/** A0-A3: MOV between accumulator and a memory offset given in the instruction. */
function moveAccumulatorOffset(cpu: Cpu, opcode: number): void {
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  const offset = cpu.fetchImmediate(cpu.addrSize);
  const seg = cpu.dataSegment(DS);
  if (opcode < 0xa2) cpu.setReg(size, EAX, cpu.readMemory(seg, offset, size));
  else cpu.writeMemory(seg, offset, size, cpu.getReg(size, EAX));
}

/** B0-BF: MOV reg, immediate. */
function moveRegImmediate(cpu: Cpu, opcode: number): void {
  const size: OperandSize = opcode < 0xb8 ? 1 : cpu.opSize;
  cpu.setReg(size, opcode & 7, cpu.fetchImmediate(size));
}

/** C6/C7: MOV r/m, immediate. */
function moveRmImmediate(cpu: Cpu, opcode: number): void {
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  decodeModrm(cpu);
  writeRm(cpu, size, cpu.fetchImmediate(size));
}

/** 98: CBW / CWDE. */
function convertToWider(cpu: Cpu): void {
  if (cpu.opSize === 2) cpu.reg16[EAX << 1] = signExtend(cpu.reg8[0], 1);
  else cpu.reg32[EAX] = signExtend(cpu.reg16[EAX << 1], 2);
}

/** 99: CWD / CDQ. */
function convertToDouble(cpu: Cpu): void {
  const size = cpu.opSize;
  const negative = signExtend(cpu.getReg(size, EAX), size) < 0;
  cpu.setReg(size, EDX, negative ? 0xffffffff : 0);
}

/** D7: XLAT: AL = [seg:BX + AL]. */
function translateByte(cpu: Cpu): void {
  const base = cpu.addrSize === 2 ? cpu.reg16[EBX << 1] : cpu.reg32[EBX];
  const offset = (base + cpu.reg8[0]) & (cpu.addrSize === 2 ? 0xffff : -1);
  cpu.reg8[0] = cpu.readMemory(cpu.dataSegment(DS), offset >>> 0, 1);
}

const AH = 1;
const SAHF_FLAGS = SF | ZF | AF | PF | CF;

export function installDataMovement(table: OpcodeTable, _quirks: CpuQuirks): void {
  setRange(table, 0x88, 0x8b, moveRmReg);
  table[0x8c] = moveFromSegment;
  table[0x8e] = moveToSegment;
  table[0x8d] = loadEffectiveAddress;
  table[0xc4] = loadFarPointer;
  table[0xc5] = loadFarPointer;
  setRange(table, 0x86, 0x87, exchangeRmReg);
  table[0x90] = () => {};
  setRange(table, 0x91, 0x97, exchangeAccumulator);
  setRange(table, 0xa0, 0xa3, moveAccumulatorOffset);
  setRange(table, 0xb0, 0xbf, moveRegImmediate);
  setRange(table, 0xc6, 0xc7, moveRmImmediate);
  table[0x98] = convertToWider;
  table[0x99] = convertToDouble;
  table[0xd7] = translateByte;
  table[0x9e] = (cpu) => cpu.flags.assign(SAHF_FLAGS, cpu.reg8[AH]); // SAHF
  table[0x9f] = (cpu) => {
    cpu.reg8[AH] = cpu.getFlags() & 0xff; // LAHF
  };
}
