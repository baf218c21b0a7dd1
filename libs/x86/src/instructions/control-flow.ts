import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { decodeModrm } from '../decode/modrm.js';
import { signExtend } from '../decode/operands.js';
import type { CpuQuirks } from '../cpu-model.js';
import { OF, ZF } from '../flag-bits.js';
import { ECX } from '../registers.js';
import { testCondition } from './conditions.js';
import { farCall, farJump, farReturn, interruptReturn } from './far-transfer.js';
import { setRange, type OpcodeTable } from './opcode-table.js';
import { fetchDisplacement, fetchDisplacement8, jumpRelative } from './relative-jump.js';

/** 70-7F (and 60-6F on the 8086): Jcc rel8. */
function jumpConditional(cpu: Cpu, opcode: number): void {
  const displacement = fetchDisplacement8(cpu);
  if (testCondition(cpu.flags, opcode & 0xf)) jumpRelative(cpu, displacement);
}

/** E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JCXZ; the counter is CX or ECX by address size. */
function loop(cpu: Cpu, opcode: number): void {
  const displacement = fetchDisplacement8(cpu);
  const size = cpu.addrSize;
  let count = cpu.getReg(size, ECX);
  let taken: boolean;
  if (opcode === 0xe3) {
    taken = count === 0;
  } else {
    count = (count - 1) & (size === 2 ? 0xffff : -1);
    cpu.setReg(size, ECX, count);
    taken = count !== 0;
    if (opcode === 0xe0) taken &&= cpu.flags.get(ZF) === 0;
    else if (opcode === 0xe1) taken &&= cpu.flags.get(ZF) !== 0;
  }
  if (taken) jumpRelative(cpu, displacement);
}

/** E8: CALL rel16/32. */
function callNear(cpu: Cpu): void {
  const displacement = fetchDisplacement(cpu);
  cpu.push(cpu.opSize, cpu.eip);
  jumpRelative(cpu, displacement);
}

/** E9: JMP rel16/32. EB: JMP rel8. */
function jumpNear(cpu: Cpu, opcode: number): void {
  jumpRelative(cpu, opcode === 0xeb ? fetchDisplacement8(cpu) : fetchDisplacement(cpu));
}

/** EA: JMP ptr16:16/32. 9A: CALL ptr16:16/32. */
function farPointerTransfer(cpu: Cpu, opcode: number): void {
  const offset = cpu.fetchImmediate(cpu.opSize);
  const selector = cpu.fetch16();
  if (opcode === 0xea) farJump(cpu, selector, offset);
  else farCall(cpu, selector, offset, cpu.opSize);
}

/** C2 RET imm16, C3 RET (and C0/C1 on the 8086). */
function returnNear(cpu: Cpu, opcode: number): void {
  const release = (opcode & 1) === 0 ? cpu.fetch16() : 0;
  cpu.eip = cpu.pop(cpu.opSize);
  if (release !== 0) cpu.adjustStack(release);
}

/** CA RETF imm16, CB RETF (and C8/C9 on the 8086). */
function returnFar(cpu: Cpu, opcode: number): void {
  const release = (opcode & 1) === 0 ? cpu.fetch16() : 0;
  farReturn(cpu, cpu.opSize, release);
}

/** CC INT3, CD INT imm8, CE INTO. */
function softwareInterrupt(cpu: Cpu, opcode: number): void {
  if (opcode === 0xcc) {
    cpu.interrupt(Vector.Breakpoint, cpu.eip);
  } else if (opcode === 0xcd) {
    const vector = cpu.fetch8();
    cpu.interrupt(vector, cpu.eip);
  } else if (cpu.flags.get(OF) !== 0) {
    cpu.interrupt(Vector.Overflow, cpu.eip);
  }
}

/** 62 BOUND reg, m (186+): #BR unless lower <= reg <= upper (signed). */
function checkBounds(cpu: Cpu): void {
  decodeModrm(cpu);
  if (cpu.modrmMod === 3) throw new CpuFault(Vector.InvalidOpcode);
  const size = cpu.opSize;
  const index = signExtend(cpu.getReg(size, cpu.modrmReg), size);
  const upperOffset = (cpu.eaOffset + size) & (cpu.addrSize === 2 ? 0xffff : -1);
  const lower = signExtend(cpu.readMemory(cpu.eaSegment, cpu.eaOffset, size), size);
  const upper = signExtend(cpu.readMemory(cpu.eaSegment, upperOffset >>> 0, size), size);
  if (index < lower || index > upper) throw new CpuFault(Vector.BoundRange);
}

export function installControlFlow(table: OpcodeTable, quirks: CpuQuirks): void {
  setRange(table, 0x70, 0x7f, jumpConditional);
  setRange(table, 0xe0, 0xe3, loop);
  table[0xe8] = callNear;
  table[0xe9] = jumpNear;
  table[0xeb] = jumpNear;
  table[0xea] = farPointerTransfer;
  table[0x9a] = farPointerTransfer;
  setRange(table, 0xc2, 0xc3, returnNear);
  setRange(table, 0xca, 0xcb, returnFar);
  setRange(table, 0xcc, 0xce, softwareInterrupt);
  table[0xcf] = (cpu) => interruptReturn(cpu, cpu.opSize);
  if (!quirks.opcodeAliases8086) table[0x62] = checkBounds;
  if (quirks.opcodeAliases8086) {
    // The 8086 ignores bit 4 in 6x (Jcc) and bit 1 in C0-C3/C8-CB (returns).
    setRange(table, 0x60, 0x6f, jumpConditional);
    setRange(table, 0xc0, 0xc1, returnNear);
    setRange(table, 0xc8, 0xc9, returnFar);
  }
}
