import type { Cpu } from '../../cpu.js';
import { CpuFault, Vector } from '../../cpu-fault.js';
import { decodeModrm } from '../../decode/modrm.js';
import { readModrmReg, readRm, writeModrmReg, writeRm } from '../../decode/operands.js';
import { ZF } from '../../flag-bits.js';
import { ADD, aluOperation, CMP } from '../../ops/alu.js';
import { EAX, EBX, ECX, EDX, type OperandSize } from '../../registers.js';
import type { OpcodeTable } from '../opcode-table.js';

/*
 * The 486/Pentium read-modify-write instructions (LOCK is implicit: one CPU,
 * one instruction at a time).
 */

/** 0F B0/B1 CMPXCHG r/m, reg: if accumulator == r/m then r/m = reg else accumulator = r/m. */
function compareExchange(cpu: Cpu, opcode: number): void {
  const size: OperandSize = opcode === 0xb0 ? 1 : cpu.opSize;
  decodeModrm(cpu);
  const dest = readRm(cpu, size);
  const accumulator = cpu.getReg(size, EAX);
  aluOperation(cpu.flags, CMP, accumulator, dest, size);
  if (accumulator === dest) {
    writeRm(cpu, size, readModrmReg(cpu, size));
  } else {
    writeRm(cpu, size, dest); // the destination is written back either way
    cpu.setReg(size, EAX, dest);
  }
}

/** 0F C0/C1 XADD r/m, reg: reg = old r/m, r/m = sum, flags as ADD. */
function exchangeAdd(cpu: Cpu, opcode: number): void {
  const size: OperandSize = opcode === 0xc0 ? 1 : cpu.opSize;
  decodeModrm(cpu);
  const dest = readRm(cpu, size);
  const sum = aluOperation(cpu.flags, ADD, dest, readModrmReg(cpu, size), size);
  writeModrmReg(cpu, size, dest);
  writeRm(cpu, size, sum);
}

/** 0F C7 /1 CMPXCHG8B m64: compare EDX:EAX with m64; equal stores ECX:EBX, else loads m64. */
function compareExchange8Bytes(cpu: Cpu): void {
  decodeModrm(cpu);
  if (cpu.modrmMod === 3 || cpu.modrmReg !== 1) throw new CpuFault(Vector.InvalidOpcode);
  const seg = cpu.eaSegment;
  const highOffset = (cpu.eaOffset + 4) & (cpu.addrSize === 2 ? 0xffff : 0xffffffff);
  const low = cpu.readMemory(seg, cpu.eaOffset, 4);
  const high = cpu.readMemory(seg, highOffset >>> 0, 4);
  if (low === cpu.reg32[EAX] && high === cpu.reg32[EDX]) {
    cpu.writeMemory(seg, cpu.eaOffset, 4, cpu.reg32[EBX]);
    cpu.writeMemory(seg, highOffset >>> 0, 4, cpu.reg32[ECX]);
    cpu.flags.assign(ZF, ZF);
  } else {
    cpu.writeMemory(seg, cpu.eaOffset, 4, low);
    cpu.writeMemory(seg, highOffset >>> 0, 4, high);
    cpu.reg32[EAX] = low;
    cpu.reg32[EDX] = high;
    cpu.flags.assign(ZF, 0);
  }
}

/** 0F C8-CF BSWAP r32 (a 16-bit operand gives an undefined result; we clear the word, as hardware does). */
function byteSwap(cpu: Cpu, opcode: number): void {
  const r = opcode & 7;
  if (cpu.opSize === 2) {
    cpu.reg16[r << 1] = 0;
    return;
  }
  cpu.reg32[r] = swapBytes32(cpu.reg32[r]);
}

/** The four bytes of `v` in reverse order (BSWAP; shared with the decoded closures). */
export function swapBytes32(v: number): number {
  return ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24)) >>> 0;
}

export function installAtomic0F(table: OpcodeTable): void {
  table[0xb0] = compareExchange;
  table[0xb1] = compareExchange;
  table[0xc0] = exchangeAdd;
  table[0xc1] = exchangeAdd;
  table[0xc7] = compareExchange8Bytes;
  for (let op = 0xc8; op <= 0xcf; op++) table[op] = byteSwap;
}
