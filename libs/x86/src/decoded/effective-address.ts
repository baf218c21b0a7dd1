import type { Cpu } from '../cpu.js';
import { DS, EBP, ESP, NO_SEGMENT, SS } from '../registers.js';

/** Computes the offset of a pre-decoded memory operand from the current registers. */
export type OffsetFunction = (cpu: Cpu) => number;

/** A decoded memory operand: its segment (prefix applied) and how to compute its offset. */
export interface DecodedAddress {
  segment: number;
  offset: OffsetFunction;
}

/** Reads the instruction bytes being decoded; past the end of what may be read it reports an overrun. */
export interface ByteReader {
  next8(): number;
  next16(): number;
  next32(): number;
}

function base32(base: number, disp: number): OffsetFunction {
  if (disp === 0) return (cpu) => cpu.reg32[base];
  return (cpu) => (cpu.reg32[base] + disp) >>> 0;
}

function baseIndex32(base: number, index: number, scale: number, disp: number): OffsetFunction {
  return (cpu) => (cpu.reg32[base] + (cpu.reg32[index] << scale) + disp) >>> 0;
}

function index32(index: number, scale: number, disp: number): OffsetFunction {
  return (cpu) => ((cpu.reg32[index] << scale) + disp) >>> 0;
}

/** 32-bit addressing with optional SIB (Intel SDM vol. 2, tables 2-2 and 2-3), the same rules as decode/modrm.ts. */
export function decodeAddress32(bytes: ByteReader, mod: number, rm: number, segOverride: number): DecodedAddress {
  let seg = DS;
  let base = -1;
  let index = -1;
  let scale = 0;
  let disp = 0;
  if (rm === 4) {
    const sib = bytes.next8();
    const b = sib & 7;
    const i = (sib >>> 3) & 7;
    if (b === EBP && mod === 0) {
      disp = bytes.next32() | 0;
    } else {
      base = b;
      if (b === ESP || b === EBP) seg = SS;
    }
    if (i !== ESP) {
      index = i;
      scale = sib >>> 6;
    }
  } else if (rm === EBP && mod === 0) {
    disp = bytes.next32() | 0;
  } else {
    base = rm;
    if (rm === EBP) seg = SS;
  }
  if (mod === 1) disp = (disp + ((bytes.next8() << 24) >> 24)) | 0;
  else if (mod === 2) disp = (disp + bytes.next32()) | 0;
  let offset: OffsetFunction;
  if (base >= 0 && index >= 0) offset = baseIndex32(base, index, scale, disp);
  else if (base >= 0) offset = base32(base, disp);
  else if (index >= 0) offset = index32(index, scale, disp);
  else {
    const constant = disp >>> 0;
    offset = () => constant;
  }
  return { segment: segOverride === NO_SEGMENT ? seg : segOverride, offset };
}

/** The base/index register pairs of 16-bit addressing by rm (Intel SDM vol. 2, table 2-1); -1: none. */
const BASE16 = [3, 3, 5, 5, 6, 7, 5, 3];
const INDEX16 = [6, 7, 6, 7, -1, -1, -1, -1];

/** 16-bit addressing, the same rules as decode/modrm.ts. */
export function decodeAddress16(bytes: ByteReader, mod: number, rm: number, segOverride: number): DecodedAddress {
  let seg = rm === 2 || rm === 3 || (rm === 6 && mod !== 0) ? SS : DS;
  let disp = 0;
  let offset: OffsetFunction;
  if (rm === 6 && mod === 0) {
    const constant = bytes.next16();
    offset = () => constant;
  } else {
    if (mod === 1) disp = (bytes.next8() << 24) >> 24;
    else if (mod === 2) disp = bytes.next16();
    const b = BASE16[rm] << 1;
    const i = INDEX16[rm];
    if (i >= 0) {
      const ix = i << 1;
      offset = (cpu) => (cpu.reg16[b] + cpu.reg16[ix] + disp) & 0xffff;
    } else {
      offset = (cpu) => (cpu.reg16[b] + disp) & 0xffff;
    }
  }
  if (segOverride !== NO_SEGMENT) seg = segOverride;
  return { segment: seg, offset };
}
