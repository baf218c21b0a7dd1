import type { Cpu } from '../cpu.js';
import type { CpuQuirks } from '../cpu-model.js';
import { decodeModrm } from '../decode/modrm.js';
import { writeRm } from '../decode/operands.js';
import { CS, DS, EBP, ES, ESP, SS, type OperandSize } from '../registers.js';
import { writableFlags } from '../protected/privilege.js';
import { setRange, type OpcodeTable } from './opcode-table.js';

/** 50-57: PUSH reg. The 8086 pushes SP as it is after the decrement. */
function pushRegister(cpu: Cpu, opcode: number): void {
  const r = opcode & 7;
  const size = cpu.opSize;
  if (r === ESP && cpu.quirks.pushSpAfterDecrement) {
    const value = (cpu.reg16[ESP << 1] - 2) & 0xffff;
    cpu.push(size, value);
    return;
  }
  cpu.push(size, cpu.getReg(size, r));
}

/** 58-5F: POP reg. */
function popRegister(cpu: Cpu, opcode: number): void {
  const size = cpu.opSize;
  const value = cpu.pop(size);
  cpu.setReg(size, opcode & 7, value);
}

/** 8F /0: POP r/m. The address is computed after SP is incremented. */
function popRm(cpu: Cpu): void {
  const size = cpu.opSize;
  const value = cpu.pop(size);
  decodeModrm(cpu);
  writeRm(cpu, size, value);
}

function pushSegment(seg: number) {
  return (cpu: Cpu): void => cpu.push(cpu.opSize, cpu.segSelector[seg]);
}

function popSegment(seg: number) {
  return (cpu: Cpu): void => {
    cpu.loadSegment(seg, cpu.peekStack(cpu.opSize, 0) & 0xffff); // a refused load leaves SP alone
    cpu.adjustStack(cpu.opSize);
    if (seg === SS) cpu.interruptShadow = true;
  };
}

/** 9C: PUSHF. */
function pushFlags(cpu: Cpu): void {
  cpu.push(cpu.opSize, pushedFlags(cpu));
}

/** The FLAGS image PUSHF pushes: VM and RF are never pushed (shared with the decoded closures). */
export function pushedFlags(cpu: Cpu): number {
  return cpu.getFlags() & 0xfcffff;
}

/** 9D: POPF. */
function popFlags(cpu: Cpu): void {
  const size = cpu.opSize;
  const value = cpu.pop(size);
  cpu.setFlags(value, writableFlags(cpu, size));
}

/** 68 PUSH imm16/32, 6A PUSH imm8 sign-extended (186+). */
function pushImmediate(cpu: Cpu, opcode: number): void {
  const size = cpu.opSize;
  const value = opcode === 0x6a ? (cpu.fetch8() << 24) >> 24 : cpu.fetchImmediate(size);
  cpu.push(size, value >>> 0);
}

/** 60 PUSHA (186+): AX, CX, DX, BX, original SP, BP, SI, DI. */
function pushAll(cpu: Cpu): void {
  const size = cpu.opSize;
  const sp = cpu.getReg(size, ESP);
  for (let r = 0; r < 8; r++) cpu.push(size, r === ESP ? sp : cpu.getReg(size, r));
}

/** 61 POPA (186+): the reverse of PUSHA; the saved SP is discarded. */
function popAll(cpu: Cpu): void {
  const size = cpu.opSize;
  for (let r = 7; r >= 0; r--) {
    const value = cpu.pop(size);
    if (r !== ESP) cpu.setReg(size, r, value);
  }
}

/** C9 LEAVE (186+): SP = BP, pop BP. */
function leave(cpu: Cpu): void {
  const size = cpu.opSize;
  cpu.setReg(cpu.stackSize, ESP, cpu.getReg(cpu.stackSize, EBP));
  cpu.setReg(size, EBP, cpu.pop(size));
}

/** C8 ENTER imm16, imm8 (186+). */
function enter(cpu: Cpu): void {
  const size: OperandSize = cpu.opSize;
  const frameSize = cpu.fetch16();
  const level = cpu.fetch8() & 31;
  const stack = cpu.stackSize;
  cpu.push(size, cpu.getReg(size, EBP));
  const frame = cpu.getReg(stack, ESP);
  if (level > 0) {
    let bp = cpu.getReg(stack, EBP);
    for (let i = 1; i < level; i++) {
      bp = (bp - size) & (stack === 2 ? 0xffff : -1);
      cpu.push(size, cpu.readMemory(SS, bp >>> 0, size));
    }
    cpu.push(size, frame);
  }
  cpu.setReg(size, EBP, frame);
  cpu.setReg(stack, ESP, cpu.getReg(stack, ESP) - frameSize);
}

export function installStack(table: OpcodeTable, quirks: CpuQuirks): void {
  setRange(table, 0x50, 0x57, pushRegister);
  setRange(table, 0x58, 0x5f, popRegister);
  table[0x8f] = popRm;
  table[0x06] = pushSegment(ES);
  table[0x0e] = pushSegment(CS);
  table[0x16] = pushSegment(SS);
  table[0x1e] = pushSegment(DS);
  table[0x07] = popSegment(ES);
  table[0x17] = popSegment(SS);
  table[0x1f] = popSegment(DS);
  table[0x9c] = pushFlags;
  table[0x9d] = popFlags;
  if (quirks.opcodeAliases8086) {
    table[0x0f] = popSegment(CS); // POP CS exists only on the 8086
  } else {
    table[0x60] = pushAll;
    table[0x61] = popAll;
    table[0x68] = pushImmediate;
    table[0x6a] = pushImmediate;
    table[0xc8] = enter;
    table[0xc9] = leave;
  }
}
