import type { Cpu } from '../../cpu.js';
import { AF, CF, OF, PF, SF, ZF } from '../../flag-bits.js';
import { roundByControl, scaleByPowerOfTwo } from '../../fpu/float-formats.js';
import { C0, C1, C2, C3, type FpuState } from '../../fpu/fpu-state.js';

/*
 * x87 arithmetic on the register file (Intel SDM vol. 2, F* instructions),
 * in double precision with masked exceptions.
 */

/** The eight ALU forms in ModRM reg order: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR. */
export function arithmetic(op: number, a: number, b: number): number {
  switch (op) {
    case 0: return a + b;
    case 1: return a * b;
    case 4: return a - b;
    case 5: return b - a;
    case 6: return a / b;
    default: return b / a;
  }
}

/** FCOM/FUCOM/FTST: C3 C2 C0 = 000 greater, 001 less, 100 equal, 111 unordered. */
export function compareToConditions(fpu: FpuState, a: number, b: number): void {
  const bits = Number.isNaN(a) || Number.isNaN(b) ? C3 | C2 | C0 : a > b ? 0 : a < b ? C0 : C3;
  fpu.setConditions(C3 | C2 | C1 | C0, bits);
}

/** FCOMI/FUCOMI: the same outcome in ZF, PF, CF; OF, SF, AF cleared. */
export function compareToFlags(cpu: Cpu, a: number, b: number): void {
  const bits = Number.isNaN(a) || Number.isNaN(b) ? ZF | PF | CF : a > b ? 0 : a < b ? CF : ZF;
  cpu.flags.assign(ZF | PF | CF | OF | SF | AF, bits);
  cpu.fpu.setConditions(C1, 0);
}

/** FXAM: the class of ST(0) in C3 C2 C0, its sign in C1. */
export function examine(fpu: FpuState): void {
  const sign = fpu.isEmpty(0) ? 0 : fpu.registers[fpu.top] < 0 || Object.is(fpu.registers[fpu.top], -0) ? C1 : 0;
  let bits: number;
  if (fpu.isEmpty(0)) bits = C3 | C0;
  else {
    const v = fpu.registers[fpu.top];
    if (Number.isNaN(v)) bits = C0;
    else if (!Number.isFinite(v)) bits = C2 | C0;
    else if (v === 0) bits = C3;
    else bits = C2;
  }
  fpu.setConditions(C3 | C2 | C1 | C0, bits | sign);
}

/** FPREM (truncating) and FPREM1 (round to nearest): the remainder is always complete (C2 = 0). */
export function partialRemainder(fpu: FpuState, nearest: boolean): void {
  const a = fpu.get(0);
  const b = fpu.get(1);
  const quotient = nearest ? roundByControl(a / b, 0) : Math.trunc(a / b);
  const result = Number.isFinite(quotient) ? a - quotient * b : NaN;
  fpu.set(0, result === 0 ? a * 0 : result);
  const q = Math.abs(quotient) % 8;
  fpu.setConditions(C3 | C2 | C1 | C0, (q & 4 ? C0 : 0) | (q & 2 ? C3 : 0) | (q & 1 ? C1 : 0));
}

/** D9 E0-FF: the register-only D9 group (constants, unary ops, transcendentals). */
export function d9Register(cpu: Cpu, low: number): boolean {
  const fpu = cpu.fpu;
  switch (low) {
    case 0x10: return true; // FNOP
    case 0x20: fpu.set(0, -fpu.get(0)); return true; // FCHS
    case 0x21: fpu.set(0, Math.abs(fpu.get(0))); return true; // FABS
    case 0x24: compareToConditions(fpu, fpu.get(0), 0); return true; // FTST
    case 0x25: examine(fpu); return true; // FXAM
    case 0x28: fpu.push(1); return true; // FLD1
    case 0x29: fpu.push(Math.log2(10)); return true; // FLDL2T
    case 0x2a: fpu.push(Math.LOG2E); return true; // FLDL2E
    case 0x2b: fpu.push(Math.PI); return true; // FLDPI
    case 0x2c: fpu.push(Math.LOG10E * Math.LN2); return true; // FLDLG2
    case 0x2d: fpu.push(Math.LN2); return true; // FLDLN2
    case 0x2e: fpu.push(0); return true; // FLDZ
    case 0x30: fpu.set(0, 2 ** fpu.get(0) - 1); return true; // F2XM1
    case 0x31: fpu.set(1, fpu.get(1) * Math.log2(fpu.get(0))); fpu.pop(); return true; // FYL2X
    case 0x32: fpu.set(0, Math.tan(fpu.get(0))); fpu.push(1); fpu.setConditions(C2, 0); return true; // FPTAN
    case 0x33: fpu.set(1, Math.atan2(fpu.get(1), fpu.get(0))); fpu.pop(); return true; // FPATAN
    case 0x34: { // FXTRACT
      const v = fpu.get(0);
      const exponent = v === 0 ? -Infinity : Math.floor(Math.log2(Math.abs(v)));
      fpu.set(0, exponent);
      fpu.push(v === 0 ? v : scaleByPowerOfTwo(v, -exponent));
      return true;
    }
    case 0x35: partialRemainder(fpu, true); return true; // FPREM1
    case 0x36: fpu.top = (fpu.top - 1) & 7; return true; // FDECSTP
    case 0x37: fpu.top = (fpu.top + 1) & 7; return true; // FINCSTP
    case 0x38: partialRemainder(fpu, false); return true; // FPREM
    case 0x39: fpu.set(1, fpu.get(1) * Math.log2(fpu.get(0) + 1)); fpu.pop(); return true; // FYL2XP1
    case 0x3a: fpu.set(0, Math.sqrt(fpu.get(0))); return true; // FSQRT
    case 0x3b: { // FSINCOS
      const v = fpu.get(0);
      fpu.set(0, Math.sin(v));
      fpu.push(Math.cos(v));
      fpu.setConditions(C2, 0);
      return true;
    }
    case 0x3c: fpu.set(0, roundByControl(fpu.get(0), fpu.controlWord)); return true; // FRNDINT
    case 0x3d: fpu.set(0, scaleByPowerOfTwo(fpu.get(0), Math.trunc(fpu.get(1)))); return true; // FSCALE
    case 0x3e: fpu.set(0, Math.sin(fpu.get(0))); fpu.setConditions(C2, 0); return true; // FSIN
    case 0x3f: fpu.set(0, Math.cos(fpu.get(0))); fpu.setConditions(C2, 0); return true; // FCOS
    default: return false;
  }
}
