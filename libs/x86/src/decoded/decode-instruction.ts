import type { Cpu } from '../cpu.js';
import { aluOperation, CMP, decrement, increment, negate, setLogicFlags } from '../ops/alu.js';
import { shiftRotate } from '../ops/shift-rotate.js';
import { divideAccumulator, multiplyAccumulator, multiplySigned } from '../ops/multiply-divide.js';
import { signExtend } from '../decode/operands.js';
import { ZF } from '../flag-bits.js';
import { complementCarry, setOrClearFlag } from '../instructions/flag-control.js';
import { pushedFlags } from '../instructions/stack.js';
import { DS, EAX, EBP, ECX, ESP, NO_SEGMENT, sizeMask, type OperandSize } from '../registers.js';
import { INTERPRET, type DecodedInstruction } from './code-cache.js';
import { aluRegisterImmediate32, aluRegisterRegister32, incDecRegister32 } from './alu-register32.js';
import { CodeBytes, SEGMENT_PREFIXES } from './code-bytes.js';
import { decodeModrm, jumpIf, rmReader, rmUpdater, rmWriter, type Prefixes } from './operand-closures.js';
import { twoByte } from './decode-two-byte.js';
import { loadAddress32, loadRegister32, storeRegister32 } from './memory-operands.js';
import { addressFields16, addressFields32 } from './address-fields.js';

/**
 * Decodes the instruction whose first byte is at RAM offset `physical` (it
 * must end within the same page) into a closure, or INTERPRET when the
 * decoder does not know it. The closure does exactly what the interpreter's
 * handler does; the caller moves EIP past the instruction (by `length`) first.
 */
export function decodeInstruction(cpu: Cpu, ram: Uint8Array, physical: number): DecodedResult | typeof INTERPRET {
  const bytes = new CodeBytes(ram, physical, (physical | 0xfff) + 1);
  const has32 = cpu.quirks.has32Bit;
  const p: Prefixes = { opSize: cpu.codeSize, addrSize: cpu.codeSize, seg: NO_SEGMENT };
  let opcode = bytes.next8();
  for (;;) {
    if (has32 && opcode === 0x66) p.opSize = cpu.codeSize === 2 ? 4 : 2;
    else if (has32 && opcode === 0x67) p.addrSize = cpu.codeSize === 2 ? 4 : 2;
    else if (SEGMENT_PREFIXES[opcode] !== undefined && (has32 || opcode < 0x64)) p.seg = SEGMENT_PREFIXES[opcode];
    else break;
    opcode = bytes.next8();
  }
  const second = (opcode === 0x0f || opcode === 0xff) && bytes.position < ram.length ? ram[bytes.position] : -1;
  const execute = decodeOpcode(cpu, opcode, bytes, p);
  if (execute === INTERPRET || bytes.overrun) return has32 ? handlerInBlock(ram, physical, cpu.codeSize) : INTERPRET;
  return { run: execute, length: bytes.position - physical, transfersControl: transfersControl(opcode, second), readsInstructionCount: opcode === 0x0f && second === 0x31 };
}

/**
 * Instructions without a closure of their own that may still sit inside a block, run by
 * the interpreter's handler (Cpu.interpretInBlock): they change no control flow, mode or
 * interrupt state (CLI only clears IF), and retire once. Linux's kernel init interpreted
 * ~110 k CMPXCHG8Bs (with LOCK, FS or DS prefixes: this_cpu_cmpxchg_double, atomic64_*),
 * ~25 k prefixed CMPXCHG/XADDs and ~8 k POP r/m32 per 0.6 G instructions, each a block end,
 * a dispatcher round and an interpreter round of its own.
 */
function handlerInBlock(ram: Uint8Array, physical: number, codeSize: number): DecodedResult | typeof INTERPRET {
  const length = interpretedLength(ram, physical, codeSize);
  if (length < 0) return INTERPRET;
  return { run: interpretInBlock, length, transfersControl: false, readsInstructionCount: false };
}

/**
 * The length of an instruction the interpreter's handler may run in the middle of compiled
 * or decoded code (handlerInBlock; wasm regions call it through an import), or -1: CMPXCHG8B
 * m64, CMPXCHG/XADD, POP r/m, PUSHF, CLI, CLD/STD, SHLD/SHRD, BT/BTS/BTR/BTC. In a direct
 * boot's 8 MiB md5sum, ~100 k region exits per 90 M instructions were at SHRD/SHLD, PUSHF
 * and CLI alone (64-bit arithmetic, local_irq_save).
 */
export function interpretedLength(ram: Uint8Array, physical: number, codeSize: number): number {
  const bytes = new CodeBytes(ram, physical, (physical | 0xfff) + 1);
  let addrSize = codeSize;
  let lock = false;
  let opcode = bytes.next8();
  for (;;) {
    if (opcode === 0x67) addrSize = codeSize === 2 ? 4 : 2;
    else if (opcode === 0xf0) lock = true;
    else if (opcode !== 0x66 && SEGMENT_PREFIXES[opcode] === undefined) break;
    opcode = bytes.next8();
  }
  if (opcode === 0x0f) {
    const op2 = bytes.next8();
    const modrm = bytes.next8();
    const reg = (modrm >>> 3) & 7;
    if (op2 === 0xc7) {
      // CMPXCHG8B m64 (0F C7 /1)
      if (reg !== 1 || modrm >>> 6 === 3) return -1;
    } else if (op2 === 0xba) {
      // BT/BTS/BTR/BTC r/m, imm8 (0F BA /4-7)
      if (reg < 4) return -1;
    } else if (op2 !== 0xb0 && op2 !== 0xb1 && op2 !== 0xc0 && op2 !== 0xc1) {
      // CMPXCHG, XADD; else SHLD/SHRD (0F A4/A5/AC/AD) and BT/BTS/BTR/BTC r/m, r (0F A3/AB/B3/BB), without LOCK
      if (lock || (op2 !== 0xa4 && op2 !== 0xa5 && op2 !== 0xac && op2 !== 0xad && op2 !== 0xa3 && op2 !== 0xab && op2 !== 0xb3 && op2 !== 0xbb)) return -1;
    }
    skipAddress(bytes, modrm, addrSize);
    if (op2 === 0xba || op2 === 0xa4 || op2 === 0xac) bytes.next8(); // imm8
  } else if (opcode === 0x8f && !lock) {
    // POP r/m (8F /0)
    const modrm = bytes.next8();
    if (((modrm >>> 3) & 7) !== 0) return -1;
    skipAddress(bytes, modrm, addrSize);
  } else if ((opcode === 0x9c || opcode === 0xfa || opcode === 0xfc || opcode === 0xfd) && !lock) {
    // PUSHF, CLI, CLD, STD
  } else return -1;
  return bytes.overrun ? -1 : bytes.position - physical;
}

/** Reads past a ModRM operand's SIB and displacement (a register operand has none). */
function skipAddress(bytes: CodeBytes, modrm: number, addrSize: number): void {
  const mod = modrm >>> 6;
  if (mod === 3) return;
  if (addrSize === 4) addressFields32(bytes, mod, modrm & 7);
  else addressFields16(bytes, mod, modrm & 7);
}

const interpretInBlock: DecodedInstruction = (cpu) => cpu.interpretInBlock();

/** Jumps, calls, returns and loops: the instructions that end a block. */
function transfersControl(opcode: number, second: number): boolean {
  if (opcode === 0x0f) return second >= 0x80 && second <= 0x8f;
  if (opcode === 0xff) return ((second >>> 3) & 7) === 2 || ((second >>> 3) & 7) === 4; // CALL/JMP near r/m
  return (opcode >= 0x70 && opcode <= 0x7f) || (opcode >= 0xe0 && opcode <= 0xe3) || opcode === 0xe8 || opcode === 0xe9 || opcode === 0xeb || opcode === 0xc2 || opcode === 0xc3;
}

/** A decoded instruction with its length; control transfers end a block. */
export interface DecodedResult {
  /** Runs the instruction once EIP has been moved past it. */
  run: DecodedInstruction;
  length: number;
  transfersControl: boolean;
  /**
   * The instruction reads cpu.instructionCount (RDTSC through the time-stamp source): a
   * caller that counts retired instructions late (a compiled block) makes it exact first.
   */
  readsInstructionCount: boolean;
}

function decodeOpcode(cpu: Cpu, opcode: number, bytes: CodeBytes, p: Prefixes): DecodedInstruction | typeof INTERPRET {
  const quirks = cpu.quirks;
  if (opcode < 0x40 && (opcode & 7) <= 5) return aluForm(opcode, bytes, p);
  if (opcode >= 0x40 && opcode <= 0x4f) return incDec(opcode, p.opSize);
  if (opcode >= 0x50 && opcode <= 0x57) {
    const r = opcode & 7;
    const size = p.opSize;
    if (r === ESP && quirks.pushSpAfterDecrement) return INTERPRET;
    if (size === 4) return (c) => c.push(4, c.reg32[r]);
    return (c) => c.push(size, c.getReg(size, r));
  }
  if (opcode >= 0x58 && opcode <= 0x5f) {
    const r = opcode & 7;
    const size = p.opSize;
    // POP ESP: the popped value, not the incremented pointer (written after the pop).
    if (size === 4) return (c) => {
      const value = c.pop(4);
      c.reg32[r] = value;
    };
    return (c) => {
      const value = c.pop(size);
      c.setReg(size, r, value);
    };
  }
  if (opcode >= 0x70 && opcode <= 0x7f) return jumpIf(opcode & 0xf, (bytes.next8() << 24) >> 24, p.opSize);
  if (opcode >= 0x80 && opcode <= 0x83) return aluImmediate(opcode, bytes, p);
  if (opcode === 0x84 || opcode === 0x85) {
    const size: OperandSize = (opcode & 1) !== 0 ? p.opSize : 1;
    const m = decodeModrm(bytes, p);
    const read = rmReader(m, size);
    const reg = m.reg;
    return (c) => setLogicFlags(c.flags, read(c) & c.getReg(size, reg), size);
  }
  if (opcode >= 0x88 && opcode <= 0x8b) return move(opcode, bytes, p);
  if (opcode === 0x8d) {
    const m = decodeModrm(bytes, p);
    if (m.memory === undefined) return INTERPRET;
    const reg = m.reg;
    const size = p.opSize;
    if (size === 4) return loadAddress32(m.memory, reg);
    const offset = m.memory.offset;
    return (c) => c.setReg(size, reg, offset(c));
  }
  if (opcode >= 0xb0 && opcode <= 0xbf) {
    const size: OperandSize = opcode < 0xb8 ? 1 : p.opSize;
    const r = opcode & 7;
    const value = bytes.immediate(size);
    if (size === 4) return (c) => (c.reg32[r] = value);
    return (c) => c.setReg(size, r, value);
  }
  if (opcode === 0xc6 || opcode === 0xc7) {
    const size: OperandSize = (opcode & 1) !== 0 ? p.opSize : 1;
    const m = decodeModrm(bytes, p);
    const value = bytes.immediate(size);
    return rmWriter(m, size, () => value);
  }
  if (opcode === 0xd0 || opcode === 0xd1 || opcode === 0xd2 || opcode === 0xd3 || ((opcode === 0xc0 || opcode === 0xc1) && !quirks.opcodeAliases8086)) {
    return shift(cpu, opcode, bytes, p);
  }
  if (opcode === 0xc3 || (opcode === 0xc2 && !quirks.opcodeAliases8086)) {
    const release = opcode === 0xc2 ? bytes.next16() : 0;
    const size = p.opSize;
    if (release === 0) return (c) => (c.eip = c.pop(size));
    return (c) => {
      c.eip = c.pop(size);
      c.adjustStack(release);
    };
  }
  if (opcode >= 0xe0 && opcode <= 0xe3) return loop(opcode, (bytes.next8() << 24) >> 24, p);
  if (opcode === 0xe8) {
    const size = p.opSize;
    const displacement = size === 2 ? (bytes.next16() << 16) >> 16 : bytes.next32() | 0;
    const mask = size === 2 ? 0xffff : -1;
    return (c) => {
      c.push(size, c.eip);
      c.eip = ((c.eip + displacement) & mask) >>> 0;
    };
  }
  if (opcode === 0xe9 || opcode === 0xeb) {
    const displacement = opcode === 0xeb ? (bytes.next8() << 24) >> 24 : p.opSize === 2 ? (bytes.next16() << 16) >> 16 : bytes.next32() | 0;
    const mask = p.opSize === 2 ? 0xffff : -1;
    return (c) => (c.eip = ((c.eip + displacement) & mask) >>> 0);
  }
  if (opcode === 0x0f && quirks.has32Bit) return twoByte(cpu, bytes.next8(), bytes, p);
  return decodeMore(cpu, opcode, bytes, p);
}

/** NOP, PUSH imm, LEAVE, group 3 (TEST/NOT/NEG/MUL/DIV r/m), IMUL imm, MOV with moffs, TEST acc, imm, PUSHF, flag instructions. */
function decodeMore(cpu: Cpu, opcode: number, bytes: CodeBytes, p: Prefixes): DecodedInstruction | typeof INTERPRET {
  const aliases8086 = cpu.quirks.opcodeAliases8086;
  if (opcode === 0x90) return () => {};
  if ((opcode === 0x68 || opcode === 0x6a) && !aliases8086) {
    const size = p.opSize;
    const value = (opcode === 0x6a ? (bytes.next8() << 24) >> 24 : bytes.immediate(size)) >>> 0;
    return (c) => c.push(size, value);
  }
  if (opcode === 0xc9 && !aliases8086) {
    const size = p.opSize;
    return (c) => {
      c.setReg(c.stackSize, ESP, c.getReg(c.stackSize, EBP));
      c.setReg(size, EBP, c.pop(size));
    };
  }
  if (opcode === 0xf6 || opcode === 0xf7) return group3(opcode, bytes, p);
  if ((opcode === 0x69 || opcode === 0x6b) && !aliases8086) {
    const size = p.opSize;
    const m = decodeModrm(bytes, p);
    const read = rmReader(m, size);
    const reg = m.reg;
    const value = (opcode === 0x6b ? signExtend(bytes.next8(), 1) & sizeMask(size) : bytes.immediate(size)) >>> 0;
    return (c) => c.setReg(size, reg, multiplySigned(c, read(c), value, size));
  }
  // PUSHF (VM and RF are never pushed) and the flag instructions that cannot let an
  // interrupt in: CLC, STC, CLI (IOPL-checked), CLD, STD, CMC. STI, POPF and IRET stay
  // interpreted (the CPU polls for interrupts only after an interpreted instruction).
  if (opcode === 0x9c) {
    const size = p.opSize;
    return (c) => c.push(size, pushedFlags(c));
  }
  // The interpreter's handlers themselves: they fetch nothing (CLI checks IOPL).
  if (opcode === 0xf8 || opcode === 0xf9 || opcode === 0xfa || opcode === 0xfc || opcode === 0xfd) return (c) => setOrClearFlag(c, opcode);
  if (opcode === 0xf5) return complementCarry;
  if (opcode >= 0xa0 && opcode <= 0xa3) {
    // MOV between the accumulator and a memory offset (moffs, address-size wide; DS unless overridden).
    const size: OperandSize = (opcode & 1) !== 0 ? p.opSize : 1;
    const offset = bytes.immediate(p.addrSize);
    const seg = p.seg === NO_SEGMENT ? DS : p.seg;
    if (opcode < 0xa2) return (c) => c.setReg(size, EAX, c.readMemory(seg, offset, size));
    return (c) => c.writeMemory(seg, offset, size, c.getReg(size, EAX));
  }
  if (opcode === 0xa8 || opcode === 0xa9) {
    const size: OperandSize = opcode === 0xa9 ? p.opSize : 1;
    const value = bytes.immediate(size);
    return (c) => setLogicFlags(c.flags, c.getReg(size, EAX) & value, size);
  }
  if (opcode === 0xff) return group5(cpu, bytes, p);
  return INTERPRET;
}

/** F6/F7 group 3 on r/m: TEST imm (and its alias /1), NOT, NEG, MUL, IMUL, DIV, IDIV (the operand is read first). */
function group3(opcode: number, bytes: CodeBytes, p: Prefixes): DecodedInstruction {
  const size: OperandSize = (opcode & 1) !== 0 ? p.opSize : 1;
  const m = decodeModrm(bytes, p);
  const read = rmReader(m, size);
  switch (m.reg) {
    case 0:
    case 1: {
      const value = bytes.immediate(size);
      return (c) => setLogicFlags(c.flags, read(c) & value, size);
    }
    case 2: {
      const mask = sizeMask(size);
      return rmUpdater(m, size, (_c, value) => ~value & mask);
    }
    case 3:
      return rmUpdater(m, size, (c, value) => negate(c.flags, value, size));
    default: {
      const signed = (m.reg & 1) !== 0;
      if (m.reg < 6) return (c) => multiplyAccumulator(c, read(c), size, signed);
      return (c) => divideAccumulator(c, read(c), size, signed);
    }
  }
}

/** FF /0 INC, /1 DEC, /2 CALL near, /4 JMP near, /6 PUSH on r/m (the far forms go to the interpreter). */
function group5(cpu: Cpu, bytes: CodeBytes, p: Prefixes): DecodedInstruction | typeof INTERPRET {
  const size = p.opSize;
  const m = decodeModrm(bytes, p);
  const read = rmReader(m, size);
  switch (m.reg) {
    case 0:
    case 1: {
      const mem = m.memory;
      const dec = m.reg === 1;
      if (mem === undefined) {
        const r = m.rm;
        return (c) => {
          const value = c.getReg(size, r);
          c.setReg(size, r, dec ? decrement(c.flags, value, size) : increment(c.flags, value, size));
        };
      }
      const seg = mem.segment;
      const offset = mem.offset;
      return (c) => {
        const at = offset(c);
        const value = c.readMemory(seg, at, size);
        c.writeMemory(seg, at, size, dec ? decrement(c.flags, value, size) : increment(c.flags, value, size));
      };
    }
    case 2:
      return (c) => {
        const target = read(c);
        c.push(size, c.eip);
        c.eip = target;
      };
    case 4:
      return (c) => (c.eip = read(c));
    case 6:
      if (m.memory === undefined && m.rm === ESP && cpu.quirks.pushSpAfterDecrement) return INTERPRET;
      return (c) => c.push(size, read(c));
    default:
      return INTERPRET;
  }
}

/** 00-3F: ALU op between r/m and reg (either direction) or accumulator and immediate. */
function aluForm(opcode: number, bytes: CodeBytes, p: Prefixes): DecodedInstruction {
  const op = (opcode >>> 3) & 7;
  const size: OperandSize = (opcode & 1) !== 0 ? p.opSize : 1;
  const store = op !== CMP;
  if ((opcode & 7) >= 4) {
    const b = bytes.immediate(size);
    return (c) => {
      const res = aluOperation(c.flags, op, c.getReg(size, 0), b, size);
      if (store) c.setReg(size, 0, res);
    };
  }
  const m = decodeModrm(bytes, p);
  const reg = m.reg;
  const toRm = (opcode & 2) === 0;
  const mem = m.memory;
  if (mem === undefined) {
    const rm = m.rm;
    const dst = toRm ? rm : reg;
    const src = toRm ? reg : rm;
    if (size === 4) {
      const special = aluRegisterRegister32(op, dst, src);
      if (special !== undefined) return special;
      return (c) => {
        const r = c.reg32;
        const res = aluOperation(c.flags, op, r[dst], r[src], 4);
        if (store) r[dst] = res;
      };
    }
    return (c) => {
      const res = aluOperation(c.flags, op, c.getReg(size, dst), c.getReg(size, src), size);
      if (store) c.setReg(size, dst, res);
    };
  }
  const seg = mem.segment;
  const offset = mem.offset;
  if (toRm) {
    return (c) => {
      const at = offset(c);
      const res = aluOperation(c.flags, op, c.readMemory(seg, at, size), c.getReg(size, reg), size);
      if (store) c.writeMemory(seg, at, size, res);
    };
  }
  return (c) => {
    const res = aluOperation(c.flags, op, c.getReg(size, reg), c.readMemory(seg, offset(c), size), size);
    if (store) c.setReg(size, reg, res);
  };
}

/** 80-83: ALU op between r/m and an immediate (83: sign-extended byte). */
function aluImmediate(opcode: number, bytes: CodeBytes, p: Prefixes): DecodedInstruction {
  const size: OperandSize = (opcode & 1) !== 0 ? p.opSize : 1;
  const m = decodeModrm(bytes, p);
  const b = (opcode === 0x83 ? signExtend(bytes.next8(), 1) & sizeMask(size) : bytes.immediate(size)) >>> 0;
  const op = m.reg;
  const store = op !== CMP;
  const mem = m.memory;
  if (mem === undefined) {
    const rm = m.rm;
    if (size === 4) {
      const special = aluRegisterImmediate32(op, rm, b);
      if (special !== undefined) return special;
      return (c) => {
        const res = aluOperation(c.flags, op, c.reg32[rm], b, 4);
        if (store) c.reg32[rm] = res;
      };
    }
    return (c) => {
      const res = aluOperation(c.flags, op, c.getReg(size, rm), b, size);
      if (store) c.setReg(size, rm, res);
    };
  }
  const seg = mem.segment;
  const offset = mem.offset;
  return (c) => {
    const at = offset(c);
    const res = aluOperation(c.flags, op, c.readMemory(seg, at, size), b, size);
    if (store) c.writeMemory(seg, at, size, res);
  };
}

/** 40-47 INC reg, 48-4F DEC reg. */
function incDec(opcode: number, size: OperandSize): DecodedInstruction {
  const r = opcode & 7;
  if (size === 4) return incDecRegister32(r, opcode >= 0x48);
  if (opcode < 0x48) return (c) => c.setReg(size, r, increment(c.flags, c.getReg(size, r), size));
  return (c) => c.setReg(size, r, decrement(c.flags, c.getReg(size, r), size));
}

/** 88-8B: MOV between r/m and reg. */
function move(opcode: number, bytes: CodeBytes, p: Prefixes): DecodedInstruction {
  const size: OperandSize = (opcode & 1) !== 0 ? p.opSize : 1;
  const m = decodeModrm(bytes, p);
  const reg = m.reg;
  if (size === 4 && m.memory === undefined) {
    // MOV r32, r32 (89 or 8B): one copy in the register file.
    const [dst, src] = (opcode & 2) === 0 ? [m.rm, reg] : [reg, m.rm];
    return (c) => {
      const r = c.reg32;
      r[dst] = r[src];
    };
  }
  if ((opcode & 2) === 0) {
    if (size === 4) return storeRegister32(m.memory!, reg);
    return rmWriter(m, size, (c) => c.getReg(size, reg));
  }
  if (size === 4) return loadRegister32(m.memory!, reg);
  const read = rmReader(m, size);
  return (c) => c.setReg(size, reg, read(c));
}

/** D0-D3, C0/C1: group 2 shifts and rotates. */
function shift(cpu: Cpu, opcode: number, bytes: CodeBytes, p: Prefixes): DecodedInstruction {
  const size: OperandSize = (opcode & 1) !== 0 ? p.opSize : 1;
  const m = decodeModrm(bytes, p);
  const immediate = opcode < 0xd0 ? bytes.next8() : 1;
  const byCl = opcode >= 0xd2;
  const countMask = cpu.quirks.shiftCountUnmasked ? 0xff : 31;
  const setmo = cpu.quirks.opcodeAliases8086;
  const op = m.reg;
  const mem = m.memory;
  return (c) => {
    const count = (byCl ? c.reg8[1 << 2] : immediate) & countMask;
    if (mem === undefined) {
      const value = c.getReg(size, m.rm);
      if (count !== 0) c.setReg(size, m.rm, shiftRotate(c.flags, op, value, count, size, setmo));
      return;
    }
    const at = mem.offset(c);
    const value = c.readMemory(mem.segment, at, size);
    if (count !== 0) c.writeMemory(mem.segment, at, size, shiftRotate(c.flags, op, value, count, size, setmo));
  };
}

/** E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JCXZ. */
function loop(opcode: number, displacement: number, p: Prefixes): DecodedInstruction {
  const size = p.addrSize;
  const counterMask = size === 2 ? 0xffff : -1;
  const mask = p.opSize === 2 ? 0xffff : -1;
  if (opcode === 0xe3) {
    return (c) => {
      if (c.getReg(size, ECX) === 0) c.eip = ((c.eip + displacement) & mask) >>> 0;
    };
  }
  return (c) => {
    const count = (c.getReg(size, ECX) - 1) & counterMask;
    c.setReg(size, ECX, count);
    let taken = count !== 0;
    if (opcode === 0xe0) taken &&= c.flags.get(ZF) === 0;
    else if (opcode === 0xe1) taken &&= c.flags.get(ZF) !== 0;
    if (taken) c.eip = ((c.eip + displacement) & mask) >>> 0;
  };
}
