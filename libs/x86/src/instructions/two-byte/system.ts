import type { Cpu } from '../../cpu.js';
import { CpuFault, Vector } from '../../cpu-fault.js';
import { decodeModrm } from '../../decode/modrm.js';
import { readRm, writeRm } from '../../decode/operands.js';
import { FS, GS } from '../../registers.js';
import type { OpcodeTable } from '../opcode-table.js';

/** CR0.TS, cleared by CLTS. */
const CR0_TS = 1 << 3;

/** 0F 20 MOV r32, CRn; 0F 22 MOV CRn, r32. Always register operands, always 32-bit. */
function moveControlRegister(cpu: Cpu, opcode: number): void {
  decodeModrm(cpu);
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
  else if (n === 3) cpu.cr3 = value;
  else if (n === 4) cpu.cr4 = value;
  else throw new CpuFault(Vector.InvalidOpcode);
}

/** 0F 01 group 7: SGDT, SIDT, LGDT, LIDT, SMSW, LMSW. */
function group7(cpu: Cpu): void {
  decodeModrm(cpu);
  const reg = cpu.modrmReg;
  if (reg === 4) {
    writeRm(cpu, 2, cpu.cr0 & 0xffff); // SMSW
    return;
  }
  if (reg === 6) {
    // LMSW can set PE but never clear it.
    const msw = readRm(cpu, 2) & 0xf;
    cpu.setControlRegister0((cpu.cr0 & ~0xe) | msw | (cpu.cr0 & 1));
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
  if ((opcode & 1) === 0) cpu.push(cpu.opSize, cpu.segSelector[seg]);
  else cpu.loadSegment(seg, cpu.pop(cpu.opSize) & 0xffff);
}

export function installSystem0F(table: OpcodeTable): void {
  table[0x20] = moveControlRegister;
  table[0x22] = moveControlRegister;
  table[0x01] = group7;
  table[0x06] = (cpu) => {
    cpu.cr0 &= ~CR0_TS; // CLTS
  };
  for (const opcode of [0xa0, 0xa1, 0xa8, 0xa9]) table[opcode] = pushPopFsGs;
}
