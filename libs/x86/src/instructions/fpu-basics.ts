import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { decodeModrm } from '../decode/modrm.js';
import { EAX } from '../registers.js';

/*
 * The x87 control instructions an operating system's FPU detection and
 * context switch use (Intel SDM vol. 1, chapter 8; vol. 2): FNINIT, FNCLEX,
 * FLDCW, FNSTCW, FNSTSW, FNSTENV/FLDENV, FNSAVE/FRSTOR. The register stack
 * and arithmetic are not implemented: other escapes decode their operand,
 * do nothing, and are counted in cpu.fpu.unimplemented.
 */

const CR0_MP = 1 << 1;
const CR0_EM = 1 << 2;
const CR0_TS = 1 << 3;
/** FNSAVE writes the environment and then the eight 10-byte registers. */
const REGISTER_AREA_BYTES = 80;

/** Bytes of the FNSTENV image: 28 with a 32-bit operand size, 14 with 16-bit. */
function environmentSize(cpu: Cpu): number {
  return cpu.opSize === 4 ? 28 : 14;
}

function storeEnvironment(cpu: Cpu): void {
  const fpu = cpu.fpu;
  const words = [fpu.controlWord, fpu.statusWord, fpu.tagWord, 0, 0, 0, 0];
  const step = cpu.opSize === 4 ? 4 : 2;
  words.forEach((w, i) => cpu.writeMemory(cpu.eaSegment, (cpu.eaOffset + i * step) >>> 0, step, w));
}

function loadEnvironment(cpu: Cpu): void {
  const step = cpu.opSize === 4 ? 4 : 2;
  const read = (i: number) => cpu.readMemory(cpu.eaSegment, (cpu.eaOffset + i * step) >>> 0, 2);
  cpu.fpu.controlWord = read(0);
  cpu.fpu.statusWord = read(1);
  cpu.fpu.tagWord = read(2);
}

/** D8-DF on a CPU with an FPU. #NM when CR0.EM or CR0.TS says the OS wants to know first. */
export function fpuEscape(cpu: Cpu, opcode: number): void {
  decodeModrm(cpu);
  if ((cpu.cr0 & (CR0_EM | CR0_TS)) !== 0) throw new CpuFault(Vector.DeviceNotAvailable);
  const fpu = cpu.fpu;
  const memory = cpu.modrmMod !== 3;
  const reg = cpu.modrmReg;
  if (opcode === 0xd9 && memory && reg === 5) {
    fpu.controlWord = cpu.readMemory(cpu.eaSegment, cpu.eaOffset, 2); // FLDCW
  } else if (opcode === 0xd9 && memory && reg === 7) {
    cpu.writeMemory(cpu.eaSegment, cpu.eaOffset, 2, fpu.controlWord); // FNSTCW
  } else if (opcode === 0xd9 && memory && reg === 6) {
    storeEnvironment(cpu); // FNSTENV
    fpu.controlWord |= 0x3f; // masks all exceptions afterwards
  } else if (opcode === 0xd9 && memory && reg === 4) {
    loadEnvironment(cpu); // FLDENV
  } else if (opcode === 0xdd && memory && reg === 7) {
    cpu.writeMemory(cpu.eaSegment, cpu.eaOffset, 2, fpu.statusWord); // FNSTSW m16
  } else if (opcode === 0xdd && memory && reg === 6) {
    storeEnvironment(cpu); // FNSAVE: environment, (empty) registers, then FNINIT
    const base = cpu.eaOffset + environmentSize(cpu);
    for (let i = 0; i < REGISTER_AREA_BYTES; i += 2) cpu.writeMemory(cpu.eaSegment, (base + i) >>> 0, 2, 0);
    fpu.reset();
  } else if (opcode === 0xdd && memory && reg === 4) {
    loadEnvironment(cpu); // FRSTOR (register contents are not modelled)
  } else if (opcode === 0xdf && !memory && reg === 4 && cpu.modrmRm === 0) {
    cpu.reg16[EAX << 1] = fpu.statusWord; // FNSTSW AX
  } else if (opcode === 0xdb && !memory && reg === 4 && cpu.modrmRm === 3) {
    fpu.reset(); // FNINIT
  } else if (opcode === 0xdb && !memory && reg === 4 && cpu.modrmRm === 2) {
    fpu.statusWord &= 0x7f00; // FNCLEX: exception flags, ES and B
  } else if (opcode === 0xdb && !memory && reg === 4) {
    // FENI, FDISI, FSETPM: no-ops after the 8087/287
  } else {
    fpu.unimplemented++;
  }
}

/** 9B WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set; otherwise nothing to wait for. */
export function fpuWait(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) throw new CpuFault(Vector.DeviceNotAvailable);
}
