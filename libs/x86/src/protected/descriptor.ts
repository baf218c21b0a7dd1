/**
 * Segment and gate descriptors (Intel SDM vol. 3, sections 3.4.5 and 6.11):
 * pure decoding of the two dwords of an 8-byte descriptor.
 *
 * Access rights are kept in the "attribute word" layout that LAR returns
 * shifted down by 8: bits 0-7 the access byte (type, S, DPL, P), bits 12-15
 * the flags nibble (AVL, L, D/B, G).
 */

/** Access byte bits. */
export const ACCESSED = 0x01;
/** Data: writable; code: readable. */
export const DATA_WRITABLE = 0x02;
export const CODE_READABLE = 0x02;
/** Data: expand-down; code: conforming. */
export const DATA_EXPAND_DOWN = 0x04;
export const CODE_CONFORMING = 0x04;
/** Set for code segments (with S set). */
export const CODE = 0x08;
/** S: code/data (set) versus system descriptor (clear). */
export const CODE_OR_DATA = 0x10;
export const PRESENT = 0x80;
/** Flags nibble bits in the attribute word. */
export const DEFAULT_BIG = 0x4000;
export const GRANULARITY = 0x8000;

/** System descriptor types (S clear), the low four bits of the access byte. */
export const enum SystemType {
  Tss16Available = 1,
  Ldt = 2,
  Tss16Busy = 3,
  CallGate16 = 4,
  TaskGate = 5,
  InterruptGate16 = 6,
  TrapGate16 = 7,
  Tss32Available = 9,
  Tss32Busy = 11,
  CallGate32 = 12,
  InterruptGate32 = 14,
  TrapGate32 = 15,
}

/** Real-mode style attributes: present, accessed, read/write data (or readable code for CS). */
export const REAL_MODE_DATA_ATTRIBUTES = PRESENT | CODE_OR_DATA | DATA_WRITABLE | ACCESSED;
export const REAL_MODE_CODE_ATTRIBUTES = REAL_MODE_DATA_ATTRIBUTES | CODE;

export function descriptorBase(low: number, high: number): number {
  return ((low >>> 16) | ((high & 0xff) << 16) | (high & 0xff000000)) >>> 0;
}

/** Limit in bytes: the 20-bit field, scaled to 4 KiB units when G is set. */
export function descriptorLimit(low: number, high: number): number {
  const raw = (low & 0xffff) | (high & 0xf0000);
  return (high & 0x800000) !== 0 ? ((raw << 12) | 0xfff) >>> 0 : raw;
}

export function descriptorAttributes(high: number): number {
  return (high >>> 8) & 0xf0ff;
}

export function attributesDpl(attributes: number): number {
  return (attributes >>> 5) & 3;
}

export function isPresent(attributes: number): boolean {
  return (attributes & PRESENT) !== 0;
}

export function isCodeOrData(attributes: number): boolean {
  return (attributes & CODE_OR_DATA) !== 0;
}

export function isCode(attributes: number): boolean {
  return (attributes & (CODE_OR_DATA | CODE)) === (CODE_OR_DATA | CODE);
}

export function isData(attributes: number): boolean {
  return (attributes & (CODE_OR_DATA | CODE)) === CODE_OR_DATA;
}

export function isConformingCode(attributes: number): boolean {
  return isCode(attributes) && (attributes & CODE_CONFORMING) !== 0;
}

/** Low four bits of the access byte of a system descriptor. */
export function systemType(attributes: number): number {
  return attributes & 0xf;
}

/** A gate's target: selector, offset (16-bit gates use only the low word) and parameter count. */
export interface GateTarget {
  selector: number;
  offset: number;
  /** Call gates only: dwords (or words) of parameters copied to the new stack. */
  parameterCount: number;
  /** 32-bit gate (types 12, 14, 15) versus 16-bit (4, 6, 7). */
  is32: boolean;
}

export function gateTarget(low: number, high: number): GateTarget {
  const is32 = (high & 0x800) !== 0;
  const offset = is32 ? ((low & 0xffff) | (high & 0xffff0000)) >>> 0 : low & 0xffff;
  return { selector: low >>> 16, offset, parameterCount: high & 0x1f, is32 };
}
