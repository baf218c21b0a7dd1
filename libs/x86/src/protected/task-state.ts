import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { SystemType } from './descriptor.js';

/** Stack pointer for a more privileged level, as stored in the TSS (Intel SDM vol. 3, figures 7-2 and 7-11). */
export interface TssStack {
  ss: number;
  esp: number;
}

function isTss32(cpu: Cpu): boolean {
  const type = cpu.tr.attributes & 0xf;
  return type === SystemType.Tss32Available || type === SystemType.Tss32Busy;
}

/** SS:ESP for privilege level `level` from the current TSS; #TS if the TSS is too short. */
export function stackForLevel(cpu: Cpu, level: number, ext: number): TssStack {
  const tr = cpu.tr;
  if (tr.attributes === 0) throw new CpuFault(Vector.InvalidTss, (tr.selector & 0xfffc) | ext);
  if (isTss32(cpu)) {
    const at = 4 + level * 8;
    if (at + 5 > tr.limit) throw new CpuFault(Vector.InvalidTss, (tr.selector & 0xfffc) | ext);
    return { esp: cpu.memory.readSystem32(tr.base + at), ss: cpu.memory.readSystem16(tr.base + at + 4) };
  }
  const at = 2 + level * 4;
  if (at + 3 > tr.limit) throw new CpuFault(Vector.InvalidTss, (tr.selector & 0xfffc) | ext);
  return { esp: cpu.memory.readSystem16(tr.base + at), ss: cpu.memory.readSystem16(tr.base + at + 2) };
}

/**
 * Whether the I/O permission bitmap of a 32-bit TSS allows an access of
 * `size` bytes at `port` (section 19.5.2): every bit for the bytes must be
 * clear; a bitmap past the TSS limit denies.
 */
export function ioPermitted(cpu: Cpu, port: number, size: number): boolean {
  const tr = cpu.tr;
  if (tr.attributes === 0 || !isTss32(cpu) || tr.limit < 0x67) return false;
  const mapBase = cpu.memory.readSystem16(tr.base + 0x66);
  const byteOffset = mapBase + (port >>> 3);
  if (byteOffset + 1 > tr.limit) return false;
  const bits = cpu.memory.readSystem16(tr.base + byteOffset);
  const mask = ((1 << size) - 1) << (port & 7);
  return (bits & mask) === 0;
}

/** IN/OUT/INS/OUTS in protected mode: allowed when CPL <= IOPL, else by the TSS bitmap; #GP(0) otherwise. */
export function checkIoPermission(cpu: Cpu, port: number, size: number): void {
  if (!cpu.protectedMode || cpu.cpl <= cpu.iopl) return;
  if (!ioPermitted(cpu, port, size)) throw new CpuFault(Vector.GeneralProtection, 0);
}
