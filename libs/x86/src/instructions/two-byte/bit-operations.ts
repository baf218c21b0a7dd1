import type { Cpu } from '../../cpu.js';
import { CpuFault, Vector } from '../../cpu-fault.js';
import { decodeModrm } from '../../decode/modrm.js';
import { readModrmReg, readRm, signExtend, writeModrmReg, writeRm } from '../../decode/operands.js';
import { AF, CF, OF, PARITY, PF, SF, ZF } from '../../flag-bits.js';
import { sizeMask, type OperandSize } from '../../registers.js';
import type { OpcodeTable } from '../opcode-table.js';

/** What BT/BTS/BTR/BTC do to the tested bit. */
const TEST = 0;
const SET = 1;
const RESET = 2;
const COMPLEMENT = 3;

/**
 * Tests bit `bitOffset` of the r/m operand, copies it to CF and changes it.
 * With a memory operand and a register offset the offset may reach outside
 * the operand: it selects another word/dword relative to the address.
 */
function bitOperation(cpu: Cpu, action: number, bitOffset: number, fromRegister: boolean): void {
  const size = cpu.opSize;
  const bits = size * 8;
  if (cpu.modrmMod !== 3 && fromRegister) {
    const displacement = Math.floor(signExtend(bitOffset, size) / bits) * size;
    const mask = cpu.addrSize === 2 ? 0xffff : 0xffffffff;
    cpu.eaOffset = ((cpu.eaOffset + displacement) & mask) >>> 0;
  }
  const bit = bitOffset & (bits - 1);
  const result = changeBit(cpu.flags, action, readRm(cpu, size), bit, size);
  if (action !== TEST) writeRm(cpu, size, result);
}

/**
 * BT (action 0), BTS (1), BTR (2), BTC (3) on bit `bit` of `value`: CF gets the bit, and
 * the changed value is returned. Shared by the interpreter and the decoded closures.
 */
export function changeBit(flags: Cpu['flags'], action: number, value: number, bit: number, size: OperandSize): number {
  flags.assign(CF, ((value >>> bit) & 1) !== 0 ? CF : 0);
  const mask = 1 << bit;
  const result = action === SET ? value | mask : action === RESET ? value & ~mask : action === COMPLEMENT ? value ^ mask : value;
  return (result & sizeMask(size)) >>> 0;
}

/** 0F A3 BT, AB BTS, B3 BTR, BB BTC: r/m, reg. */
function bitWithRegister(cpu: Cpu, opcode: number): void {
  decodeModrm(cpu);
  bitOperation(cpu, (opcode >>> 3) & 3, readModrmReg(cpu, cpu.opSize), true);
}

/** 0F BA group 8: BT/BTS/BTR/BTC r/m, imm8 (reg 4-7). */
function bitWithImmediate(cpu: Cpu): void {
  decodeModrm(cpu);
  if (cpu.modrmReg < 4) throw new CpuFault(Vector.InvalidOpcode);
  bitOperation(cpu, cpu.modrmReg - 4, cpu.fetch8(), false);
}

/** 0F BC BSF, 0F BD BSR: index of the lowest/highest set bit; ZF when the source is zero. */
function bitScan(cpu: Cpu, opcode: number): void {
  const size = cpu.opSize;
  decodeModrm(cpu);
  const value = readRm(cpu, size);
  if (value === 0) {
    cpu.flags.assign(ZF, ZF);
    return;
  }
  const index = opcode === 0xbc ? 31 - Math.clz32(value & -value) : 31 - Math.clz32(value);
  cpu.flags.assign(ZF, 0);
  writeModrmReg(cpu, size, index);
}

/** 0F A4/A5 SHLD, 0F AC/AD SHRD: shift r/m, filling from reg; count imm8 or CL. */
function doubleShift(cpu: Cpu, opcode: number): void {
  const size: OperandSize = cpu.opSize;
  decodeModrm(cpu);
  const count = ((opcode & 1) !== 0 ? cpu.reg8[1 << 2] : cpu.fetch8()) & 31;
  if (count === 0) return;
  const dest = readRm(cpu, size);
  writeRm(cpu, size, doubleShiftValue(cpu.flags, dest, readModrmReg(cpu, size), count, size, opcode < 0xac));
}

/**
 * SHLD (left) / SHRD: `dest` shifted by `count` (1-31), filled from `fill`; sets CF, OF,
 * ZF, SF, PF, clears AF and returns the result. Shared by the interpreter and the decoded
 * closures (wasm regions: region-instructions.ts doubleShift).
 */
export function doubleShiftValue(flagsOut: Cpu['flags'], dest: number, fill: number, count: number, size: OperandSize, left: boolean): number {
  const bits = size * 8;
  let result: number;
  let carry: number;
  if (size === 4) {
    const wide = left
      ? ((BigInt(dest) << 32n) | BigInt(fill)) << BigInt(count)
      : ((BigInt(fill) << 32n) | BigInt(dest)) >> BigInt(count);
    result = Number(left ? (wide >> 32n) & 0xffffffffn : wide & 0xffffffffn);
    carry = left ? (dest >>> (32 - count)) & 1 : (dest >>> (count - 1)) & 1;
  } else {
    const wide = left ? ((dest << 16) | fill) >>> 0 : ((fill << 16) | dest) >>> 0;
    result = left ? ((wide << count) >>> 16) & 0xffff : (wide >>> count) & 0xffff;
    carry = left ? (wide >>> (32 - count)) & 1 : (dest >>> (count - 1)) & 1;
  }
  const msb = bits - 1;
  let flags = carry !== 0 ? CF : 0;
  if (((result ^ dest) >>> msb) & 1) flags |= OF;
  if (result === 0) flags |= ZF;
  if ((result >>> msb) & 1) flags |= SF;
  flags |= PARITY[result & 0xff];
  // AF is undefined (Intel SDM SHLD/SHRD): cleared, as SHL/SHR leave it and QEMU computes it,
  // so compiled code can record the operation as a shift without keeping the AF before it.
  flagsOut.assign(CF | OF | ZF | SF | PF | AF, flags);
  return result >>> 0;
}

export function installBitOperations0F(table: OpcodeTable): void {
  for (const opcode of [0xa3, 0xab, 0xb3, 0xbb]) table[opcode] = bitWithRegister;
  table[0xba] = bitWithImmediate;
  table[0xbc] = bitScan;
  table[0xbd] = bitScan;
  for (const opcode of [0xa4, 0xa5, 0xac, 0xad]) table[opcode] = doubleShift;
}
