import type { Cpu } from '../cpu.js';
import { NO_SEGMENT } from '../registers.js';
import { addressFields16, addressFields32, type AddressFields } from './address-fields.js';
import type { CodeBytes } from './code-bytes.js';

/** Computes the offset of a pre-decoded memory operand from the current registers. */
export type OffsetFunction = (cpu: Cpu) => number;

/** A decoded memory operand: its segment (prefix applied) and how to compute its offset. */
export interface DecodedAddress {
  segment: number;
  offset: OffsetFunction;
  /** 32-bit addressing as the inline formula's constants (memory-operands.ts); absent for 16-bit. */
  inline?: InlineAddress;
}

/**
 * 32-bit addressing as one formula for every form: (reg32[base] & baseMask) +
 * ((reg32[index] & indexMask) << scale) + disp, a mask of 0 (and register 0) standing for
 * a missing register. Closures that compute it inline (memory-operands.ts) have no branch
 * on the form, and the offset closure is one function for all forms: a call site in another
 * closure then sees one function (V8 can inline it) rather than one of four (a megamorphic
 * call through V8's generic Call builtin).
 */
export interface InlineAddress {
  base: number;
  baseMask: number;
  index: number;
  indexMask: number;
  scale: number;
  disp: number;
}

function inline32({ base, index, scale, disp }: AddressFields): InlineAddress {
  return { base: Math.max(base, 0), baseMask: base < 0 ? 0 : -1, index: Math.max(index, 0), indexMask: index < 0 ? 0 : -1, scale, disp };
}

function offset32({ base, baseMask, index, indexMask, scale, disp }: InlineAddress): OffsetFunction {
  return (cpu) => ((cpu.reg32[base] & baseMask) + ((cpu.reg32[index] & indexMask) << scale) + disp) >>> 0;
}

function offset16({ base, index, disp }: AddressFields): OffsetFunction {
  if (base < 0) return () => disp;
  const b = base << 1;
  if (index < 0) return (cpu) => (cpu.reg16[b] + disp) & 0xffff;
  const ix = index << 1;
  return (cpu) => (cpu.reg16[b] + cpu.reg16[ix] + disp) & 0xffff;
}

/** 32-bit addressing as a closure, the same rules as decode/modrm.ts. */
export function decodeAddress32(bytes: CodeBytes, mod: number, rm: number, segOverride: number): DecodedAddress {
  const fields = addressFields32(bytes, mod, rm);
  const inline = inline32(fields);
  return { segment: segOverride === NO_SEGMENT ? fields.seg : segOverride, offset: offset32(inline), inline };
}

/** 16-bit addressing as a closure, the same rules as decode/modrm.ts. */
export function decodeAddress16(bytes: CodeBytes, mod: number, rm: number, segOverride: number): DecodedAddress {
  const fields = addressFields16(bytes, mod, rm);
  return { segment: segOverride === NO_SEGMENT ? fields.seg : segOverride, offset: offset16(fields) };
}
