import type { Cpu } from '../../cpu.js';
import { CpuFault, Vector } from '../../cpu-fault.js';
import { numberToExtended, extendedToNumber } from '../../fpu/float-formats.js';

/*
 * x87 control and state instructions (Intel SDM vol. 1, chapter 8; vol. 2):
 * FLDCW/FNSTCW, FNSTSW, FNSTENV/FLDENV, FNSAVE/FRSTOR, FNINIT, FNCLEX, WAIT.
 */

const CR0_MP = 1 << 1;
const CR0_EM = 1 << 2;
const CR0_TS = 1 << 3;

/** #NM when CR0.EM or CR0.TS says the OS wants to know before the FPU is used. */
export function checkFpuAvailable(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_EM | CR0_TS)) !== 0) throw new CpuFault(Vector.DeviceNotAvailable);
}

/** Bytes of the FNSTENV image: 28 with a 32-bit operand size, 14 with 16-bit. */
function environmentSize(cpu: Cpu): number {
  return cpu.opSize === 4 ? 28 : 14;
}

export function storeEnvironment(cpu: Cpu): void {
  const fpu = cpu.fpu;
  const words = [fpu.controlWord, fpu.statusWord, fpu.tagWord, 0, 0, 0, 0];
  const step = cpu.opSize === 4 ? 4 : 2;
  words.forEach((w, i) => cpu.writeMemory(cpu.eaSegment, (cpu.eaOffset + i * step) >>> 0, step, w));
}

export function loadEnvironment(cpu: Cpu): void {
  const step = cpu.opSize === 4 ? 4 : 2;
  const read = (i: number) => cpu.readMemory(cpu.eaSegment, (cpu.eaOffset + i * step) >>> 0, 2);
  cpu.fpu.controlWord = read(0);
  cpu.fpu.statusWord = read(1);
  cpu.fpu.tagWord = read(2);
}

/** FNSAVE: environment, then ST(0)..ST(7) as 10-byte reals, then FNINIT. */
export function saveState(cpu: Cpu): void {
  storeEnvironment(cpu);
  const base = cpu.eaOffset + environmentSize(cpu);
  const fpu = cpu.fpu;
  for (let i = 0; i < 8; i++) {
    const p = (fpu.top + i) & 7;
    const [low, high, signExponent] = numberToExtended(fpu.registers[p]);
    const at = base + i * 10;
    cpu.writeMemory(cpu.eaSegment, at >>> 0, 4, low);
    cpu.writeMemory(cpu.eaSegment, (at + 4) >>> 0, 4, high);
    cpu.writeMemory(cpu.eaSegment, (at + 8) >>> 0, 2, signExponent);
  }
  fpu.reset();
}

/** FRSTOR: the image FNSAVE wrote. */
export function restoreState(cpu: Cpu): void {
  loadEnvironment(cpu);
  const base = cpu.eaOffset + environmentSize(cpu);
  const fpu = cpu.fpu;
  for (let i = 0; i < 8; i++) {
    const at = base + i * 10;
    const low = cpu.readMemory(cpu.eaSegment, at >>> 0, 4);
    const high = cpu.readMemory(cpu.eaSegment, (at + 4) >>> 0, 4);
    const signExponent = cpu.readMemory(cpu.eaSegment, (at + 8) >>> 0, 2);
    fpu.registers[(fpu.top + i) & 7] = extendedToNumber(low, high, signExponent);
  }
}

/** 9B WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set; otherwise nothing to wait for. */
export function fpuWait(cpu: Cpu): void {
  if ((cpu.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) throw new CpuFault(Vector.DeviceNotAvailable);
}
