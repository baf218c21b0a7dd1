import { DS, EBP, ESP, SS } from '../registers.js';
import type { CodeBytes } from './code-bytes.js';

/**
 * The parts of a ModRM memory operand (Intel SDM vol. 2, tables 2-1 to 2-3): the default
 * segment, base and index registers (-1: none), the index scale (a shift) and the
 * displacement. The closure decoder and the JIT turn them into code of their own.
 */
export interface AddressFields {
  seg: number;
  base: number;
  index: number;
  scale: number;
  disp: number;
}

/** 32-bit addressing with optional SIB; disp is signed 32-bit. */
export function addressFields32(bytes: CodeBytes, mod: number, rm: number): AddressFields {
  const fields: AddressFields = { seg: DS, base: -1, index: -1, scale: 0, disp: 0 };
  if (rm === 4) {
    const sib = bytes.next8();
    const b = sib & 7;
    const i = (sib >>> 3) & 7;
    if (b === EBP && mod === 0) {
      fields.disp = bytes.next32() | 0;
    } else {
      fields.base = b;
      if (b === ESP || b === EBP) fields.seg = SS;
    }
    if (i !== ESP) {
      fields.index = i;
      fields.scale = sib >>> 6;
    }
  } else if (rm === EBP && mod === 0) {
    fields.disp = bytes.next32() | 0;
  } else {
    fields.base = rm;
    if (rm === EBP) fields.seg = SS;
  }
  if (mod === 1) fields.disp = (fields.disp + bytes.displacement8()) | 0;
  else if (mod === 2) fields.disp = (fields.disp + bytes.next32()) | 0;
  return fields;
}

/** The base/index register pairs of 16-bit addressing by rm (table 2-1); -1: none. */
const BASE16 = [3, 3, 5, 5, 6, 7, 5, 3];
const INDEX16 = [6, 7, 6, 7, -1, -1, -1, -1];

/** 16-bit addressing; with no base and no index, disp is the direct 16-bit address. */
export function addressFields16(bytes: CodeBytes, mod: number, rm: number): AddressFields {
  const seg = rm === 2 || rm === 3 || (rm === 6 && mod !== 0) ? SS : DS;
  if (rm === 6 && mod === 0) return { seg, base: -1, index: -1, scale: 0, disp: bytes.next16() };
  const disp = mod === 1 ? bytes.displacement8() : mod === 2 ? bytes.next16() : 0;
  return { seg, base: BASE16[rm], index: INDEX16[rm], scale: 0, disp };
}
