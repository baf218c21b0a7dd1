/** Tag values (Intel SDM vol. 1, section 8.1.7). */
export const TAG_VALID = 0;
export const TAG_ZERO = 1;
export const TAG_SPECIAL = 2;
export const TAG_EMPTY = 3;

/** Status word condition bits (section 8.1.3). */
export const C0 = 1 << 8;
export const C1 = 1 << 9;
export const C2 = 1 << 10;
export const C3 = 1 << 14;
const TOP_SHIFT = 11;
const TOP_MASK = 7 << TOP_SHIFT;
/** Invalid-operation and stack-fault flags, set on stack overflow/underflow. */
const INVALID = 1 << 0;
const STACK_FAULT = 1 << 6;

/**
 * The x87 register file. Values are held as JS doubles (64-bit precision
 * instead of the hardware's 64-bit-mantissa extended format; the usual
 * shortcut of software x86 emulators), with the tag of each physical register
 * and the top-of-stack pointer. Exceptions are always treated as masked.
 */
export class FpuState {
  controlWord = 0x37f;
  /** Status word without TOP (bits 11-13), which lives in `top`. */
  private status = 0;
  top = 0;
  readonly registers = new Float64Array(8);
  readonly tags = new Uint8Array(8).fill(TAG_EMPTY);
  /** Escape opcodes executed that the core does not implement (they do nothing); a diagnostic, not state. */
  unimplemented = 0;
  /** Scratch for converting between memory formats and doubles (per instance: no shared state). */
  readonly scratch = new DataView(new ArrayBuffer(16));

  /** FNINIT (section 8.1.5): masked exceptions, 64-bit precision, nearest rounding, empty stack. */
  reset(): void {
    this.controlWord = 0x37f;
    this.status = 0;
    this.top = 0;
    this.registers.fill(0);
    this.tags.fill(TAG_EMPTY);
  }

  get statusWord(): number {
    return ((this.status & ~TOP_MASK) | (this.top << TOP_SHIFT)) & 0xffff;
  }

  set statusWord(value: number) {
    this.status = value & ~TOP_MASK & 0xffff;
    this.top = (value >>> TOP_SHIFT) & 7;
  }

  get tagWord(): number {
    let word = 0;
    for (let i = 0; i < 8; i++) word |= this.tags[i] << (i * 2);
    return word;
  }

  set tagWord(value: number) {
    for (let i = 0; i < 8; i++) this.tags[i] = (value >>> (i * 2)) & 3;
  }

  /** Sets the condition bits in `mask` to those of `bits`. */
  setConditions(mask: number, bits: number): void {
    this.status = (this.status & ~mask) | (bits & mask);
  }

  private physical(i: number): number {
    return (this.top + i) & 7;
  }

  isEmpty(i: number): boolean {
    return this.tags[this.physical(i)] === TAG_EMPTY;
  }

  /** ST(i); an empty register reads as the indefinite NaN and flags a stack underflow. */
  get(i: number): number {
    const p = this.physical(i);
    if (this.tags[p] === TAG_EMPTY) {
      this.status |= INVALID | STACK_FAULT;
      this.setConditions(C1, 0);
      return NaN;
    }
    return this.registers[p];
  }

  set(i: number, value: number): void {
    const p = this.physical(i);
    this.registers[p] = value;
    this.tags[p] = value === 0 ? TAG_ZERO : Number.isFinite(value) ? TAG_VALID : TAG_SPECIAL;
  }

  push(value: number): void {
    this.top = (this.top - 1) & 7;
    if (this.tags[this.top] !== TAG_EMPTY) {
      this.status |= INVALID | STACK_FAULT;
      this.setConditions(C1, C1);
      value = NaN;
    }
    this.set(0, value);
  }

  pop(): number {
    const value = this.get(0);
    this.tags[this.top] = TAG_EMPTY;
    this.top = (this.top + 1) & 7;
    return value;
  }

  /** FFREE: marks ST(i) empty. */
  free(i: number): void {
    this.tags[this.physical(i)] = TAG_EMPTY;
  }
}
