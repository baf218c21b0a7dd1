import { AF, CF, OF, PARITY, PF, SF, ZF } from '../flag-bits.js';
import type { LazyFlags } from '../lazy-flags.js';
import { sizeMask, type OperandSize } from '../registers.js';
import { setLogicFlags } from './alu.js';

/** Shift/rotate operations in the order of the reg field of opcodes 0xC0, 0xC1, 0xD0-0xD3. */
export const ROL = 0;
export const ROR = 1;
export const RCL = 2;
export const RCR = 3;
export const SHL = 4;
export const SHR = 5;
/** reg 6: SETMO on the 8086 (all ones), an alias of SHL on later CPUs. */
export const SHIFT_OP_6 = 6;
export const SAR = 7;

/**
 * Shifts or rotates `value` by `count` (already masked as the model requires)
 * and updates the flags. A zero count changes nothing, flags included.
 * `setmo` selects the 8086 meaning of reg 6.
 */
export function shiftRotate(
  flags: LazyFlags,
  op: number,
  value: number,
  count: number,
  size: OperandSize,
  setmo: boolean,
): number {
  if (count === 0) return value;
  const bits = size * 8;
  const mask = sizeMask(size);
  const msb = bits - 1;
  switch (op) {
    case ROL: {
      const n = count % bits;
      const res = n === 0 ? value : ((value << n) | (value >>> (bits - n))) & mask;
      const cf = res & 1;
      flags.assign(CF | OF, cf | ((((res >>> msb) & 1) ^ cf) !== 0 ? OF : 0));
      return res >>> 0;
    }
    case ROR: {
      const n = count % bits;
      const res = n === 0 ? value : ((value >>> n) | (value << (bits - n))) & mask;
      const top = (res >>> msb) & 1;
      const next = (res >>> (msb - 1)) & 1;
      flags.assign(CF | OF, top | ((top ^ next) !== 0 ? OF : 0));
      return res >>> 0;
    }
    case RCL:
    case RCR:
      return rotateThroughCarry(flags, op === RCL, value, count, size);
    case SHIFT_OP_6:
      if (setmo) {
        setLogicFlags(flags, mask, size);
        return mask >>> 0;
      }
      return shiftLeft(flags, value, count, size);
    case SHL:
      return shiftLeft(flags, value, count, size);
    case SHR: {
      const res = count >= bits ? 0 : value >>> count;
      const cf = count > bits ? 0 : (value >>> (count - 1)) & 1;
      const of = (value >>> msb) & 1;
      setShiftFlags(flags, res, size, cf, of);
      return res >>> 0;
    }
    default: {
      // SAR
      const signed = (value << (32 - bits)) >> (32 - bits);
      const res = (signed >> Math.min(count, 31)) & mask;
      const cf = (signed >> Math.min(count - 1, 31)) & 1;
      setShiftFlags(flags, res, size, cf, 0);
      return res >>> 0;
    }
  }
}

function shiftLeft(flags: LazyFlags, value: number, count: number, size: OperandSize): number {
  const bits = size * 8;
  const res = count >= bits ? 0 : (value << count) & sizeMask(size);
  const cf = count > bits ? 0 : (value >>> (bits - count)) & 1;
  setShiftFlags(flags, res, size, cf, cf ^ ((res >>> (bits - 1)) & 1));
  return res >>> 0;
}

function rotateThroughCarry(flags: LazyFlags, left: boolean, value: number, count: number, size: OperandSize): number {
  const bits = size * 8;
  const msb = bits - 1;
  const mask = sizeMask(size);
  let cf = flags.carry();
  let res = value;
  for (let i = 0; i < count; i++) {
    if (left) {
      const out = (res >>> msb) & 1;
      res = ((res << 1) | cf) & mask;
      cf = out;
    } else {
      const out = res & 1;
      res = (res >>> 1) | (cf << msb);
      cf = out;
    }
  }
  res >>>= 0;
  const of = left ? ((res >>> msb) & 1) ^ cf : ((res >>> msb) ^ (res >>> (msb - 1))) & 1;
  flags.assign(CF | OF, cf | (of !== 0 ? OF : 0));
  return res;
}

function setShiftFlags(flags: LazyFlags, res: number, size: OperandSize, cf: number, of: number): void {
  const bits = size * 8;
  let out = cf !== 0 ? CF : 0;
  if (of !== 0) out |= OF;
  if ((res & sizeMask(size)) === 0) out |= ZF;
  if (((res >>> (bits - 1)) & 1) !== 0) out |= SF;
  out |= PARITY[res & 0xff];
  flags.assign(CF | OF | ZF | SF | PF | AF, out);
}
