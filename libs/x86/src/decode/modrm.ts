import type { Cpu } from '../cpu.js';
import { DS, EBP, ESP, SS } from '../registers.js';

/**
 * Reads the ModRM byte (and SIB/displacement) of the current instruction and
 * leaves the result on the Cpu: modrmMod/Reg/Rm, and for memory operands the
 * effective address as eaSegment:eaOffset (segment prefix already applied).
 */
export function decodeModrm(cpu: Cpu): void {
  const modrm = cpu.fetch8();
  const mod = modrm >>> 6;
  cpu.modrmMod = mod;
  cpu.modrmReg = (modrm >>> 3) & 7;
  cpu.modrmRm = modrm & 7;
  if (mod === 3) return;
  if (cpu.addrSize === 2) decodeAddress16(cpu, mod, modrm & 7);
  else decodeAddress32(cpu, mod, modrm & 7);
}

/** True when the decoded ModRM names a register rather than memory. */
export function modrmIsRegister(cpu: Cpu): boolean {
  return cpu.modrmMod === 3;
}

/** 16-bit addressing (Intel SDM vol. 2, table 2-1). */
function decodeAddress16(cpu: Cpu, mod: number, rm: number): void {
  const r = cpu.reg16;
  let offset: number;
  let seg = DS;
  switch (rm) {
    case 0: offset = r[3 << 1] + r[6 << 1]; break; // BX+SI
    case 1: offset = r[3 << 1] + r[7 << 1]; break; // BX+DI
    case 2: offset = r[5 << 1] + r[6 << 1]; seg = SS; break; // BP+SI
    case 3: offset = r[5 << 1] + r[7 << 1]; seg = SS; break; // BP+DI
    case 4: offset = r[6 << 1]; break; // SI
    case 5: offset = r[7 << 1]; break; // DI
    case 6:
      if (mod === 0) {
        offset = cpu.fetch16(); // disp16 alone
      } else {
        offset = r[5 << 1]; // BP
        seg = SS;
      }
      break;
    default: offset = r[3 << 1]; break; // BX
  }
  if (mod === 1) offset += (cpu.fetch8() << 24) >> 24;
  else if (mod === 2) offset += cpu.fetch16();
  cpu.eaOffset = offset & 0xffff;
  cpu.eaSegment = cpu.dataSegment(seg);
}

/** 32-bit addressing with optional SIB byte (Intel SDM vol. 2, tables 2-2 and 2-3). */
function decodeAddress32(cpu: Cpu, mod: number, rm: number): void {
  let offset: number;
  let seg = DS;
  if (rm === 4) {
    const sib = cpu.fetch8();
    const base = sib & 7;
    const index = (sib >>> 3) & 7;
    if (base === EBP && mod === 0) {
      offset = cpu.fetch32();
    } else {
      offset = cpu.reg32[base];
      if (base === ESP || base === EBP) seg = SS;
    }
    if (index !== ESP) offset += cpu.reg32[index] << (sib >>> 6);
  } else if (rm === EBP && mod === 0) {
    offset = cpu.fetch32();
  } else {
    offset = cpu.reg32[rm];
    if (rm === EBP) seg = SS;
  }
  if (mod === 1) offset += (cpu.fetch8() << 24) >> 24;
  else if (mod === 2) offset += cpu.fetch32();
  cpu.eaOffset = offset >>> 0;
  cpu.eaSegment = cpu.dataSegment(seg);
}
