import { REP_NONE, type Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { FlagOp } from '../lazy-flags.js';
import { EAX, EDX, type OperandSize } from '../registers.js';
import { signExtend } from '../decode/operands.js';

/**
 * MUL/IMUL with one operand: AL/AX/EAX times src into AX, DX:AX or EDX:EAX.
 * CF and OF say whether the upper half carries significant bits; the other
 * status flags are undefined and here follow the low half.
 */
export function multiplyAccumulator(cpu: Cpu, src: number, size: OperandSize, signed: boolean): void {
  const a = cpu.getReg(size, EAX);
  let low: number;
  let high: number;
  if (size === 4) {
    if (signed) multiply32Signed(a | 0, src | 0);
    else multiply32Unsigned(a, src);
    low = product64.low;
    high = product64.high;
  } else {
    const product = signed ? signExtend(a, size) * signExtend(src, size) : a * src;
    const bits = size * 8;
    low = product & ((1 << bits) - 1);
    high = (product >> bits) & ((1 << bits) - 1);
  }
  if (size === 1) {
    cpu.reg16[EAX << 1] = low | (high << 8);
  } else {
    cpu.setReg(size, EAX, low);
    cpu.setReg(size, EDX, high);
  }
  const highMask = size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
  const upperSignificant = signed ? high !== (signExtend(low, size) < 0 ? highMask : 0) : high !== 0;
  // SF/ZF/PF from the low half, AF clear, CF = OF = upper half significant (a lazy Shift-style record).
  const carry = upperSignificant ? 1 : 0;
  cpu.flags.set(FlagOp.Shift, carry, carry, low, size);
}

/** Two- and three-operand IMUL: returns the truncated product and sets CF/OF on overflow. */
export function multiplySigned(cpu: Cpu, a: number, b: number, size: OperandSize): number {
  let low: number;
  let overflow: boolean;
  if (size === 4) {
    // The low word is exact with Math.imul; the double product is exact whenever it fits
    // in 32 bits and lands outside that range whenever the true product does.
    const product = (a | 0) * (b | 0);
    low = Math.imul(a, b);
    overflow = product > 0x7fffffff || product < -0x80000000;
  } else {
    const product = signExtend(a, size) * signExtend(b, size);
    low = product & 0xffff;
    overflow = product !== signExtend(low, 2);
  }
  const carry = overflow ? 1 : 0;
  cpu.flags.set(FlagOp.Shift, carry, carry, low, size);
  return low >>> 0;
}

/**
 * DIV/IDIV: AX, DX:AX or EDX:EAX divided by src. Raises #DE for a zero
 * divisor or a quotient that does not fit.
 */
export function divideAccumulator(cpu: Cpu, src: number, size: OperandSize, signed: boolean): void {
  if (src === 0) throw new CpuFault(Vector.DivideError);
  if (size === 4) {
    divide64(cpu, src, signed);
    return;
  }
  const bits = size * 8;
  const dividend = size === 1 ? cpu.reg16[EAX << 1] : cpu.reg16[EAX << 1] | (cpu.reg16[EDX << 1] << 16);
  let quotient: number;
  let remainder: number;
  if (signed) {
    const n = size === 1 ? signExtend(dividend, 2) : dividend | 0;
    const d = signExtend(src, size);
    quotient = Math.trunc(n / d);
    remainder = n % d;
    const limit = 1 << (bits - 1);
    const lowest = cpu.quirks.idivRejectsMostNegative ? -limit + 1 : -limit;
    if (quotient >= limit || quotient < lowest) throw new CpuFault(Vector.DivideError);
    if (cpu.quirks.repNegatesQuotient && cpu.repPrefix !== REP_NONE) quotient = -quotient;
  } else {
    const n = dividend >>> 0;
    quotient = Math.floor(n / src);
    remainder = n % src;
    if (quotient >= 1 << bits) throw new CpuFault(Vector.DivideError);
  }
  const mask = (1 << bits) - 1;
  if (size === 1) {
    cpu.reg16[EAX << 1] = (quotient & mask) | ((remainder & mask) << 8);
  } else {
    cpu.reg16[EAX << 1] = quotient;
    cpu.reg16[EDX << 1] = remainder;
  }
}

function divide64(cpu: Cpu, src: number, signed: boolean): void {
  const high = cpu.reg32[EDX];
  const low = cpu.reg32[EAX];
  // Dividends below 2^53 in magnitude divide exactly in doubles (the usual case: EDX is
  // 0 or the sign extension of EAX); the rest take BigInt.
  const n = signed ? (high | 0) * 0x1_0000_0000 + low : high * 0x1_0000_0000 + low;
  if (Math.abs(n) <= 2 ** 52) {
    const d = signed ? src | 0 : src >>> 0;
    let quotient = Math.trunc(n / d);
    let remainder = n - quotient * d;
    // n / d was rounded: put the quotient back where the remainder has the dividend's sign and |r| < |d|.
    if (remainder !== 0 && Math.sign(remainder) !== Math.sign(n)) {
      quotient += Math.sign(n) === Math.sign(d) ? -1 : 1;
      remainder = n - quotient * d;
    } else if (Math.abs(remainder) >= Math.abs(d)) {
      quotient += Math.sign(n) === Math.sign(d) ? 1 : -1;
      remainder = n - quotient * d;
    }
    const fits = signed ? quotient <= 0x7fffffff && quotient >= (cpu.quirks.idivRejectsMostNegative ? -0x7fffffff : -0x80000000) : quotient <= 0xffffffff;
    if (!fits) throw new CpuFault(Vector.DivideError);
    cpu.reg32[EAX] = quotient;
    cpu.reg32[EDX] = remainder;
    return;
  }
  divide64Big(cpu, src, signed);
}

function divide64Big(cpu: Cpu, src: number, signed: boolean): void {
  const raw = (BigInt(cpu.reg32[EDX]) << 32n) | BigInt(cpu.reg32[EAX]);
  const n = signed ? BigInt.asIntN(64, raw) : raw;
  const d = signed ? BigInt(src | 0) : BigInt(src >>> 0);
  const quotient = n / d;
  const remainder = n % d;
  const fits = signed
    ? quotient <= 0x7fffffffn && quotient >= (cpu.quirks.idivRejectsMostNegative ? -0x7fffffffn : -0x80000000n)
    : quotient <= 0xffffffffn;
  if (!fits) throw new CpuFault(Vector.DivideError);
  cpu.reg32[EAX] = Number(BigInt.asUintN(32, quotient));
  cpu.reg32[EDX] = Number(BigInt.asUintN(32, remainder));
}

/** Where the 64-bit multiplications leave their result (no array per MUL). */
const product64 = { low: 0, high: 0 };

/** The 64-bit product of two unsigned 32-bit numbers into product64, in exact double arithmetic (16-bit halves). */
function multiply32Unsigned(a: number, b: number): void {
  a >>>= 0;
  b >>>= 0;
  const aLow = a & 0xffff;
  const aHigh = a >>> 16;
  const bLow = b & 0xffff;
  const bHigh = b >>> 16;
  const middle = aHigh * bLow + aLow * bHigh; // < 2^33
  const lowSum = aLow * bLow + (middle % 0x10000) * 0x10000; // < 2^33
  product64.low = lowSum % 0x1_0000_0000;
  product64.high = (aHigh * bHigh + Math.floor(middle / 0x10000) + Math.floor(lowSum / 0x1_0000_0000)) >>> 0;
}

/** The 64-bit two's-complement product of two signed 32-bit numbers into product64 (unsigned words). */
function multiply32Signed(a: number, b: number): void {
  multiply32Unsigned(Math.abs(a), Math.abs(b));
  const { low, high } = product64;
  if ((a < 0) === (b < 0) || (low === 0 && high === 0)) return;
  // Negate the 64-bit value: invert both words and add one.
  product64.low = (~low + 1) >>> 0;
  product64.high = (~high + (low === 0 ? 1 : 0)) >>> 0;
}
