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
  /** 32-bit addressing's parts, for closures that compute the offset inline (memory-operands.ts). */
  fields?: AddressFields;
}

/**
 * One closure for every 32-bit form, (base & baseMask) + ((index & indexMask) << scale) + disp
 * with a mask of 0 for a missing register: a call site in another closure then sees one
 * function (V8 can inline it) rather than one of four (a megamorphic call).
 */
function offset32({ base, index, scale, disp }: AddressFields): OffsetFunction {
  const b = Math.max(base, 0);
  const baseMask = base < 0 ? 0 : -1;
  const i = Math.max(index, 0);
  const indexMask = index < 0 ? 0 : -1;
  return (cpu) => ((cpu.reg32[b] & baseMask) + ((cpu.reg32[i] & indexMask) << scale) + disp) >>> 0;
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
  return { segment: segOverride === NO_SEGMENT ? fields.seg : segOverride, offset: offset32(fields), fields };
}

/** 16-bit addressing as a closure, the same rules as decode/modrm.ts. */
export function decodeAddress16(bytes: CodeBytes, mod: number, rm: number, segOverride: number): DecodedAddress {
  const fields = addressFields16(bytes, mod, rm);
  return { segment: segOverride === NO_SEGMENT ? fields.seg : segOverride, offset: offset16(fields) };
}
