import type { Cpu } from '../../cpu.js';
import { CpuFault, Vector } from '../../cpu-fault.js';
import type { CpuQuirks } from '../../cpu-model.js';
import { decodeModrm } from '../../decode/modrm.js';
import { readRm, writeModrmReg, writeRm } from '../../decode/operands.js';
import { requireRing0 } from '../../protected/privilege.js';
import { FS, GS, SS } from '../../registers.js';
import type { OpcodeTable } from '../opcode-table.js';

/** CR0.TS, cleared by CLTS. */
const CR0_TS = 1 << 3;

/** 0F 20 MOV r32, CRn; 0F 22 MOV CRn, r32. Always register operands, always 32-bit. CPL 0 only. */
function moveControlRegister(cpu: Cpu, opcode: number): void {
  decodeModrm(cpu);
  requireRing0(cpu);
  const n = cpu.modrmReg;
  const r = cpu.modrmRm;
  if (opcode === 0x20) {
    const value = n === 0 ? cpu.cr0 : n === 2 ? cpu.cr2 : n === 3 ? cpu.cr3 : n === 4 ? cpu.cr4 : undefined;
    if (value === undefined) throw new CpuFault(Vector.InvalidOpcode);
    cpu.reg32[r] = value;
    return;
  }
  const value = cpu.reg32[r];
  if (n === 0) cpu.setControlRegister0(value);
  else if (n === 2) cpu.cr2 = value;
  else if (n === 3) cpu.setControlRegister3(value);
  else if (n === 4) cpu.setControlRegister4(value);
  else throw new CpuFault(Vector.InvalidOpcode);
}

/** 0F 21 MOV r32, DRn; 0F 23 MOV DRn, r32: kept as plain storage (no breakpoints fire). */
function moveDebugRegister(cpu: Cpu, opcode: number): void {
  decodeModrm(cpu);
  requireRing0(cpu);
  const n = cpu.modrmReg === 4 || cpu.modrmReg === 5 ? cpu.modrmReg + 2 : cpu.modrmReg; // DR4/DR5 alias DR6/DR7
  if (opcode === 0x21) cpu.reg32[cpu.modrmRm] = cpu.debugRegisters[n];
  else cpu.debugRegisters[n] = cpu.reg32[cpu.modrmRm];
}

/** 0F 01 group 7: SGDT, SIDT, LGDT, LIDT, SMSW, LMSW, INVLPG (i686). */
function group7(cpu: Cpu): void {
  decodeModrm(cpu);
  const reg = cpu.modrmReg;
  if (reg === 4) {
    writeRm(cpu, cpu.modrmMod === 3 ? cpu.opSize : 2, cpu.cr0 & (cpu.modrmMod === 3 && cpu.opSize === 4 ? 0xffffffff : 0xffff)); // SMSW
    return;
  }
  if (reg === 6) {
    requireRing0(cpu);
    // LMSW can set PE but never clear it.
    const msw = readRm(cpu, 2) & 0xf;
    cpu.setControlRegister0((cpu.cr0 & ~0xe) | msw | (cpu.cr0 & 1));
    return;
  }
  if (reg === 7 && cpu.modrmMod !== 3 && cpu.quirks.hasI686) {
    requireRing0(cpu);
    cpu.memory.invalidatePage((cpu.segBase[cpu.eaSegment] + cpu.eaOffset) >>> 0);
    return;
  }
  if (cpu.modrmMod === 3 || reg === 5 || reg === 7) throw new CpuFault(Vector.InvalidOpcode);
  const seg = cpu.eaSegment;
  const offset = cpu.eaOffset;
  const next = (delta: number): number => (offset + delta) >>> 0;
  if (reg === 0 || reg === 1) {
    const [limit, base] = reg === 0 ? [cpu.gdtrLimit, cpu.gdtrBase] : [cpu.idtrLimit, cpu.idtrBase];
    cpu.writeMemory(seg, offset, 2, limit);
    cpu.writeMemory(seg, next(2), 4, cpu.opSize === 2 ? base & 0xffffff : base);
    return;
  }
  requireRing0(cpu);
  const limit = cpu.readMemory(seg, offset, 2);
  const base = cpu.readMemory(seg, next(2), 4) & (cpu.opSize === 2 ? 0xffffff : 0xffffffff);
  if (reg === 2) {
    cpu.gdtrLimit = limit;
    cpu.gdtrBase = base >>> 0;
  } else {
    cpu.idtrLimit = limit;
    cpu.idtrBase = base >>> 0;
  }
}

/** 0F A0/A8 PUSH FS/GS, 0F A1/A9 POP FS/GS. */
function pushPopFsGs(cpu: Cpu, opcode: number): void {
  const seg = opcode < 0xa8 ? FS : GS;
  if ((opcode & 1) === 0) {
    cpu.push(cpu.opSize, cpu.segSelector[seg]);
  } else {
    cpu.loadSegment(seg, cpu.peekStack(cpu.opSize, 0) & 0xffff); // a refused load leaves ESP alone
    cpu.adjustStack(cpu.opSize);
  }
}

/** 0F B2 LSS, 0F B4 LFS, 0F B5 LGS: load a far pointer into a register and a segment register. */
function loadFarPointer(cpu: Cpu, opcode: number): void {
  decodeModrm(cpu);
  if (cpu.modrmMod === 3) throw new CpuFault(Vector.InvalidOpcode);
  const size = cpu.opSize;
  const offset = cpu.readMemory(cpu.eaSegment, cpu.eaOffset, size);
  const selectorOffset = (cpu.eaOffset + size) & (cpu.addrSize === 2 ? 0xffff : -1);
  const selector = cpu.readMemory(cpu.eaSegment, selectorOffset >>> 0, 2);
  cpu.loadSegment(opcode === 0xb2 ? SS : opcode === 0xb4 ? FS : GS, selector);
  writeModrmReg(cpu, size, offset);
}

/** Cache control with no cache to control: INVD, WBINVD (CPL 0 only). */
function cacheControl(cpu: Cpu): void {
  requireRing0(cpu);
}

export function installSystem0F(table: OpcodeTable, quirks: CpuQuirks): void {
  table[0x20] = moveControlRegister;
  table[0x22] = moveControlRegister;
  table[0x21] = moveDebugRegister;
  table[0x23] = moveDebugRegister;
  table[0x01] = group7;
  table[0x06] = (cpu) => {
    requireRing0(cpu);
    cpu.cr0 &= ~CR0_TS; // CLTS
  };
  for (const opcode of [0xa0, 0xa1, 0xa8, 0xa9]) table[opcode] = pushPopFsGs;
  for (const opcode of [0xb2, 0xb4, 0xb5]) table[opcode] = loadFarPointer;
  if (quirks.hasI686) {
    table[0x08] = cacheControl;
    table[0x09] = cacheControl;
    // 0F 18 (prefetch hints) and 0F 1F (NOP r/m): decode the operand, do nothing.
    table[0x18] = (cpu) => decodeModrm(cpu);
    table[0x1f] = (cpu) => decodeModrm(cpu);
  }
}
