import type { Cpu } from '../cpu.js';

/*
 * x87 memory operand formats (Intel SDM vol. 1, section 4.2 and 8.2):
 * single, double and double-extended reals, 16/32/64-bit integers,
 * converted to and from the doubles the register file holds.
 */

/** Multiplies by 2^exponent in steps, so intermediate powers never overflow or underflow. */
export function scaleByPowerOfTwo(value: number, exponent: number): number {
  while (exponent > 1000) {
    value *= 2 ** 1000;
    exponent -= 1000;
  }
  while (exponent < -1000) {
    value *= 2 ** -1000;
    exponent += 1000;
  }
  return value * 2 ** exponent;
}

function readBytes(cpu: Cpu, seg: number, offset: number, count: number): DataView {
  const view = cpu.fpu.scratch;
  for (let i = 0; i < count; i += 2) view.setUint16(i, cpu.readMemory(seg, (offset + i) >>> 0, 2), true);
  return view;
}

function writeBytes(cpu: Cpu, seg: number, offset: number, count: number): void {
  const view = cpu.fpu.scratch;
  for (let i = 0; i < count; i += 2) cpu.writeMemory(seg, (offset + i) >>> 0, 2, view.getUint16(i, true));
}

export function readFloat32(cpu: Cpu, seg: number, offset: number): number {
  return readBytes(cpu, seg, offset, 4).getFloat32(0, true);
}

export function readFloat64(cpu: Cpu, seg: number, offset: number): number {
  return readBytes(cpu, seg, offset, 8).getFloat64(0, true);
}

export function writeFloat32(cpu: Cpu, seg: number, offset: number, value: number): void {
  cpu.fpu.scratch.setFloat32(0, value, true);
  writeBytes(cpu, seg, offset, 4);
}

export function writeFloat64(cpu: Cpu, seg: number, offset: number, value: number): void {
  cpu.fpu.scratch.setFloat64(0, value, true);
  writeBytes(cpu, seg, offset, 8);
}

/** Double-extended: 64-bit significand with explicit integer bit, 15-bit exponent biased by 16383, sign. */
export function readExtended(cpu: Cpu, seg: number, offset: number): number {
  const view = readBytes(cpu, seg, offset, 10);
  return extendedToNumber(view.getUint32(0, true), view.getUint32(4, true), view.getUint16(8, true));
}

export function extendedToNumber(low: number, high: number, signExponent: number): number {
  const sign = (signExponent & 0x8000) !== 0 ? -1 : 1;
  const exponent = signExponent & 0x7fff;
  if (exponent === 0x7fff) return (high & 0x7fffffff) === 0 && low === 0 ? sign * Infinity : NaN;
  const significand = high * 2 ** 32 + low;
  if (significand === 0) return sign * 0;
  return sign * scaleByPowerOfTwo(significand, (exponent === 0 ? 1 : exponent) - 16383 - 63);
}

export function writeExtended(cpu: Cpu, seg: number, offset: number, value: number): void {
  const [low, high, signExponent] = numberToExtended(value);
  const view = cpu.fpu.scratch;
  view.setUint32(0, low, true);
  view.setUint32(4, high, true);
  view.setUint16(8, signExponent, true);
  writeBytes(cpu, seg, offset, 10);
}

export function numberToExtended(value: number): [number, number, number] {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  if (Number.isNaN(value)) return [0, 0xc0000000, 0xffff]; // the indefinite QNaN
  if (value === 0) return [0, 0, sign];
  if (!Number.isFinite(value)) return [0, 0x80000000, sign | 0x7fff];
  const magnitude = Math.abs(value);
  let exponent = Math.floor(Math.log2(magnitude));
  let fraction = scaleByPowerOfTwo(magnitude, -exponent);
  if (fraction >= 2) {
    fraction /= 2;
    exponent++;
  } else if (fraction < 1) {
    fraction *= 2;
    exponent--;
  }
  // fraction in [1, 2) has at most 53 significant bits: fraction * 2^63 is exact as high:low.
  const high = Math.floor(fraction * 2 ** 31) >>> 0;
  const low = ((fraction * 2 ** 31 - Math.floor(fraction * 2 ** 31)) * 2 ** 32) >>> 0;
  return [low, high, sign | (exponent + 16383)];
}

export function readInteger(cpu: Cpu, seg: number, offset: number, bytes: 2 | 4 | 8): number {
  const view = readBytes(cpu, seg, offset, bytes);
  if (bytes === 2) return view.getInt16(0, true);
  if (bytes === 4) return view.getInt32(0, true);
  return Number(view.getBigInt64(0, true));
}

/** Rounds by the control word's RC field: nearest (even), down, up, toward zero. */
export function roundByControl(value: number, controlWord: number): number {
  switch ((controlWord >>> 10) & 3) {
    case 0: {
      const r = Math.round(value);
      return Math.abs(value % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    }
    case 1: return Math.floor(value);
    case 2: return Math.ceil(value);
    default: return Math.trunc(value);
  }
}

/** Stores as an integer; NaN or out of range stores the integer indefinite (the most negative value). */
export function writeInteger(cpu: Cpu, seg: number, offset: number, bytes: 2 | 4 | 8, value: number): void {
  const view = cpu.fpu.scratch;
  const rounded = roundByControl(value, cpu.fpu.controlWord);
  const limit = 2 ** (bytes * 8 - 1);
  const ok = Number.isFinite(rounded) && rounded >= -limit && rounded < limit;
  if (bytes === 2) view.setInt16(0, ok ? rounded : -0x8000, true);
  else if (bytes === 4) view.setInt32(0, ok ? rounded : -0x80000000, true);
  else view.setBigInt64(0, ok ? BigInt(rounded) : -(2n ** 63n), true);
  writeBytes(cpu, seg, offset, bytes);
}
