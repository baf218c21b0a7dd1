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
}

function offset32({ base, index, scale, disp }: AddressFields): OffsetFunction {
  if (base >= 0 && index >= 0) return (cpu) => (cpu.reg32[base] + (cpu.reg32[index] << scale) + disp) >>> 0;
  if (base >= 0) return disp === 0 ? (cpu) => cpu.reg32[base] : (cpu) => (cpu.reg32[base] + disp) >>> 0;
  if (index >= 0) return (cpu) => ((cpu.reg32[index] << scale) + disp) >>> 0;
  const constant = disp >>> 0;
  return () => constant;
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
  return { segment: segOverride === NO_SEGMENT ? fields.seg : segOverride, offset: offset32(fields) };
}

/** 16-bit addressing as a closure, the same rules as decode/modrm.ts. */
export function decodeAddress16(bytes: CodeBytes, mod: number, rm: number, segOverride: number): DecodedAddress {
  const fields = addressFields16(bytes, mod, rm);
  return { segment: segOverride === NO_SEGMENT ? fields.seg : segOverride, offset: offset16(fields) };
}
