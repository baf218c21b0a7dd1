import type { Cpu } from '../../cpu.js';
import { CpuFault, Vector } from '../../cpu-fault.js';
import { Msr } from '../../model-specific-registers.js';
import { requireRing0 } from '../../protected/privilege.js';
import { EAX, EBX, ECX, EDX } from '../../registers.js';
import type { OpcodeTable } from '../opcode-table.js';

/** CPUID leaf 1 EDX feature bits (Intel SDM vol. 2, CPUID table 3-11). */
export const FEATURE_FPU = 1 << 0;
export const FEATURE_PSE = 1 << 3;
export const FEATURE_TSC = 1 << 4;
export const FEATURE_MSR = 1 << 5;
export const FEATURE_PAE = 1 << 6;
export const FEATURE_CX8 = 1 << 8;
export const FEATURE_PGE = 1 << 13;
export const FEATURE_CMOV = 1 << 15;

/** What this core implements; no APIC, SEP, MTRR, MMX or FXSR (PAE without NX: physical addresses below 4 GiB). */
export const CPUID_FEATURES = FEATURE_FPU | FEATURE_PSE | FEATURE_TSC | FEATURE_MSR | FEATURE_PAE | FEATURE_CX8 | FEATURE_PGE | FEATURE_CMOV;
/** Family 6, model 3, stepping 3 (a Pentium II class part). */
export const CPUID_SIGNATURE = 0x0633;
const VENDOR = 'GenuineIntel';
const CR4_TSD = 1 << 2;

function vendorWord(index: number): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = (v << 8) | VENDOR.charCodeAt(index * 4 + i);
  return v >>> 0;
}

/** 0F A2 CPUID: leaf 0 (highest leaf, vendor) and leaf 1 (signature, features); others read as zero. */
function cpuid(cpu: Cpu): void {
  const leaf = cpu.reg32[EAX];
  const r = cpu.reg32;
  if (leaf === 0) {
    r[EAX] = 1;
    r[EBX] = vendorWord(0);
    r[EDX] = vendorWord(1);
    r[ECX] = vendorWord(2);
  } else if (leaf === 1) {
    r[EAX] = CPUID_SIGNATURE;
    r[EBX] = 0;
    r[ECX] = 0;
    r[EDX] = CPUID_FEATURES;
  } else {
    r[EAX] = r[EBX] = r[ECX] = r[EDX] = 0;
  }
}

/** The time-stamp counter: cpu.timeStampSource (retired instructions by default) plus the offset a WRMSR to it set. */
function timeStamp(cpu: Cpu): bigint {
  return (BigInt(Math.floor(cpu.timeStampSource())) + cpu.msr.tscOffset) & 0xffffffffffffffffn;
}

/**
 * Whether RDTSC now reads cpu.timeStampSource() itself, floored, and cannot fault (no TSC
 * offset; CR4.TSD clear or ring 0), with a source that counts instructions: compiled code
 * may then count on from the value at its entry.
 */
export function plainTimeStamp(cpu: Cpu): boolean {
  return cpu.timeStampCountsInstructions && cpu.msr.tscOffset === 0n && ((cpu.cr4 & CR4_TSD) === 0 || !cpu.protectedMode || cpu.cpl === 0);
}

/**
 * 0F 31 RDTSC; CR4.TSD reserves it to CPL 0. The count it reads must be exact: the
 * decoded-instruction and JIT paths call it with cpu.instructionCount as the interpreter
 * would have it (see DecodedResult.readsInstructionCount).
 */
export function readTimeStamp(cpu: Cpu): void {
  if ((cpu.cr4 & CR4_TSD) !== 0) requireRing0(cpu);
  if (cpu.msr.tscOffset === 0n) {
    // No WRMSR to the TSC: the count is an integer far below 2^53, split without BigInt
    // (Linux reads the TSC ~10^5 times a second during its init).
    const count = Math.floor(cpu.timeStampSource());
    cpu.reg32[EAX] = count % 0x1_0000_0000;
    cpu.reg32[EDX] = Math.floor(count / 0x1_0000_0000);
    return;
  }
  const tsc = timeStamp(cpu);
  cpu.reg32[EAX] = Number(tsc & 0xffffffffn);
  cpu.reg32[EDX] = Number(tsc >> 32n);
}

/** 0F 32 RDMSR: ECX selects; unknown MSRs raise #GP(0), as on hardware. */
function readMsr(cpu: Cpu): void {
  requireRing0(cpu);
  let value: bigint;
  switch (cpu.reg32[ECX]) {
    case Msr.TimeStampCounter: value = timeStamp(cpu); break;
    case Msr.ApicBase: value = 0n; break; // no local APIC: base 0, not enabled
    case Msr.PlatformId: value = 0n; break;
    case Msr.BiosSignature: value = 0n; break; // microcode revision 0
    case Msr.SysenterCs: value = BigInt(cpu.msr.sysenterCs); break;
    case Msr.SysenterEsp: value = BigInt(cpu.msr.sysenterEsp); break;
    case Msr.SysenterEip: value = BigInt(cpu.msr.sysenterEip); break;
    default: throw new CpuFault(Vector.GeneralProtection, 0);
  }
  cpu.reg32[EAX] = Number(value & 0xffffffffn);
  cpu.reg32[EDX] = Number(value >> 32n);
}

/** 0F 30 WRMSR. */
function writeMsr(cpu: Cpu): void {
  requireRing0(cpu);
  const value = (BigInt(cpu.reg32[EDX]) << 32n) | BigInt(cpu.reg32[EAX]);
  const low = cpu.reg32[EAX];
  switch (cpu.reg32[ECX]) {
    case Msr.TimeStampCounter: cpu.msr.tscOffset = value - BigInt(Math.floor(cpu.timeStampSource())); break;
    case Msr.ApicBase: break;
    case Msr.BiosSignature: break;
    case Msr.SysenterCs: cpu.msr.sysenterCs = low & 0xffff; break;
    case Msr.SysenterEsp: cpu.msr.sysenterEsp = low; break;
    case Msr.SysenterEip: cpu.msr.sysenterEip = low; break;
    default: throw new CpuFault(Vector.GeneralProtection, 0);
  }
}

export function installProcessorInfo0F(table: OpcodeTable): void {
  table[0xa2] = cpuid;
  table[0x31] = readTimeStamp;
  table[0x32] = readMsr;
  table[0x30] = writeMsr;
}
