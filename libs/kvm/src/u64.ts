/**
 * 64-bit struct fields as JS numbers. x86 register values of real, protected and most
 * long-mode code fit in 53 bits; a value that does not is rejected on write and rounded
 * on read (documented limitation: canonical upper-half long-mode addresses).
 */

const TWO_32 = 0x1_0000_0000;

export function readU64(view: DataView, offset: number): number {
  return view.getUint32(offset + 4, true) * TWO_32 + view.getUint32(offset, true);
}

export function writeU64(view: DataView, offset: number, value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${field}: ${value} is not an unsigned integer below 2^53`);
  }
  view.setUint32(offset, value % TWO_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_32), true);
}
