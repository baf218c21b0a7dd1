import { ARITH_FLAGS, CF } from '../flag-bits.js';
import { FlagOp } from '../lazy-flags.js';
import { ADC, ADD, AND, CMP, OR, SBB, XOR } from '../ops/alu.js';
import type { OperandSize } from '../registers.js';
import type { InstructionEmitter } from './instruction-emitter.js';
import type { ModrmSource } from './operand-source.js';

/** Sets s<j> = op(a, b) with the lazy-flag record of ops/alu.ts (same formulas, same operands). */
export function aluSource(x: InstructionEmitter, op: number, size: OperandSize, a: string, b: string): void {
  x.emit(`${x.a} = ${a};`);
  x.emit(`${x.b} = ${b};`);
  const [A, B, S] = [x.a, x.b, x.s];
  switch (op) {
    case ADD:
      x.emit(`${S} = ${A} + ${B};`);
      x.flagsFrom(FlagOp.Add, size);
      break;
    case OR:
      x.emit(`${S} = ${A} | ${B};`);
      x.flagsFrom(FlagOp.Logic, size);
      break;
    case ADC:
      // The carry in is condition B (CF set): tested straight from the instruction that set it when it is in the block.
      x.condition = 2;
      x.emit(`${S} = ${A} + ${B} + ($COND ? 1 : 0);`);
      x.flagsFrom(FlagOp.Add, size);
      break;
    case SBB:
      x.condition = 2;
      x.emit(`${S} = ${A} - ${B} - ($COND ? 1 : 0);`);
      x.flagsFrom(FlagOp.Sub, size);
      break;
    case AND:
      x.emit(`${S} = ${A} & ${B};`);
      x.flagsFrom(FlagOp.Logic, size);
      break;
    case XOR:
      x.emit(`${S} = ${A} ^ ${B};`);
      x.flagsFrom(FlagOp.Logic, size);
      break;
    default: // SUB, CMP
      x.emit(`${S} = ${A} - ${B};`);
      x.flagsFrom(FlagOp.Sub, size);
      break;
  }
}

/** ALU op with the r/m operand as destination (or just compared): op r/m, src. */
export function aluToRm(x: InstructionEmitter, op: number, size: OperandSize, m: ModrmSource, src: string): void {
  const value = x.readRm(m, size);
  aluSource(x, op, size, value, src);
  if (op !== CMP) x.writeRm(m, size, x.s);
}

/** INC/DEC r/m: CF is kept (ops/alu.ts increment/decrement). */
export function incDecSource(x: InstructionEmitter, size: OperandSize, m: ModrmSource, decrement: boolean): void {
  const value = x.readRm(m, size);
  x.emit(`${x.a} = ${value};`);
  x.emit(`${x.b} = 1;`);
  x.emit(`${x.s} = ${x.a} ${decrement ? '-' : '+'} 1;`);
  x.flagsWithoutCarry(decrement ? FlagOp.Sub : FlagOp.Add, size, ARITH_FLAGS & ~CF);
  x.writeRm(m, size, x.s);
}

