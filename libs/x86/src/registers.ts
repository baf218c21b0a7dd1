/**
 * Register numbering as encoded in x86 instructions (ModRM reg/rm fields,
 * the low three bits of the 0x40-0x5F and 0xB0-0xBF opcodes).
 */
export const EAX = 0;
export const ECX = 1;
export const EDX = 2;
export const EBX = 3;
export const ESP = 4;
export const EBP = 5;
export const ESI = 6;
export const EDI = 7;

/** Segment register numbering as encoded in MOV Sreg and the segment prefixes. */
export const ES = 0;
export const CS = 1;
export const SS = 2;
export const DS = 3;
export const FS = 4;
export const GS = 5;

/** Used where "no segment override prefix" must be told apart from a real segment. */
export const NO_SEGMENT = -1;

/** Operand sizes in bytes. */
export type OperandSize = 1 | 2 | 4;

/** All-ones mask for an operand size in bytes (1 -> 0xFF, 2 -> 0xFFFF, 4 -> 0xFFFFFFFF). */
export function sizeMask(size: OperandSize): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

/** Bit number of the sign bit for an operand size in bytes. */
export function signBit(size: OperandSize): number {
  return size * 8 - 1;
}
