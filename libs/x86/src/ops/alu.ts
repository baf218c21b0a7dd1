import { ARITH_FLAGS, CF } from '../flag-bits.js';
import { FlagOp, type LazyFlags } from '../lazy-flags.js';
import { sizeMask, type OperandSize } from '../registers.js';

/** The eight ALU operations in opcode order (the reg field of 0x80-0x83, bits 3-5 of 0x00-0x3F). */
export const ADD = 0;
export const OR = 1;
export const ADC = 2;
export const SBB = 3;
export const AND = 4;
export const SUB = 5;
export const XOR = 6;
export const CMP = 7;

/**
 * Performs ALU operation `op` on a and b (both already truncated to `size`),
 * records the flags lazily and returns the truncated result. For CMP the
 * result is returned too; the caller just does not store it.
 */
export function aluOperation(flags: LazyFlags, op: number, a: number, b: number, size: OperandSize): number {
  const mask = sizeMask(size);
  let res: number;
  switch (op) {
    case ADD:
      res = a + b;
      flags.record(FlagOp.Add, a, b, res, size);
      break;
    case OR:
      res = a | b;
      flags.record(FlagOp.Logic, a, b, res, size);
      break;
    case ADC:
      res = a + b + flags.carry();
      flags.record(FlagOp.Add, a, b, res, size);
      break;
    case SBB:
      res = a - b - flags.carry();
      flags.record(FlagOp.Sub, a, b, res, size);
      break;
    case AND:
      res = a & b;
      flags.record(FlagOp.Logic, a, b, res, size);
      break;
    case XOR:
      res = a ^ b;
      flags.record(FlagOp.Logic, a, b, res, size);
      break;
    default: // SUB, CMP
      res = a - b;
      flags.record(FlagOp.Sub, a, b, res, size);
      break;
  }
  return (res & mask) >>> 0;
}

/** INC: like ADD 1 but CF is left alone. */
export function increment(flags: LazyFlags, a: number, size: OperandSize): number {
  const res = a + 1;
  flags.record(FlagOp.Add, a, 1, res, size, ARITH_FLAGS & ~CF);
  return (res & sizeMask(size)) >>> 0;
}

/** DEC: like SUB 1 but CF is left alone. */
export function decrement(flags: LazyFlags, a: number, size: OperandSize): number {
  const res = a - 1;
  flags.record(FlagOp.Sub, a, 1, res, size, ARITH_FLAGS & ~CF);
  return (res & sizeMask(size)) >>> 0;
}

/** NEG: 0 - a. */
export function negate(flags: LazyFlags, a: number, size: OperandSize): number {
  const res = 0 - a;
  flags.record(FlagOp.Sub, 0, a, res, size);
  return (res & sizeMask(size)) >>> 0;
}

/** Sets SF/ZF/PF from a result and clears CF/OF/AF, as logical operations do. */
export function setLogicFlags(flags: LazyFlags, res: number, size: OperandSize): void {
  flags.record(FlagOp.Logic, 0, 0, res, size);
}
