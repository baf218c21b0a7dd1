import { CF, OF, PF, SF, ZF } from '../flag-bits.js';
import { FlagOp } from '../lazy-flags.js';
import type { FlagSource } from './block-source.js';

/** Flags each condition code pair reads (cc >>> 1: O, B, E, BE, S, P, L, LE). */
const CONDITION_FLAGS = [OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF];

export function flagsReadBy(cc: number): number {
  return CONDITION_FLAGS[cc >>> 1];
}

/**
 * Condition `cc` computed straight from the operands and result of the
 * instruction that set the flags, with the formulas of LazyFlags.compute;
 * undefined when that instruction does not define a flag the condition needs
 * (INC/DEC and CF).
 */
export function directCondition(cc: number, src: FlagSource): string | undefined {
  const needs = CONDITION_FLAGS[cc >>> 1];
  if ((needs & CF) !== 0 && !src.definesCarry) return undefined;
  const { a, b, res, size } = src;
  const sign = size * 8 - 1;
  const mask = size === 4 ? '-1' : size === 2 ? '0xffff' : '0xff';
  const max = size === 4 ? '0xffffffff' : size === 2 ? '0xffff' : '0xff';
  const zf = `((${res} & ${mask}) === 0)`;
  const sf = `(((${res} >>> ${sign}) & 1) !== 0)`;
  const pf = `(PAR[${res} & 0xff] !== 0)`;
  const logic = src.op === FlagOp.Logic;
  const overflowBits = src.op === FlagOp.Add ? `((${a} ^ ${res}) & (${b} ^ ${res}))` : `((${a} ^ ${b}) & (${a} ^ ${res}))`;
  let of = logic ? 'false' : `(((${overflowBits} >>> ${sign}) & 1) !== 0)`;
  let cf = logic ? 'false' : src.op === FlagOp.Add ? `(${res} > ${max})` : `(${res} < 0)`;
  let less = logic ? sf : `((((${res} ^ ${overflowBits}) >>> ${sign}) & 1) !== 0)`;
  if (src.op === FlagOp.Shift) {
    // Shifts carry CF and OF as 0/1 in a and b (LazyFlags.compute).
    cf = `(${a} !== 0)`;
    of = `(${b} !== 0)`;
    less = `(${sf} !== ${of})`;
  }
  let test: string;
  switch (cc >>> 1) {
    case 0: test = of; break;
    case 1: test = cf; break;
    case 2: test = zf; break;
    case 3: test = `(${cf} || ${zf})`; break;
    case 4: test = sf; break;
    case 5: test = pf; break;
    case 6: test = less; break;
    default: test = `(${zf} || ${less})`; break;
  }
  return (cc & 1) !== 0 ? `!${test}` : test;
}

/** The condition through the lazy flags (any flag state). */
export function genericCondition(cc: number): string {
  return `tc(f, ${cc})`;
}
