import type { Cpu } from '../cpu.js';
import { testCondition } from '../instructions/conditions.js';
import type { OperandSize } from '../registers.js';
import type { DecodedInstruction } from './code-cache.js';
import type { CodeBytes } from './code-bytes.js';
import { decodeAddress16, decodeAddress32, type DecodedAddress } from './effective-address.js';
import { memoryReader, memoryWriter } from './memory-operands.js';

/*
 * Operands of decoded instructions as closures: the ModRM byte decoded once, then read,
 * written or updated on every run.
 */

/** The operands of a ModRM instruction: reg field, and either a register (rm) or a memory address. */
export interface ModrmOperands {
  reg: number;
  rm: number;
  memory: DecodedAddress | undefined;
}

/** The prefix state an instruction was decoded under. */
export interface Prefixes {
  opSize: OperandSize;
  addrSize: OperandSize;
  seg: number;
}

export function decodeModrm(bytes: CodeBytes, p: Prefixes): ModrmOperands {
  const modrm = bytes.next8();
  const mod = modrm >>> 6;
  const rm = modrm & 7;
  const reg = (modrm >>> 3) & 7;
  if (mod === 3) return { reg, rm, memory: undefined };
  const memory = p.addrSize === 2 ? decodeAddress16(bytes, mod, rm, p.seg) : decodeAddress32(bytes, mod, rm, p.seg);
  return { reg, rm, memory };
}

/** Reads the r/m operand. */
export function rmReader(m: ModrmOperands, size: OperandSize): (cpu: Cpu) => number {
  const mem = m.memory;
  if (mem === undefined) {
    const r = m.rm;
    if (size === 4) return (cpu) => cpu.reg32[r];
    return (cpu) => cpu.getReg(size, r);
  }
  return memoryReader(mem, size);
}

/** Writes the r/m operand with `value(cpu)` (computed before the address, as the interpreter reads in that order only for registers). */
export function rmWriter(m: ModrmOperands, size: OperandSize, value: (cpu: Cpu) => number): DecodedInstruction {
  const mem = m.memory;
  if (mem === undefined) {
    const r = m.rm;
    return (c) => c.setReg(size, r, value(c));
  }
  return memoryWriter(mem, size, value);
}

/** Reads the r/m operand and writes back `update(cpu, value)` (a memory operand faults on the read first). */
export function rmUpdater(m: ModrmOperands, size: OperandSize, update: (cpu: Cpu, value: number) => number): DecodedInstruction {
  const mem = m.memory;
  if (mem === undefined) {
    const r = m.rm;
    return (c) => c.setReg(size, r, update(c, c.getReg(size, r)));
  }
  const seg = mem.segment;
  const offset = mem.offset;
  return (c) => {
    const at = offset(c);
    c.writeMemory(seg, at, size, update(c, c.readMemory(seg, at, size)));
  };
}

/** Jcc: the relative jump taken when condition `cc` holds (EIP already past the instruction). */
export function jumpIf(cc: number, displacement: number, opSize: OperandSize): DecodedInstruction {
  const mask = opSize === 2 ? 0xffff : -1;
  return (c) => {
    if (testCondition(c.flags, cc)) c.eip = ((c.eip + displacement) & mask) >>> 0;
  };
}
