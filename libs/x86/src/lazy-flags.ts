import { AF, ARITH_FLAGS, CF, OF, PARITY, PF, SF, ZF } from './flag-bits.js';
import type { OperandSize } from './registers.js';
import { widenNumberFields } from './wide-fields.js';

/** Which formula turns the recorded operands and result into status flags. */
export enum FlagOp {
  /** ADD, ADC, INC: res = a + b (+ carry), not truncated. */
  Add = 0,
  /** SUB, SBB, CMP, DEC, NEG: res = a - b (- borrow), not truncated. */
  Sub = 1,
  /** AND, OR, XOR, TEST and anything that clears CF/OF and sets SF/ZF/PF from res. */
  Logic = 2,
  /** SHL/SHR/SAR by a non-zero count: CF is `a` (0/1), OF is `b` (0/1), AF clear, SF/ZF/PF from res. */
  Shift = 3,
}

/**
 * Arithmetic flags computed on demand.
 *
 * Most instructions set the status flags, but few read them before the next
 * instruction overwrites them. Instead of computing CF/PF/AF/ZF/SF/OF every
 * time, an arithmetic instruction records its operands and its untruncated
 * result; a flag is only worked out when something reads it.
 *
 * `stored` holds every EFLAGS bit that is known; `pending` says which of the
 * arithmetic bits must instead be derived from the last recorded operation.
 */
export class LazyFlags {
  stored = 0;
  pending = 0;
  private op: FlagOp = FlagOp.Logic;
  private a = 0;
  private b = 0;
  private res = 0;
  private size: OperandSize = 1;

  constructor() {
    // Unsigned 32-bit operands and results (wide-fields.ts).
    widenNumberFields(this, ['a', 'b', 'res']);
  }

  /** Records an operation; `affected` are the flags it defines (INC/DEC leave CF alone). */
  record(op: FlagOp, a: number, b: number, res: number, size: OperandSize, affected: number = ARITH_FLAGS): void {
    const keep = this.pending & ~affected;
    if (keep !== 0) this.materialize(keep);
    this.stored &= ~affected;
    this.pending = affected;
    this.op = op;
    this.a = a;
    this.b = b;
    this.res = res;
    this.size = size;
  }

  /** record() of an operation that defines all six arithmetic flags (the JIT's common case). */
  set(op: FlagOp, a: number, b: number, res: number, size: OperandSize): void {
    this.stored &= ~ARITH_FLAGS;
    this.pending = ARITH_FLAGS;
    this.op = op;
    this.a = a;
    this.b = b;
    this.res = res;
    this.size = size;
  }

  /** Sets the flags in `mask` to the matching bits of `value` right now. */
  assign(mask: number, value: number): void {
    const keep = this.pending & ~mask;
    if (keep !== 0) this.materialize(keep);
    this.pending = 0;
    this.stored = (this.stored & ~mask) | (value & mask);
  }

  /** The full flags value, pending bits worked out. */
  get value(): number {
    return this.pending === 0 ? this.stored : this.stored | this.compute(this.pending);
  }

  /** Replaces all flags (POPF, IRET, SAHF through `assign`). */
  set value(v: number) {
    this.pending = 0;
    this.stored = v;
  }

  /** Reads flag bits, returning those of `bits` that are set. */
  get(bits: number): number {
    const lazy = this.pending & bits;
    return lazy === 0 ? this.stored & bits : (this.stored & bits) | this.compute(lazy);
  }

  /** 1 when CF is set, else 0: the carry-in for ADC/SBB/RCL/RCR. */
  carry(): number {
    return this.get(CF) !== 0 ? 1 : 0;
  }

  private materialize(bits: number): void {
    this.stored = (this.stored & ~bits) | this.compute(bits);
    this.pending &= ~bits;
  }

  private compute(bits: number): number {
    const res = this.res;
    const shift = this.size * 8 - 1;
    let out = 0;
    if ((bits & ZF) !== 0 && (res & (this.size === 4 ? -1 : (1 << (shift + 1)) - 1)) === 0) out |= ZF;
    if ((bits & SF) !== 0 && ((res >>> shift) & 1) !== 0) out |= SF;
    if ((bits & PF) !== 0) out |= PARITY[res & 0xff];
    if (this.op === FlagOp.Logic) return out;
    const a = this.a;
    const b = this.b;
    if (this.op === FlagOp.Shift) {
      if ((bits & CF) !== 0 && a !== 0) out |= CF;
      if ((bits & OF) !== 0 && b !== 0) out |= OF;
      return out;
    }
    if ((bits & CF) !== 0) {
      const max = this.size === 4 ? 0xffffffff : (1 << (shift + 1)) - 1;
      if (res < 0 || res > max) out |= CF;
    }
    if ((bits & AF) !== 0 && ((a ^ b ^ res) & 0x10) !== 0) out |= AF;
    if ((bits & OF) !== 0) {
      const overflow = this.op === FlagOp.Add ? (a ^ res) & (b ^ res) : (a ^ b) & (a ^ res);
      if (((overflow >>> shift) & 1) !== 0) out |= OF;
    }
    return out;
  }
}
