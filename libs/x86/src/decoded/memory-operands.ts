import type { Cpu } from '../cpu.js';
import type { OperandSize } from '../registers.js';
import type { DecodedInstruction } from './code-cache.js';
import type { DecodedAddress } from './effective-address.js';

/*
 * Memory operands of decoded instructions with the offset computed inside the instruction's
 * closure (effective-address.ts InlineAddress) rather than by the address's own offset
 * closure: a closure called from another closure is a megamorphic call in V8 (the generic
 * Call builtin), and in Linux's kernel init, where ~30 M instructions ran as closures, such
 * calls took ~10 % of the CPU thread. 16-bit addressing keeps its offset closure.
 */

/** Reads `size` bytes at the operand. */
export function memoryReader(mem: DecodedAddress, size: OperandSize): (cpu: Cpu) => number {
  const seg = mem.segment;
  const a = mem.inline;
  if (a !== undefined) {
    const { base, baseMask, index, indexMask, scale, disp } = a;
    return (c) => c.readMemory(seg, ((c.reg32[base] & baseMask) + ((c.reg32[index] & indexMask) << scale) + disp) >>> 0, size);
  }
  const offset = mem.offset;
  return (c) => c.readMemory(seg, offset(c), size);
}

/** Writes `value(cpu)` (computed first) to the operand. */
export function memoryWriter(mem: DecodedAddress, size: OperandSize, value: (cpu: Cpu) => number): DecodedInstruction {
  const seg = mem.segment;
  const a = mem.inline;
  if (a !== undefined) {
    const { base, baseMask, index, indexMask, scale, disp } = a;
    return (c) => {
      const v = value(c);
      c.writeMemory(seg, ((c.reg32[base] & baseMask) + ((c.reg32[index] & indexMask) << scale) + disp) >>> 0, size, v);
    };
  }
  const offset = mem.offset;
  return (c) => {
    const v = value(c);
    c.writeMemory(seg, offset(c), size, v);
  };
}

/** MOV r32, m32: the load and the register write in one closure. */
export function loadRegister32(mem: DecodedAddress, reg: number): DecodedInstruction {
  const seg = mem.segment;
  const a = mem.inline;
  if (a !== undefined) {
    const { base, baseMask, index, indexMask, scale, disp } = a;
    return (c) => (c.reg32[reg] = c.readMemory(seg, ((c.reg32[base] & baseMask) + ((c.reg32[index] & indexMask) << scale) + disp) >>> 0, 4));
  }
  const offset = mem.offset;
  return (c) => (c.reg32[reg] = c.readMemory(seg, offset(c), 4));
}

/** MOV m32, r32: the register read and the store in one closure. */
export function storeRegister32(mem: DecodedAddress, reg: number): DecodedInstruction {
  const seg = mem.segment;
  const a = mem.inline;
  if (a !== undefined) {
    const { base, baseMask, index, indexMask, scale, disp } = a;
    return (c) => c.writeMemory(seg, ((c.reg32[base] & baseMask) + ((c.reg32[index] & indexMask) << scale) + disp) >>> 0, 4, c.reg32[reg]);
  }
  const offset = mem.offset;
  return (c) => c.writeMemory(seg, offset(c), 4, c.reg32[reg]);
}

/** LEA r32, m: the offset itself into the register. */
export function loadAddress32(mem: DecodedAddress, reg: number): DecodedInstruction {
  const a = mem.inline;
  if (a !== undefined) {
    const { base, baseMask, index, indexMask, scale, disp } = a;
    return (c) => {
      const r = c.reg32;
      r[reg] = ((r[base] & baseMask) + ((r[index] & indexMask) << scale) + disp) >>> 0;
    };
  }
  const offset = mem.offset;
  return (c) => (c.reg32[reg] = offset(c));
}
