import type { Cpu } from '../cpu.js';
import { ARITH_FLAGS, CF } from '../flag-bits.js';
import { FlagOp } from '../lazy-flags.js';
import { ADD, AND, CMP, OR, SUB, XOR } from '../ops/alu.js';
import type { DecodedInstruction } from './code-cache.js';

/**
 * The commonest ALU forms on 32-bit registers, one function literal per
 * operation so each call site stays simple for the JIT. Same results and
 * lazy-flag records as ops/alu.ts. Undefined: use the generic form.
 */
export function aluRegisterRegister32(op: number, dst: number, src: number): DecodedInstruction | undefined {
  switch (op) {
    case ADD:
      return (c: Cpu) => {
        const r = c.reg32;
        const a = r[dst];
        const b = r[src];
        const res = a + b;
        c.flags.record(FlagOp.Add, a, b, res, 4);
        r[dst] = res;
      };
    case SUB:
      return (c: Cpu) => {
        const r = c.reg32;
        const a = r[dst];
        const b = r[src];
        const res = a - b;
        c.flags.record(FlagOp.Sub, a, b, res, 4);
        r[dst] = res;
      };
    case CMP:
      return (c: Cpu) => {
        const r = c.reg32;
        const a = r[dst];
        const b = r[src];
        c.flags.record(FlagOp.Sub, a, b, a - b, 4);
      };
    case AND:
      return (c: Cpu) => {
        const r = c.reg32;
        const a = r[dst];
        const b = r[src];
        const res = (a & b) >>> 0;
        c.flags.record(FlagOp.Logic, a, b, res, 4);
        r[dst] = res;
      };
    case OR:
      return (c: Cpu) => {
        const r = c.reg32;
        const a = r[dst];
        const b = r[src];
        const res = (a | b) >>> 0;
        c.flags.record(FlagOp.Logic, a, b, res, 4);
        r[dst] = res;
      };
    case XOR:
      return (c: Cpu) => {
        const r = c.reg32;
        const a = r[dst];
        const b = r[src];
        const res = (a ^ b) >>> 0;
        c.flags.record(FlagOp.Logic, a, b, res, 4);
        r[dst] = res;
      };
    default:
      return undefined;
  }
}

/** ALU op between a 32-bit register and an immediate (already truncated to 32 bits, unsigned). */
export function aluRegisterImmediate32(op: number, dst: number, b: number): DecodedInstruction | undefined {
  switch (op) {
    case ADD:
      return (c: Cpu) => {
        const r = c.reg32;
        const a = r[dst];
        const res = a + b;
        c.flags.record(FlagOp.Add, a, b, res, 4);
        r[dst] = res;
      };
    case SUB:
      return (c: Cpu) => {
        const r = c.reg32;
        const a = r[dst];
        const res = a - b;
        c.flags.record(FlagOp.Sub, a, b, res, 4);
        r[dst] = res;
      };
    case CMP:
      return (c: Cpu) => {
        const a = c.reg32[dst];
        c.flags.record(FlagOp.Sub, a, b, a - b, 4);
      };
    case AND:
      return (c: Cpu) => {
        const r = c.reg32;
        const a = r[dst];
        const res = (a & b) >>> 0;
        c.flags.record(FlagOp.Logic, a, b, res, 4);
        r[dst] = res;
      };
    case OR:
      return (c: Cpu) => {
        const r = c.reg32;
        const a = r[dst];
        const res = (a | b) >>> 0;
        c.flags.record(FlagOp.Logic, a, b, res, 4);
        r[dst] = res;
      };
    case XOR:
      return (c: Cpu) => {
        const r = c.reg32;
        const a = r[dst];
        const res = (a ^ b) >>> 0;
        c.flags.record(FlagOp.Logic, a, b, res, 4);
        r[dst] = res;
      };
    default:
      return undefined;
  }
}

/** INC/DEC of a 32-bit register: CF is kept, as ops/alu.ts increment/decrement do. */
export function incDecRegister32(r: number, decrementIt: boolean): DecodedInstruction {
  if (decrementIt) {
    return (c: Cpu) => {
      const a = c.reg32[r];
      const res = a - 1;
      c.flags.record(FlagOp.Sub, a, 1, res, 4, ARITH_FLAGS & ~CF);
      c.reg32[r] = res;
    };
  }
  return (c: Cpu) => {
    const a = c.reg32[r];
    const res = a + 1;
    c.flags.record(FlagOp.Add, a, 1, res, 4, ARITH_FLAGS & ~CF);
    c.reg32[r] = res;
  };
}
