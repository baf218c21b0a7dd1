import type { Cpu } from '../../cpu.js';
import { decodeModrm } from '../../decode/modrm.js';
import {
  readExtended,
  readFloat32,
  readFloat64,
  readInteger,
  writeExtended,
  writeFloat32,
  writeFloat64,
  writeInteger,
} from '../../fpu/float-formats.js';
import { EAX } from '../../registers.js';
import { testCondition } from '../conditions.js';
import { arithmetic, compareToConditions, compareToFlags, d9Register } from './x87-arithmetic.js';
import { checkFpuAvailable, loadEnvironment, restoreState, saveState, storeEnvironment } from './x87-control.js';

/*
 * The D8-DF escape opcodes (Intel SDM vol. 2, "x87 FPU instructions";
 * opcode map tables ). Not implemented (counted in
 * cpu.fpu.unimplemented, otherwise no effect): FBLD/FBSTP (packed BCD).
 */

/** D8/DC/DA/DE memory forms: the ALU op with a memory operand of the given kind. */
function memoryOperand(cpu: Cpu, opcode: number): number {
  const seg = cpu.eaSegment;
  const offset = cpu.eaOffset;
  switch (opcode) {
    case 0xd8: return readFloat32(cpu, seg, offset);
    case 0xdc: return readFloat64(cpu, seg, offset);
    case 0xda: return readInteger(cpu, seg, offset, 4);
    default: return readInteger(cpu, seg, offset, 2);
  }
}

function aluWithSource(cpu: Cpu, op: number, source: number): void {
  const fpu = cpu.fpu;
  if (op === 2 || op === 3) {
    compareToConditions(fpu, fpu.get(0), source);
    if (op === 3) fpu.pop();
    return;
  }
  fpu.set(0, arithmetic(op, fpu.get(0), source));
}

/** FCMOVcc: DA C0-DF (B, E, BE, U), DB C0-DF (NB, NE, NBE, NU). */
function conditionalMove(cpu: Cpu, opcode: number): void {
  const group = cpu.modrmReg & 3;
  const condition = group === 0 ? 0x2 : group === 1 ? 0x4 : group === 2 ? 0x6 : 0xa; // Jcc codes B, E, BE, P
  const taken = testCondition(cpu.flags, condition) !== (opcode === 0xdb);
  if (taken) cpu.fpu.set(0, cpu.fpu.get(cpu.modrmRm));
}

function memoryForm(cpu: Cpu, opcode: number): boolean {
  const fpu = cpu.fpu;
  const reg = cpu.modrmReg;
  const seg = cpu.eaSegment;
  const offset = cpu.eaOffset;
  if (opcode === 0xd8 || opcode === 0xdc || opcode === 0xda || opcode === 0xde) {
    aluWithSource(cpu, reg, memoryOperand(cpu, opcode));
    return true;
  }
  switch ((opcode << 4) | reg) {
    case 0xd90: fpu.push(readFloat32(cpu, seg, offset)); return true; // FLD m32
    case 0xd92: writeFloat32(cpu, seg, offset, fpu.get(0)); return true; // FST m32
    case 0xd93: writeFloat32(cpu, seg, offset, fpu.get(0)); fpu.pop(); return true; // FSTP m32
    case 0xd94: loadEnvironment(cpu); return true; // FLDENV
    case 0xd95: fpu.controlWord = cpu.readMemory(seg, offset, 2); return true; // FLDCW
    case 0xd96: storeEnvironment(cpu); fpu.controlWord |= 0x3f; return true; // FNSTENV
    case 0xd97: cpu.writeMemory(seg, offset, 2, fpu.controlWord); return true; // FNSTCW
    case 0xdb0: fpu.push(readInteger(cpu, seg, offset, 4)); return true; // FILD m32
    case 0xdb2: writeInteger(cpu, seg, offset, 4, fpu.get(0)); return true; // FIST m32
    case 0xdb3: writeInteger(cpu, seg, offset, 4, fpu.get(0)); fpu.pop(); return true; // FISTP m32
    case 0xdb5: fpu.push(readExtended(cpu, seg, offset)); return true; // FLD m80
    case 0xdb7: writeExtended(cpu, seg, offset, fpu.get(0)); fpu.pop(); return true; // FSTP m80
    case 0xdd0: fpu.push(readFloat64(cpu, seg, offset)); return true; // FLD m64
    case 0xdd2: writeFloat64(cpu, seg, offset, fpu.get(0)); return true; // FST m64
    case 0xdd3: writeFloat64(cpu, seg, offset, fpu.get(0)); fpu.pop(); return true; // FSTP m64
    case 0xdd4: restoreState(cpu); return true; // FRSTOR
    case 0xdd6: saveState(cpu); return true; // FNSAVE
    case 0xdd7: cpu.writeMemory(seg, offset, 2, fpu.statusWord); return true; // FNSTSW m16
    case 0xdf0: fpu.push(readInteger(cpu, seg, offset, 2)); return true; // FILD m16
    case 0xdf2: writeInteger(cpu, seg, offset, 2, fpu.get(0)); return true; // FIST m16
    case 0xdf3: writeInteger(cpu, seg, offset, 2, fpu.get(0)); fpu.pop(); return true; // FISTP m16
    case 0xdf5: fpu.push(readInteger(cpu, seg, offset, 8)); return true; // FILD m64
    case 0xdf7: writeInteger(cpu, seg, offset, 8, fpu.get(0)); fpu.pop(); return true; // FISTP m64
    default: return false;
  }
}

function registerForm(cpu: Cpu, opcode: number): boolean {
  const fpu = cpu.fpu;
  const reg = cpu.modrmReg;
  const i = cpu.modrmRm;
  switch (opcode) {
    case 0xd8:
      aluWithSource(cpu, reg, fpu.get(i));
      return true;
    case 0xdc:
    case 0xde: {
      if (opcode === 0xde && reg === 3) {
        if (i !== 1) return false;
        compareToConditions(fpu, fpu.get(0), fpu.get(1)); // FCOMPP
        fpu.pop();
        fpu.pop();
        return true;
      }
      if (reg === 2 || reg === 3) {
        compareToConditions(fpu, fpu.get(0), fpu.get(i));
        if (reg === 3 || opcode === 0xde) fpu.pop();
        return true;
      }
      // ST(i) = ST(i) op ST(0); in this direction E0/E8 and F0/F8 swap their meaning (FSUBR/FSUB, FDIVR/FDIV).
      fpu.set(i, arithmetic(reg >= 4 ? reg ^ 1 : reg, fpu.get(i), fpu.get(0)));
      if (opcode === 0xde) fpu.pop();
      return true;
    }
    case 0xd9:
      if (reg === 0) fpu.push(fpu.get(i)); // FLD ST(i)
      else if (reg === 1) { // FXCH
        const a = fpu.get(0);
        fpu.set(0, fpu.get(i));
        fpu.set(i, a);
      } else return d9Register(cpu, (reg << 3) | i);
      return true;
    case 0xda:
      if (reg < 4) conditionalMove(cpu, opcode);
      else if (reg === 5 && i === 1) { // FUCOMPP
        compareToConditions(fpu, fpu.get(0), fpu.get(1));
        fpu.pop();
        fpu.pop();
      } else return false;
      return true;
    case 0xdb:
      if (reg < 4) conditionalMove(cpu, opcode);
      else if (reg === 4 && i === 3) fpu.reset(); // FNINIT
      else if (reg === 4 && i === 2) fpu.statusWord &= 0x7f00; // FNCLEX: exception flags, ES and B
      else if (reg === 4) { /* FENI, FDISI, FSETPM: no-ops after the 287 */ }
      else if (reg === 5 || reg === 6) compareToFlags(cpu, fpu.get(0), fpu.get(i)); // FUCOMI, FCOMI
      else return false;
      return true;
    case 0xdd:
      if (reg === 0) fpu.free(i); // FFREE
      else if (reg === 2) fpu.set(i, fpu.get(0)); // FST ST(i)
      else if (reg === 3) { fpu.set(i, fpu.get(0)); fpu.pop(); } // FSTP ST(i)
      else if (reg === 4 || reg === 5) { // FUCOM, FUCOMP
        compareToConditions(fpu, fpu.get(0), fpu.get(i));
        if (reg === 5) fpu.pop();
      } else return false;
      return true;
    default: // 0xdf
      if (reg === 4 && i === 0) cpu.reg16[EAX << 1] = fpu.statusWord; // FNSTSW AX
      else if (reg === 5 || reg === 6) { compareToFlags(cpu, fpu.get(0), fpu.get(i)); fpu.pop(); } // FUCOMIP, FCOMIP
      else if (reg === 0) { fpu.free(i); fpu.top = (fpu.top + 1) & 7; } // FFREEP
      else return false;
      return true;
  }
}

/** D8-DF on a CPU with an FPU. */
export function fpuEscape(cpu: Cpu, opcode: number): void {
  decodeModrm(cpu);
  checkFpuAvailable(cpu);
  const done = cpu.modrmMod === 3 ? registerForm(cpu, opcode) : memoryForm(cpu, opcode);
  if (!done) cpu.fpu.unimplemented++;
}
