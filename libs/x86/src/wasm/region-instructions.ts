import { ARITH_FLAGS, CF } from '../flag-bits.js';
import { FlagOp } from '../lazy-flags.js';
import type { CpuQuirks } from '../cpu-model.js';
import { ADC, ADD, AND, CMP, OR, SBB, XOR } from '../ops/alu.js';
import { CS, EAX, EBP, ECX, EDI, EDX, ES, ESI, ESP, NO_SEGMENT, SS, type OperandSize } from '../registers.js';
import { CodeBytes, SEGMENT_PREFIXES } from '../decoded/code-bytes.js';
import { addressFields32 } from '../decoded/address-fields.js';
import { interpretedLength } from '../decoded/decode-instruction.js';
import { I32, Op, VOID } from './wasm-encoder.js';
import { STATE } from './wasm-state.js';
import { Fn, sizeMask, type RegionEmitter } from './region-emitter.js';

/** A ModRM operand: the reg field, and a register (`rm`) or a memory operand (segment + address code). */
interface Modrm {
  reg: number;
  rm: number;
  mem: { seg: number; address: () => void } | undefined;
}

/** What became of an instruction: its length, and whether it ended the member (a transfer). */
export interface Emitted {
  length: number;
  transfers: boolean;
}

/** Longest x86 instruction: one that starts this close to a page's end may run on into the next. */
const MAX_INSTRUCTION_LENGTH = 15;

/**
 * Emits the instruction at RAM offset `physical` (32-bit code) into the region; undefined
 * when it is not one the wasm JIT compiles (nothing is emitted then). An instruction may
 * run on into the next page when `tail` holds that page's first bytes as the page CS:EIP
 * runs on into maps them now: its code then first checks that the next page still maps
 * to RAM and holds those bytes (crossingGuard), else leaves at the instruction.
 * `memberAt` names the member starting at a page offset (-1: none), for branches.
 */
export function emitRegionInstruction(e: RegionEmitter, quirks: CpuQuirks, ram: Uint8Array, physical: number, memberAt: (offset: number) => number, tail?: Uint8Array): Emitted | undefined {
  const f = e.f;
  const mark = f.code.length;
  const inner = e.inner;
  const known = e.known;
  const pageEnd = (physical | 0xfff) + 1;
  const head = pageEnd - physical;
  const crossable = tail !== undefined && head < MAX_INSTRUCTION_LENGTH;
  // Decoded from a copy of the page's last bytes followed by the next page's first ones.
  const bytes = crossable ? new CodeBytes(joinBytes(ram.subarray(physical, pageEnd), tail), 0, head + tail.length) : new CodeBytes(ram, physical, pageEnd);
  const undo = (): void => {
    f.code.length = mark;
    e.inner = inner;
    e.known = known;
  };
  let result = decodeAndEmit(e, quirks, bytes, crossable ? 0 : physical, memberAt);
  if ((result === undefined || bytes.overrun) && !crossable) {
    // Not compiled: the interpreter's handler may still run it inside the region.
    undo();
    bytes.overrun = false;
    result = interpreted(e, ram, physical);
  }
  if (result === undefined || bytes.overrun) {
    undo();
    return undefined;
  }
  if (crossable && result.length > head) {
    // The instruction's code is there already: the guard goes in front of it.
    const body = f.code.splice(mark);
    crossingGuard(e, tail.subarray(0, result.length - head));
    for (const b of body) f.code.push(b);
  }
  return result;
}

function joinBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/**
 * Before an instruction that runs on into the next page: leaves at it unless the page
 * after this one (CS base + pageEip + 4 KiB) is in the current fast read table and its
 * first bytes are still `expected`. The region is dropped when its own page's code
 * changes, not when the next page's does, nor when paging maps other RAM there: the
 * interpreter's crossing blocks check the same (Cpu.crossingHolds).
 */
function crossingGuard(e: RegionEmitter, expected: Uint8Array): void {
  const f = e.f;
  f.get(e.readTable).i32(0).mem(Op.i32Load, e.state + STATE.segBase + CS * 4).get(e.pageEip).op(Op.i32Add).i32(0x1000).op(Op.i32Add);
  f.i32(12).op(Op.i32ShrU).i32(2).op(Op.i32Shl, Op.i32Add).mem(Op.i32Load).tee(e.q);
  f.i32(0).op(Op.i32LtS);
  e.if(I32);
  f.i32(1);
  e.else();
  // Nonzero when a byte differs: whole little-endian words, the last one masked.
  for (let w = 0; w < expected.length; w += 4) {
    let word = 0;
    let mask = 0;
    for (let k = 0; k < 4 && w + k < expected.length; k++) {
      word |= expected[w + k] << (8 * k);
      mask |= 0xff << (8 * k);
    }
    f.get(e.q).mem(Op.i32Load, w);
    if (mask !== -1) f.i32(mask).op(Op.i32And);
    f.i32(word).op(Op.i32Xor);
    if (w > 0) f.op(Op.i32Or);
  }
  e.endIf();
  e.if();
  e.exitAt(e.start, e.index);
  e.endIf();
}

function decodeAndEmit(e: RegionEmitter, quirks: CpuQuirks, bytes: CodeBytes, physical: number, memberAt: (offset: number) => number): Emitted | undefined {
  if (!quirks.has32Bit || quirks.opcodeAliases8086) return undefined;
  let opSize: OperandSize = 4;
  let seg = NO_SEGMENT;
  let opcode = bytes.next8();
  for (;;) {
    if (opcode === 0x66) opSize = 2;
    else if (opcode === 0x67) return undefined; // 16-bit addressing: not here
    else if (SEGMENT_PREFIXES[opcode] !== undefined) seg = SEGMENT_PREFIXES[opcode];
    else if (opcode === 0xf2 || opcode === 0xf3) {
      const next = bytes.next8();
      if (next === 0x90) return { length: bytes.position - physical, transfers: false }; // F3 90 is PAUSE
      // REPE/REPNE CMPSB and SCASB: a scan inside one page each way (repCompareBytes).
      if (next === 0xa6 || next === 0xae) {
        e.end = e.start + (bytes.position - physical);
        repCompareBytes(e, next === 0xa6, opcode === 0xf2, seg);
        return { length: bytes.position - physical, transfers: false };
      }
      // REP MOVS/STOS in one page each way: a bulk copy or fill (repMovsStos); other REP
      // forms stay with the interpreter.
      if (opcode !== 0xf3 || (next !== 0xa4 && next !== 0xa5 && next !== 0xaa && next !== 0xab)) return undefined;
      const size: OperandSize = (next & 1) !== 0 ? opSize : 1;
      e.end = e.start + (bytes.position - physical);
      repMovsStos(e, next <= 0xa5, size, seg);
      return { length: bytes.position - physical, transfers: false };
    } else if (opcode !== 0xf0) break;
    opcode = bytes.next8();
  }
  // The instruction's length is only known after decoding; emitters that need its end
  // (exits, spills) run from `finish`, after all bytes are read.
  const plan = planInstruction(e, quirks, opcode, opSize, seg, bytes);
  if (plan === undefined) return undefined;
  const length = bytes.position - physical;
  e.end = e.start + length;
  const transfer = plan(memberAt);
  return { length, transfers: transfer };
}

/**
 * An instruction the interpreter's handler runs inside the region, through the `interpret`
 * import (decoded/decode-instruction.ts interpretedLength: CMPXCHG8B, CMPXCHG/XADD, POP r/m,
 * PUSHF, CLI, CLD/STD, SHLD/SHRD, BT/BTS/BTR/BTC) rather than a region exit and a round of
 * the dispatcher (~1 us each): registers, flags and the instruction's place spilled first,
 * registers reloaded after, the flags left to Cpu.flags; a write to decoded code ends the
 * member after it.
 */
function interpreted(e: RegionEmitter, ram: Uint8Array, physical: number): Emitted | undefined {
  const length = interpretedLength(ram, physical, 4);
  if (length < 0) return undefined;
  const f = e.f;
  e.end = e.start + length;
  e.spill();
  f.call(Fn.interpret).set(e.t);
  e.leaveIfFaulted();
  e.reloadRegisters(0, 1, 2, 3, 4, 5, 6, 7);
  e.forgetFlags();
  f.get(e.t);
  e.if(undefined);
  e.exitAt(e.end, e.index + 1);
  e.endIf();
  return { length, transfers: false };
}

/** Code for one instruction, emitted once its length is known; returns whether it transferred control. */
type Plan = (memberAt: (offset: number) => number) => boolean;

function planInstruction(e: RegionEmitter, quirks: CpuQuirks, opcode: number, opSize: OperandSize, seg: number, bytes: CodeBytes): Plan | undefined {
  const f = e.f;
  const size: OperandSize = (opcode & 1) !== 0 ? opSize : 1;
  const modrm = (): Modrm => decodeModrm(e, bytes, seg);
  const none = (body: () => void): Plan => () => {
    body();
    return false;
  };
  if (opcode === 0xfc || opcode === 0xfd) {
    // CLD/STD: DF lives in the state area while regions run (region-runner.ts syncDirection).
    return none(() => {
      f.i32(0).i32(opcode === 0xfd ? 1 : 0).mem(Op.i32Store, e.state + STATE.direction);
    });
  }
  if (opcode < 0x40 && (opcode & 7) <= 5) {
    const op = (opcode >>> 3) & 7;
    if ((opcode & 7) >= 4) {
      const imm = bytes.immediate(size);
      return none(() => {
        alu(e, op, size, () => e.reg(size, EAX), () => f.i32(imm));
        if (op !== CMP) e.setReg(size, EAX, () => f.get(e.t));
      });
    }
    const m = modrm();
    if ((opcode & 2) === 0) return none(() => aluToRm(e, op, size, m, () => e.reg(size, m.reg)));
    return none(() => {
      alu(e, op, size, () => e.reg(size, m.reg), () => readRm(e, m, size));
      if (op !== CMP) e.setReg(size, m.reg, () => f.get(e.t));
    });
  }
  if (opcode >= 0x40 && opcode <= 0x4f) return none(() => incDec(e, opSize, { reg: 0, rm: opcode & 7, mem: undefined }, opcode >= 0x48));
  if (opcode >= 0x50 && opcode <= 0x57) return none(() => push(e, opSize, () => e.reg(opSize, opcode & 7)));
  if (opcode >= 0x58 && opcode <= 0x5f) {
    return none(() => {
      pop(e, opSize);
      e.setReg(opSize, opcode & 7, () => f.get(e.v));
    });
  }
  if (opcode === 0x68 || opcode === 0x6a) {
    const value = opcode === 0x6a ? bytes.displacement8() & sizeMask(opSize) : bytes.immediate(opSize);
    return none(() => push(e, opSize, () => f.i32(value)));
  }
  if ((opcode === 0x69 || opcode === 0x6b) && opSize === 4) {
    const m = modrm();
    const imm = opcode === 0x6b ? bytes.displacement8() : bytes.immediate(4) | 0;
    return none(() => multiplySigned(e, m.reg, () => readRm(e, m, 4), () => f.i32(imm)));
  }
  if (opcode >= 0x70 && opcode <= 0x7f) {
    const displacement = bytes.displacement8();
    return (memberAt) => branch(e, memberAt, opcode & 0xf, displacement);
  }
  if (opcode >= 0x80 && opcode <= 0x83) {
    const s: OperandSize = opcode === 0x80 || opcode === 0x82 ? 1 : opSize;
    const m = modrm();
    const imm = opcode === 0x83 ? bytes.displacement8() & sizeMask(s) : bytes.immediate(s);
    return none(() => aluToRm(e, m.reg, s, m, () => f.i32(imm)));
  }
  if (opcode === 0x84 || opcode === 0x85) {
    const m = modrm();
    return none(() => alu(e, AND, size, () => readRm(e, m, size), () => e.reg(size, m.reg)));
  }
  if (opcode === 0x86 || opcode === 0x87) {
    const m = modrm();
    return none(() => {
      readRm(e, m, size);
      f.set(e.ta);
      e.reg(size, m.reg);
      f.set(e.v);
      writeRm(e, m, size);
      e.setReg(size, m.reg, () => f.get(e.ta));
    });
  }
  if (opcode >= 0x88 && opcode <= 0x8b) {
    const m = modrm();
    if ((opcode & 2) === 0) {
      return none(() => {
        if (m.mem !== undefined) m.mem.address();
        e.reg(size, m.reg);
        f.set(e.v);
        writeRm(e, m, size);
      });
    }
    return none(() => e.setReg(size, m.reg, () => readRm(e, m, size)));
  }
  if (opcode === 0x8d) {
    const m = modrm();
    const mem = m.mem;
    if (mem === undefined) return undefined;
    return none(() => {
      mem.address();
      e.setReg(opSize, m.reg, () => f.get(e.o));
    });
  }
  if (opcode === 0x90) return none(() => undefined);
  if (opcode >= 0x91 && opcode <= 0x97) {
    const r = opcode & 7;
    return none(() => {
      e.reg(opSize, r);
      f.set(e.t);
      e.setReg(opSize, r, () => e.reg(opSize, EAX));
      e.setReg(opSize, EAX, () => f.get(e.t));
    });
  }
  if (opcode === 0x98) {
    if (opSize === 4) return none(() => e.setReg(4, EAX, () => f.get(e.R[EAX]).op(Op.i32Extend16S)));
    return none(() => e.setReg(2, EAX, () => f.get(e.R[EAX]).op(Op.i32Extend8S)));
  }
  if (opcode === 0x99) {
    if (opSize === 4) return none(() => e.setReg(4, EDX, () => f.get(e.R[EAX]).i32(31).op(Op.i32ShrS)));
    return none(() => e.setReg(2, EDX, () => f.get(e.R[EAX]).op(Op.i32Extend16S).i32(31).op(Op.i32ShrS)));
  }
  if (opcode >= 0xa0 && opcode <= 0xa3) {
    const address = bytes.immediate(4);
    const s = seg === NO_SEGMENT ? 3 : seg;
    return none(() => {
      f.i32(address).set(e.o);
      if (opcode <= 0xa1) e.setReg(size, EAX, () => e.read(s, size));
      else {
        e.reg(size, EAX);
        f.set(e.v);
        e.write(s, size);
      }
    });
  }
  if (opcode >= 0xa4 && opcode <= 0xaf && opcode !== 0xa8 && opcode !== 0xa9) return none(() => stringElement(e, opcode, size, seg));
  if (opcode === 0xa8 || opcode === 0xa9) {
    const imm = bytes.immediate(size);
    return none(() => alu(e, AND, size, () => e.reg(size, EAX), () => f.i32(imm)));
  }
  if (opcode >= 0xb0 && opcode <= 0xbf) {
    const s: OperandSize = opcode < 0xb8 ? 1 : opSize;
    const imm = bytes.immediate(s);
    return none(() => e.setReg(s, opcode & 7, () => f.i32(imm)));
  }
  if (opcode === 0xc0 || opcode === 0xc1 || (opcode >= 0xd0 && opcode <= 0xd3)) {
    const m = modrm();
    if (m.reg === 2 || m.reg === 3) return undefined; // RCL/RCR stay with the closures
    const constant = opcode < 0xd0 ? bytes.next8() & 31 : opcode < 0xd2 ? 1 : -1;
    if (m.reg < 2) {
      if (constant >= 0) return none(() => rotate(e, size, m, m.reg === 0, () => f.i32(constant), constant));
      if (size !== 4) return undefined;
      return none(() => rotate(e, 4, m, m.reg === 0, () => f.get(e.R[ECX]).i32(31).op(Op.i32And), -1));
    }
    if (constant >= 0) return none(() => shiftByConstant(e, size, m, m.reg, constant));
    if (size !== 4) return undefined;
    return none(() => shiftByCl(e, m, m.reg));
  }
  if (opcode === 0xc2 || opcode === 0xc3) {
    if (opSize !== 4) return undefined;
    const release = opcode === 0xc2 ? bytes.next16() : 0;
    return () => {
      pop(e, 4, release);
      e.exit(() => f.get(e.v), e.index + 1);
      return true;
    };
  }
  if (opcode === 0xc6 || opcode === 0xc7) {
    const m = modrm();
    if (m.reg !== 0) return undefined;
    const imm = bytes.immediate(size);
    return none(() => {
      if (m.mem !== undefined) m.mem.address();
      f.i32(imm).set(e.v);
      writeRm(e, m, size);
    });
  }
  if (opcode === 0xc9) {
    if (!e.stack32()) return undefined;
    return none(() => {
      e.setReg(4, ESP, () => f.get(e.R[EBP]));
      pop(e, opSize);
      e.setReg(opSize, EBP, () => f.get(e.v));
    });
  }
  if (opcode === 0xe8) {
    if (opSize !== 4) return undefined;
    const displacement = bytes.next32() | 0;
    return (memberAt) => {
      push(e, 4, () => f.get(e.pageEip).i32(e.end).op(Op.i32Add));
      jump(e, memberAt, e.end + displacement);
      return true;
    };
  }
  if (opcode === 0xe9 || opcode === 0xeb) {
    if (opSize !== 4) return undefined;
    const displacement = opcode === 0xeb ? bytes.displacement8() : bytes.next32() | 0;
    return (memberAt) => {
      jump(e, memberAt, e.end + displacement);
      return true;
    };
  }
  if (opcode === 0xf6 || opcode === 0xf7) return group3(e, quirks, size, modrm(), bytes);
  if (opcode === 0xfe || opcode === 0xff) return group5(e, quirks, size, opcode, opSize, modrm());
  if (opcode === 0x0f) return twoByte(e, bytes.next8(), opSize, bytes, modrm);
  return undefined;
}

/** Decodes ModRM (32-bit addressing); a memory operand's code sets `o` to its offset. */
function decodeModrm(e: RegionEmitter, bytes: CodeBytes, segOverride: number): Modrm {
  const modrm = bytes.next8();
  const mod = modrm >>> 6;
  const rm = modrm & 7;
  const reg = (modrm >>> 3) & 7;
  if (mod === 3) return { reg, rm, mem: undefined };
  const fields = addressFields32(bytes, mod, rm);
  const f = e.f;
  const address = (): void => {
    let terms = 0;
    if (fields.base >= 0) {
      f.get(e.R[fields.base]);
      terms++;
    }
    if (fields.index >= 0) {
      f.get(e.R[fields.index]);
      if (fields.scale !== 0) f.i32(fields.scale).op(Op.i32Shl);
      if (terms++ > 0) f.op(Op.i32Add);
    }
    if (fields.disp !== 0 || terms === 0) {
      f.i32(fields.disp);
      if (terms > 0) f.op(Op.i32Add);
    }
    f.set(e.o);
  };
  return { reg, rm, mem: { seg: segOverride !== NO_SEGMENT ? segOverride : fields.seg, address } };
}

/** Pushes the r/m operand (a memory operand's offset goes to `o` first). */
function readRm(e: RegionEmitter, m: Modrm, size: OperandSize): void {
  if (m.mem === undefined) {
    e.reg(size, m.rm);
    return;
  }
  m.mem.address();
  e.read(m.mem.seg, size);
}

/** Writes `v` to the r/m operand; for memory, `o` must hold its offset already. */
function writeRm(e: RegionEmitter, m: Modrm, size: OperandSize): void {
  if (m.mem === undefined) e.setReg(size, m.rm, () => e.f.get(e.v));
  else e.write(m.mem.seg, size);
}

/** ta = a, tb = b, t = op(a, b) (wrapped to the size), with the flag record of ops/alu.ts. */
function alu(e: RegionEmitter, op: number, size: OperandSize, a: () => void, b: () => void): void {
  const f = e.f;
  a();
  f.set(e.ta);
  b();
  if (size !== 4) f.i32(sizeMask(size)).op(Op.i32And);
  f.set(e.tb);
  const operands = (): void => {
    f.get(e.ta).op(Op.i64ExtendI32U).set(e.fa);
    f.get(e.tb).op(Op.i64ExtendI32U).set(e.fb);
  };
  const logic = (opcode: number): void => {
    f.get(e.ta).get(e.tb).op(opcode).set(e.t);
    f.i64(0).set(e.fa).i64(0).set(e.fb);
    f.get(e.t).op(Op.i64ExtendI32U).set(e.fres);
    e.record(FlagOp.Logic, size, false);
  };
  switch (op) {
    case OR: return logic(Op.i32Or);
    case AND: return logic(Op.i32And);
    case XOR: return logic(Op.i32Xor);
    case ADD:
    case ADC: {
      if (op === ADC) {
        e.condition(2); // carry in: CF
        f.set(e.q);
      }
      operands();
      f.get(e.fa).get(e.fb).op(Op.i64Add);
      if (op === ADC) f.get(e.q).op(Op.i64ExtendI32U, Op.i64Add);
      f.set(e.fres);
      e.record(FlagOp.Add, size, op === ADD);
      break;
    }
    default: {
      // SUB, SBB, CMP
      if (op === SBB) {
        e.condition(2);
        f.set(e.q);
      }
      operands();
      f.get(e.fa).get(e.fb).op(Op.i64Sub);
      if (op === SBB) f.get(e.q).op(Op.i64ExtendI32U, Op.i64Sub);
      f.set(e.fres);
      e.record(FlagOp.Sub, size, op !== SBB);
    }
  }
  f.get(e.fres).op(Op.i32WrapI64).set(e.t);
}

/** op r/m, src: the result written back unless it is CMP. */
function aluToRm(e: RegionEmitter, op: number, size: OperandSize, m: Modrm, src: () => void): void {
  alu(e, op, size, () => readRm(e, m, size), src);
  if (op === CMP) return;
  e.f.get(e.t).set(e.v);
  writeRm(e, m, size);
}

/** INC/DEC r/m: every arithmetic flag but CF. */
function incDec(e: RegionEmitter, size: OperandSize, m: Modrm, decrement: boolean): void {
  const f = e.f;
  readRm(e, m, size);
  f.set(e.ta);
  e.saveCarry();
  f.get(e.ta).op(Op.i64ExtendI32U).set(e.fa);
  f.i64(1).set(e.fb);
  f.get(e.fa).i64(1).op(decrement ? Op.i64Sub : Op.i64Add).set(e.fres);
  e.record(decrement ? FlagOp.Sub : FlagOp.Add, size, false, ARITH_FLAGS & ~CF);
  f.get(e.fres).op(Op.i32WrapI64).set(e.v);
  writeRm(e, m, size);
}

/** PUSH of a value that does not depend on `o`. */
function push(e: RegionEmitter, size: OperandSize, value: () => void): void {
  const f = e.f;
  value();
  f.set(e.v);
  if (e.stack32()) f.get(e.R[ESP]).i32(size).op(Op.i32Sub).set(e.o);
  else f.get(e.R[ESP]).i32(size).op(Op.i32Sub).i32(0xffff).op(Op.i32And).set(e.o);
  e.write(SS, size);
  e.setReg(e.stack32() ? 4 : 2, ESP, () => f.get(e.o));
}

/** POP into `v`; `release` more bytes dropped (RET imm16). */
function pop(e: RegionEmitter, size: OperandSize, release = 0): void {
  const f = e.f;
  const width: OperandSize = e.stack32() ? 4 : 2;
  e.reg(width, ESP);
  f.set(e.o);
  e.read(SS, size);
  f.set(e.v);
  e.setReg(width, ESP, () => f.get(e.o).i32(size + release).op(Op.i32Add));
}

/** Goes to a page offset: on in the region when a member starts there, else out. */
function jump(e: RegionEmitter, memberAt: (offset: number) => number, target: number): void {
  const k = target >= 0 && target < 0x1000 ? memberAt(target) : -1;
  if (k >= 0) e.continueWith(k, e.index + 1);
  else e.exitAt(target, e.index + 1);
}

/** Jcc: taken or not, the member ends here. */
function branch(e: RegionEmitter, memberAt: (offset: number) => number, cc: number, displacement: number): boolean {
  e.condition(cc);
  e.if();
  jump(e, memberAt, e.end + displacement);
  e.endIf();
  jump(e, memberAt, e.end);
  return true;
}

/** Longest REP MOVS/STOS a region does itself, in elements (one page each way at most anyway). */
const REP_MAX_ELEMENTS = 4096;

/**
 * REP MOVS / REP STOS (32-bit addressing, flat segments with base 0), when DF is clear,
 * the destination (and source) lie in one RAM page each that the fast tables map, the
 * destination page holds no decoded code, a copy's ranges do not overlap the way a
 * forward element-by-element copy would notice, and a store's bytes are all alike (memset):
 * memory.copy / memory.fill, the registers as the loop leaves them, and each element
 * retired as an instruction (as Cpu counts a REP). Anything else leaves the region at
 * the instruction, for the interpreter. ECX = 0 does nothing.
 */
function repMovsStos(e: RegionEmitter, movs: boolean, size: OperandSize, seg: number): void {
  const f = e.f;
  const source = seg === NO_SEGMENT ? 3 : seg;
  if (!e.flatZero(ES) || (movs && !e.flatZero(source))) {
    e.exitAt(e.start, e.index);
    return;
  }
  const bytes = e.ta;
  const dst = e.q;
  const src = e.tb;
  const ecx = e.R[ECX];
  f.get(ecx);
  e.if(); // ECX = 0: nothing to do
  f.get(ecx).i32(size === 4 ? 2 : size === 2 ? 1 : 0).op(Op.i32Shl).set(bytes);
  // Conditions to do it here; 1 = leave for the interpreter.
  f.i32(0).mem(Op.i32Load, e.state + STATE.direction);
  f.get(ecx).i32(REP_MAX_ELEMENTS).op(Op.i32GtU, Op.i32Or);
  // Budget: this member's instructions (at most MAX_MEMBER_INSTRUCTIONS) plus the elements.
  f.get(ecx).get(e.budget).get(e.n).op(Op.i32Sub).i32(64).op(Op.i32Sub, Op.i32GtS, Op.i32Or);
  f.get(e.R[EDI]).i32(0xfff).op(Op.i32And).get(bytes).op(Op.i32Add).i32(0x1000).op(Op.i32GtU, Op.i32Or);
  if (movs) f.get(e.R[ESI]).i32(0xfff).op(Op.i32And).get(bytes).op(Op.i32Add).i32(0x1000).op(Op.i32GtU, Op.i32Or);
  e.if();
  e.exitAt(e.start, e.index);
  e.endIf();
  f.get(e.writeTable).get(e.R[EDI]).i32(12).op(Op.i32ShrU).i32(2).op(Op.i32Shl, Op.i32Add).mem(Op.i32Load).tee(dst);
  f.i32(0).op(Op.i32LtS);
  f.get(dst).i32(12).op(Op.i32ShrU).mem(Op.i32Load8U, e.state + STATE.codeMarks).op(Op.i32Or);
  if (movs) {
    f.get(e.readTable).get(e.R[ESI]).i32(12).op(Op.i32ShrU).i32(2).op(Op.i32Shl, Op.i32Add).mem(Op.i32Load).tee(src);
    f.i32(0).op(Op.i32LtS, Op.i32Or);
  } else if (size > 1) {
    // Every byte of EAX (AX) alike: a fill with AL.
    e.reg(size, EAX);
    e.reg(1, EAX);
    f.i32(size === 4 ? 0x01010101 : 0x0101).op(Op.i32Mul, Op.i32Ne, Op.i32Or);
  }
  e.if();
  e.exitAt(e.start, e.index);
  e.endIf();
  f.get(dst).get(e.R[EDI]).i32(0xfff).op(Op.i32And, Op.i32Or).set(dst);
  if (movs) {
    f.get(src).get(e.R[ESI]).i32(0xfff).op(Op.i32And, Op.i32Or).set(src);
    // Forward element by element, a destination inside (src, src + bytes) would re-read
    // bytes it wrote; memory.copy would not.
    f.get(dst).get(src).op(Op.i32GtU).get(dst).get(src).get(bytes).op(Op.i32Add, Op.i32LtU, Op.i32And);
    e.if();
    e.exitAt(e.start, e.index);
    e.endIf();
    f.get(dst).get(src).get(bytes).memoryCopy();
    f.get(e.R[ESI]).get(bytes).op(Op.i32Add).set(e.R[ESI]);
  } else {
    f.get(dst);
    e.reg(1, EAX);
    f.get(bytes).memoryFill();
  }
  f.get(e.R[EDI]).get(bytes).op(Op.i32Add).set(e.R[EDI]);
  // The instruction retires once with its member; the other elements here.
  f.get(e.n).get(ecx).op(Op.i32Add).i32(1).op(Op.i32Sub).set(e.n);
  f.i32(0).set(ecx);
  e.endIf();
}

/**
 * REPE/REPNE CMPSB and SCASB (32-bit addressing, flat segments with base 0, DF clear), as
 * strcmp/strstr/strlen use them: the bytes are compared here when the scan ends (a byte
 * that stops it, or ECX elements) inside the pages ESI and EDI are in, which the fast read
 * table maps, and within the budget, each element retired as an instruction (as Cpu counts
 * a REP). The scan changes no register until it has ended, so otherwise the region leaves
 * at the instruction and the interpreter does all of it (by its yield rule,
 * Cpu.repElementLimit, slices end where they would). ECX = 0 does nothing.
 */
function repCompareBytes(e: RegionEmitter, cmps: boolean, stopWhenEqual: boolean, seg: number): void {
  const f = e.f;
  const source = seg === NO_SEGMENT ? 3 : seg;
  if (!e.flatZero(ES) || (cmps && !e.flatZero(source))) {
    e.exitAt(e.start, e.index);
    return;
  }
  const ecx = e.R[ECX];
  const dst = e.q;
  const src = e.l;
  const i = e.t;
  const limit = e.v;
  const a = e.ta;
  const b = e.tb;
  const pageOf = (table: number, r: number, local: number): void => {
    f.get(table).get(e.R[r]).i32(12).op(Op.i32ShrU).i32(2).op(Op.i32Shl, Op.i32Add).mem(Op.i32Load).tee(local);
    f.i32(0).op(Op.i32LtS);
  };
  const bytesToPageEnd = (r: number): void => {
    f.i32(0x1000).get(e.R[r]).i32(0xfff).op(Op.i32And).op(Op.i32Sub);
  };
  const lowerLimit = (value: () => void, compare: number): void => {
    value();
    f.get(limit);
    value();
    f.get(limit).op(compare, Op.select).set(limit);
  };
  f.get(ecx);
  e.if(); // ECX = 0: nothing to do
  // limit = min(ECX, bytes to EDI's (and ESI's) page end, budget left beyond this member)
  bytesToPageEnd(EDI);
  f.set(limit);
  if (cmps) lowerLimit(() => bytesToPageEnd(ESI), Op.i32LtU);
  lowerLimit(() => f.get(ecx), Op.i32LtU);
  lowerLimit(() => f.get(e.budget).get(e.n).op(Op.i32Sub).i32(64).op(Op.i32Sub), Op.i32LtS);
  // Leave for the interpreter: DF set, no budget, a page the fast table does not map.
  f.i32(0).mem(Op.i32Load, e.state + STATE.direction);
  f.get(limit).i32(0).op(Op.i32LeS, Op.i32Or);
  pageOf(e.readTable, EDI, dst);
  f.op(Op.i32Or);
  if (cmps) {
    pageOf(e.readTable, ESI, src);
    f.op(Op.i32Or);
  }
  e.if();
  e.exitAt(e.start, e.index);
  e.endIf();
  f.get(dst).get(e.R[EDI]).i32(0xfff).op(Op.i32And, Op.i32Or).set(dst);
  if (cmps) f.get(src).get(e.R[ESI]).i32(0xfff).op(Op.i32And, Op.i32Or).set(src);
  else {
    e.reg(1, EAX);
    f.set(a);
  }
  f.i32(0).set(i);
  f.op(Op.loop, VOID);
  if (cmps) f.get(src).get(i).op(Op.i32Add).mem(Op.i32Load8U).set(a);
  f.get(dst).get(i).op(Op.i32Add).mem(Op.i32Load8U).set(b);
  f.get(i).i32(1).op(Op.i32Add).set(i);
  // REPE goes on while the bytes are equal, REPNE while they differ.
  f.get(a).get(b).op(stopWhenEqual ? Op.i32Ne : Op.i32Eq);
  f.get(i).get(limit).op(Op.i32LtU, Op.i32And).brIf(0);
  f.op(Op.end);
  // Ended: by the byte that stops it, or after ECX elements; else the interpreter does it.
  f.get(a).get(b).op(stopWhenEqual ? Op.i32Ne : Op.i32Eq);
  f.get(i).get(ecx).op(Op.i32Ne, Op.i32And);
  e.if();
  e.exitAt(e.start, e.index);
  e.endIf();
  f.get(e.R[EDI]).get(i).op(Op.i32Add).set(e.R[EDI]);
  if (cmps) f.get(e.R[ESI]).get(i).op(Op.i32Add).set(e.R[ESI]);
  f.get(ecx).get(i).op(Op.i32Sub).set(ecx);
  // The instruction retires once with its member; the other elements here.
  f.get(e.n).get(i).op(Op.i32Add).i32(1).op(Op.i32Sub).set(e.n);
  f.get(a).op(Op.i64ExtendI32U).set(e.fa);
  f.get(b).op(Op.i64ExtendI32U).set(e.fb);
  f.get(e.fa).get(e.fb).op(Op.i64Sub).set(e.fres);
  e.record(FlagOp.Sub, 1, true);
  e.endIf();
  // With ECX = 0 the flags are what they were: no record this member's code may rely on.
  e.known = undefined;
}

/**
 * One element of MOVS/CMPS/STOS/LODS/SCAS without REP (32-bit addressing): ESI/EDI step
 * by the size, backwards while DF is set (STATE.direction).
 */
function stringElement(e: RegionEmitter, opcode: number, size: OperandSize, seg: number): void {
  const f = e.f;
  const source = seg === NO_SEGMENT ? 3 : seg; // DS unless overridden; ES:EDI never is
  const step = (): void => {
    f.i32(-size).i32(size).i32(0).mem(Op.i32Load, e.state + STATE.direction).op(Op.select);
  };
  const advance = (r: number): void => {
    f.get(e.R[r]);
    step();
    f.op(Op.i32Add).set(e.R[r]);
  };
  const compare = (): void => {
    if (size !== 4) {
      f.get(e.ta).i32(sizeMask(size)).op(Op.i32And).set(e.ta);
      f.get(e.tb).i32(sizeMask(size)).op(Op.i32And).set(e.tb);
    }
    f.get(e.ta).op(Op.i64ExtendI32U).set(e.fa);
    f.get(e.tb).op(Op.i64ExtendI32U).set(e.fb);
    f.get(e.fa).get(e.fb).op(Op.i64Sub).set(e.fres);
    e.record(FlagOp.Sub, size, true);
  };
  /** local = the element at seg:index register. */
  const readAt = (index: number, seg: number, local: number): void => {
    f.get(e.R[index]).set(e.o);
    e.read(seg, size);
    f.set(local);
  };
  switch (opcode & 0xfe) {
    case 0xa4: // MOVS
      readAt(ESI, source, e.v);
      f.get(e.R[EDI]).set(e.o);
      e.write(ES, size);
      advance(ESI);
      advance(EDI);
      return;
    case 0xa6: // CMPS
      readAt(ESI, source, e.ta);
      readAt(EDI, ES, e.tb);
      compare();
      advance(ESI);
      advance(EDI);
      return;
    case 0xaa: // STOS
      f.get(e.R[EDI]).set(e.o);
      e.reg(size, EAX);
      f.set(e.v);
      e.write(ES, size);
      advance(EDI);
      return;
    case 0xac: // LODS
      f.get(e.R[ESI]).set(e.o);
      e.setReg(size, EAX, () => e.read(source, size));
      advance(ESI);
      return;
    default: // SCAS
      e.reg(size, EAX);
      f.set(e.ta);
      readAt(EDI, ES, e.tb);
      compare();
      advance(EDI);
  }
}

/** Two- and three-operand IMUL r32: CF = OF = the double product leaves the int32 range. */
function multiplySigned(e: RegionEmitter, dest: number, a: () => void, b: () => void): void {
  const f = e.f;
  a();
  f.op(Op.i64ExtendI32S);
  b();
  f.op(Op.i64ExtendI32S, Op.i64Mul).set(e.x);
  f.get(e.x).op(Op.i32WrapI64).set(e.t);
  // Overflow: the product differs from its low dword sign-extended.
  f.get(e.x).get(e.t).op(Op.i64ExtendI32S).op(Op.i64Ne).op(Op.i64ExtendI32U).tee(e.fa).set(e.fb);
  f.get(e.t).op(Op.i64ExtendI32U).set(e.fres);
  e.record(FlagOp.Shift, 4, false);
  e.setReg(4, dest, () => f.get(e.t));
}

/** SHL/SHR/SAR by a constant: ops/shift-rotate.ts's results and flags. */
function shiftByConstant(e: RegionEmitter, size: OperandSize, m: Modrm, op: number, count: number): void {
  const f = e.f;
  readRm(e, m, size);
  f.set(e.ta);
  if (count === 0) return; // read (it may fault) but change nothing, flags included
  const bits = size * 8;
  const msb = bits - 1;
  if (op === 5) {
    // SHR
    if (count >= bits) f.i32(0);
    else f.get(e.ta).i32(count).op(Op.i32ShrU);
    f.set(e.t);
    if (count > bits) f.i32(0);
    else f.get(e.ta).i32(count - 1).op(Op.i32ShrU).i32(1).op(Op.i32And);
    f.op(Op.i64ExtendI32U).set(e.fa);
    f.get(e.ta).i32(msb).op(Op.i32ShrU).i32(1).op(Op.i32And).op(Op.i64ExtendI32U).set(e.fb);
  } else if (op === 7) {
    // SAR
    f.get(e.ta);
    if (size === 1) f.op(Op.i32Extend8S);
    else if (size === 2) f.op(Op.i32Extend16S);
    f.set(e.tb);
    f.get(e.tb).i32(Math.min(count, 31)).op(Op.i32ShrS).i32(sizeMask(size)).op(Op.i32And).set(e.t);
    f.get(e.tb).i32(Math.min(count - 1, 31)).op(Op.i32ShrS).i32(1).op(Op.i32And).op(Op.i64ExtendI32U).set(e.fa);
    f.i64(0).set(e.fb);
  } else {
    // SHL (and its alias, reg 6)
    if (count >= bits) f.i32(0);
    else f.get(e.ta).i32(count).op(Op.i32Shl).i32(sizeMask(size)).op(Op.i32And);
    f.set(e.t);
    if (count > bits) f.i32(0);
    else f.get(e.ta).i32(bits - count).op(Op.i32ShrU).i32(1).op(Op.i32And);
    f.op(Op.i64ExtendI32U).set(e.fa);
    f.get(e.fa).op(Op.i32WrapI64).get(e.t).i32(msb).op(Op.i32ShrU).i32(1).op(Op.i32And).op(Op.i32Xor).op(Op.i64ExtendI32U).set(e.fb);
  }
  f.get(e.t).op(Op.i64ExtendI32U).set(e.fres);
  e.record(FlagOp.Shift, size, false);
  f.get(e.t).set(e.v);
  writeRm(e, m, size);
}

/**
 * ROL/ROR (ops/shift-rotate.ts): CF and OF from the rotated value, the other flags as
 * they were; a zero count changes nothing. `constant` is the count when known, else -1
 * (a 32-bit operand, count from `count`).
 */
function rotate(e: RegionEmitter, size: OperandSize, m: Modrm, left: boolean, count: () => void, constant: number): void {
  const f = e.f;
  readRm(e, m, size);
  f.set(e.ta);
  if (constant === 0) return;
  const bits = size * 8;
  const msb = bits - 1;
  if (constant < 0) {
    count();
    f.tee(e.tb);
    e.if();
  }
  if (size === 4) {
    f.get(e.ta);
    if (constant >= 0) f.i32(constant);
    else f.get(e.tb);
    f.op(left ? Op.i32Rotl : Op.i32Rotr).set(e.t);
  } else {
    const n = constant % bits;
    if (n === 0) f.get(e.ta);
    else if (left) f.get(e.ta).i32(n).op(Op.i32Shl).get(e.ta).i32(bits - n).op(Op.i32ShrU, Op.i32Or).i32(sizeMask(size)).op(Op.i32And);
    else f.get(e.ta).i32(n).op(Op.i32ShrU).get(e.ta).i32(bits - n).op(Op.i32Shl, Op.i32Or).i32(sizeMask(size)).op(Op.i32And);
    f.set(e.t);
  }
  const top = (): void => {
    f.get(e.t).i32(msb).op(Op.i32ShrU).i32(1).op(Op.i32And);
  };
  if (left) {
    e.rotateFlags(
      () => f.get(e.t).i32(1).op(Op.i32And),
      () => {
        top();
        f.get(e.t).i32(1).op(Op.i32And, Op.i32Xor);
      },
    );
  } else {
    e.rotateFlags(top, () => {
      top();
      f.get(e.t).i32(msb - 1).op(Op.i32ShrU).i32(1).op(Op.i32And, Op.i32Xor);
    });
  }
  f.get(e.t).set(e.v);
  writeRm(e, m, size);
  if (constant < 0) {
    e.endIf();
    e.known = undefined;
  }
}

/** SHL/SHR/SAR r/m32 by CL (1..31 after masking; 0 changes nothing, flags included). */
function shiftByCl(e: RegionEmitter, m: Modrm, op: number): void {
  const f = e.f;
  readRm(e, m, 4);
  f.set(e.ta);
  f.get(e.R[ECX]).i32(31).op(Op.i32And).tee(e.tb);
  e.if();
  if (op === 5) {
    f.get(e.ta).get(e.tb).op(Op.i32ShrU).set(e.t);
    f.get(e.ta).get(e.tb).i32(1).op(Op.i32Sub, Op.i32ShrU).i32(1).op(Op.i32And).op(Op.i64ExtendI32U).set(e.fa);
    f.get(e.ta).i32(31).op(Op.i32ShrU).op(Op.i64ExtendI32U).set(e.fb);
  } else if (op === 7) {
    f.get(e.ta).get(e.tb).op(Op.i32ShrS).set(e.t);
    f.get(e.ta).get(e.tb).i32(1).op(Op.i32Sub, Op.i32ShrS).i32(1).op(Op.i32And).op(Op.i64ExtendI32U).set(e.fa);
    f.i64(0).set(e.fb);
  } else {
    f.get(e.ta).get(e.tb).op(Op.i32Shl).set(e.t);
    f.get(e.ta).i32(32).get(e.tb).op(Op.i32Sub, Op.i32ShrU).i32(1).op(Op.i32And).op(Op.i64ExtendI32U).set(e.fa);
    f.get(e.fa).op(Op.i32WrapI64).get(e.t).i32(31).op(Op.i32ShrU).op(Op.i32Xor).op(Op.i64ExtendI32U).set(e.fb);
  }
  f.get(e.t).op(Op.i64ExtendI32U).set(e.fres);
  // The record is made at run time only when the count is not zero.
  const known = e.known;
  e.record(FlagOp.Shift, 4, false);
  f.get(e.t).set(e.v);
  writeRm(e, m, 4);
  e.endIf();
  // After the if the record is either this shift's or the one before: not known statically.
  e.known = known?.op === FlagOp.Shift && known.size === 4 ? known : undefined;
}

/** F6/F7: TEST imm, NOT, NEG, MUL r/m32, DIV/IDIV r/m32. */
function group3(e: RegionEmitter, quirks: CpuQuirks, size: OperandSize, m: Modrm, bytes: CodeBytes): Plan | undefined {
  const f = e.f;
  switch (m.reg) {
    case 0: {
      const imm = bytes.immediate(size);
      return () => {
        alu(e, AND, size, () => readRm(e, m, size), () => f.i32(imm));
        return false;
      };
    }
    case 2:
      return () => {
        readRm(e, m, size);
        f.i32(-1).op(Op.i32Xor).set(e.v);
        writeRm(e, m, size);
        return false;
      };
    case 3:
      return () => {
        alu(e, 5 /* SUB */, size, () => f.i32(0), () => readRm(e, m, size));
        // NEG is 0 - x: a SUB with a = 0, but not "plain" (its o may be read again below)
        f.get(e.t).set(e.v);
        writeRm(e, m, size);
        return false;
      };
    case 4:
      if (size !== 4) return undefined;
      return () => {
        readRm(e, m, 4);
        f.op(Op.i64ExtendI32U).get(e.R[EAX]).op(Op.i64ExtendI32U).op(Op.i64Mul).set(e.x);
        f.get(e.x).op(Op.i32WrapI64).set(e.R[EAX]);
        f.get(e.x).i64(32).op(Op.i64ShrU).op(Op.i32WrapI64).set(e.R[EDX]);
        f.get(e.R[EDX]).i32(0).op(Op.i32Ne).op(Op.i64ExtendI32U).tee(e.fa).set(e.fb);
        f.get(e.R[EAX]).op(Op.i64ExtendI32U).set(e.fres);
        e.record(FlagOp.Shift, 4, false);
        return false;
      };
    case 6:
    case 7:
      if (size !== 4 || quirks.idivRejectsMostNegative || quirks.repNegatesQuotient) return undefined;
      return () => {
        divide64(e, m, m.reg === 7);
        return false;
      };
    default:
      return undefined;
  }
}

/**
 * DIV/IDIV r/m32: EDX:EAX divided by the operand, quotient to EAX, remainder to EDX, flags
 * untouched (as ops/multiply-divide.ts leaves them). Whatever raises #DE (a zero divisor, a
 * quotient that does not fit: for DIV exactly when EDX >= divisor) leaves the region at the
 * instruction for the interpreter to raise it; so does IDIV by -1 (i64.div_s would trap on
 * the most negative dividend). Linux's mpihelp_divrem divides this way in its inner loop.
 */
function divide64(e: RegionEmitter, m: Modrm, signed: boolean): void {
  const f = e.f;
  const divisor = e.ta;
  readRm(e, m, 4);
  f.set(divisor);
  f.get(e.R[EDX]).op(Op.i64ExtendI32U).i64(32).op(Op.i64Shl).get(e.R[EAX]).op(Op.i64ExtendI32U).op(Op.i64Or).set(e.x);
  f.get(divisor).op(Op.i32Eqz);
  if (signed) f.get(divisor).i32(-1).op(Op.i32Eq, Op.i32Or);
  else f.get(e.R[EDX]).get(divisor).op(Op.i32GeU, Op.i32Or);
  e.if();
  e.exitAt(e.start, e.index);
  e.endIf();
  const extend = signed ? Op.i64ExtendI32S : Op.i64ExtendI32U;
  f.get(e.x).get(divisor).op(extend, signed ? Op.i64RemS : Op.i64RemU, Op.i32WrapI64).set(e.t);
  f.get(e.x).get(divisor).op(extend, signed ? Op.i64DivS : Op.i64DivU).set(e.x);
  if (signed) {
    // The quotient must lie in [-2^31, 2^31).
    f.get(e.x).i64(0x80000000).op(Op.i64Add).i64(0xffffffff).op(Op.i64GtU);
    e.if();
    e.exitAt(e.start, e.index);
    e.endIf();
  }
  f.get(e.x).op(Op.i32WrapI64).set(e.R[EAX]);
  f.get(e.t).set(e.R[EDX]);
}

/** FE/FF: INC, DEC, CALL near, JMP near, PUSH r/m. */
function group5(e: RegionEmitter, quirks: CpuQuirks, size: OperandSize, opcode: number, opSize: OperandSize, m: Modrm): Plan | undefined {
  const f = e.f;
  if (m.reg <= 1) {
    return () => {
      incDec(e, size, m, m.reg === 1);
      return false;
    };
  }
  if (opcode === 0xfe) return undefined;
  switch (m.reg) {
    case 2:
      if (opSize !== 4) return undefined;
      return () => {
        readRm(e, m, 4);
        f.set(e.ta);
        push(e, 4, () => f.get(e.pageEip).i32(e.end).op(Op.i32Add));
        e.exit(() => f.get(e.ta), e.index + 1);
        return true;
      };
    case 4:
      if (opSize !== 4) return undefined;
      return () => {
        readRm(e, m, 4);
        f.set(e.ta);
        e.exit(() => f.get(e.ta), e.index + 1);
        return true;
      };
    case 6:
      if (m.mem === undefined && m.rm === ESP && quirks.pushSpAfterDecrement) return undefined;
      return () => {
        readRm(e, m, opSize);
        f.set(e.ta);
        push(e, opSize, () => f.get(e.ta));
        return false;
      };
    default:
      return undefined;
  }
}

/** The 0F map: Jcc near, SETcc, CMOVcc, MOVZX/MOVSX, IMUL r, r/m. */
function twoByte(e: RegionEmitter, opcode: number, opSize: OperandSize, bytes: CodeBytes, modrm: () => Modrm): Plan | undefined {
  const f = e.f;
  if (opcode >= 0x80 && opcode <= 0x8f) {
    if (opSize !== 4) return undefined;
    const displacement = bytes.next32() | 0;
    return (memberAt) => branch(e, memberAt, opcode & 0xf, displacement);
  }
  if (opcode >= 0x90 && opcode <= 0x9f) {
    const m = modrm();
    return () => {
      if (m.mem !== undefined) m.mem.address();
      e.condition(opcode & 0xf);
      f.set(e.v);
      writeRm(e, m, 1);
      return false;
    };
  }
  if (opcode >= 0x40 && opcode <= 0x4f) {
    const m = modrm();
    return () => {
      // The source is read (and may fault) whether or not the condition holds.
      readRm(e, m, opSize);
      f.set(e.v);
      e.condition(opcode & 0xf);
      e.if();
      e.setReg(opSize, m.reg, () => f.get(e.v));
      e.endIf();
      return false;
    };
  }
  if (opcode === 0xb6 || opcode === 0xb7 || opcode === 0xbe || opcode === 0xbf) {
    const m = modrm();
    const from: OperandSize = (opcode & 1) === 0 ? 1 : 2;
    const signed = opcode >= 0xbe;
    return () => {
      e.setReg(opSize, m.reg, () => {
        readRm(e, m, from);
        if (signed) f.op(from === 1 ? Op.i32Extend8S : Op.i32Extend16S);
      });
      return false;
    };
  }
  if (opcode === 0xb0 || opcode === 0xb1) {
    // CMPXCHG r/m, reg: flags of CMP accumulator, r/m; equal: r/m = reg, else the
    // accumulator takes r/m, which is written back unchanged (instructions/two-byte/atomic.ts).
    const size: OperandSize = opcode === 0xb0 ? 1 : opSize;
    const m = modrm();
    return () => {
      alu(e, CMP, size, () => e.reg(size, EAX), () => readRm(e, m, size));
      e.reg(size, m.reg);
      f.get(e.tb).get(e.ta).get(e.tb).op(Op.i32Eq, Op.select).set(e.v);
      writeRm(e, m, size);
      f.get(e.ta).get(e.tb).op(Op.i32Ne);
      e.if();
      e.setReg(size, EAX, () => f.get(e.tb));
      e.endIf();
      return false;
    };
  }
  if (opcode === 0xc0 || opcode === 0xc1) {
    // XADD r/m, reg: reg = old r/m, r/m = the sum, flags as ADD.
    const size: OperandSize = opcode === 0xc0 ? 1 : opSize;
    const m = modrm();
    return () => {
      alu(e, ADD, size, () => readRm(e, m, size), () => e.reg(size, m.reg));
      e.setReg(size, m.reg, () => f.get(e.ta));
      f.get(e.t).set(e.v);
      writeRm(e, m, size);
      return false;
    };
  }
  if (opcode >= 0xc8 && opcode <= 0xcf && opSize === 4) {
    const r = opcode & 7;
    return () => {
      // BSWAP: bytes 0/2 from rotating right by 8, bytes 1/3 from rotating left by 8.
      f.get(e.R[r]).i32(8).op(Op.i32Rotr).i32(0xff00ff00).op(Op.i32And);
      f.get(e.R[r]).i32(8).op(Op.i32Rotl).i32(0x00ff00ff).op(Op.i32And, Op.i32Or).set(e.R[r]);
      return false;
    };
  }
  if (opcode === 0x31) {
    return () => {
      // RDTSC: the counter at the region's entry (WasmJit.run puts it in tscEntry when
      // it is plain: no TSC offset, RDTSC allowed) plus the instructions retired since;
      // else JavaScript reads it (it may fault: CR4.TSD) into EAX:EDX.
      f.i32(0).mem(Op.f64Load, e.state + STATE.tscEntry).op(Op.i64TruncF64S).tee(e.x).i64(0).op(Op.i64LtS);
      e.if();
      e.spill();
      f.call(Fn.readTimeStamp);
      e.reloadRegisters(EAX, EDX);
      e.else();
      f.get(e.x).i32(0).mem(Op.i32Load, e.state + STATE.chainRetired).get(e.n).op(Op.i32Add).i32(e.index).op(Op.i32Add, Op.i64ExtendI32U, Op.i64Add).tee(e.x);
      f.op(Op.i32WrapI64).set(e.R[EAX]);
      f.get(e.x).i64(32).op(Op.i64ShrU, Op.i32WrapI64).set(e.R[EDX]);
      e.endIf();
      return false;
    };
  }
  if (opcode === 0xaf && opSize === 4) {
    const m = modrm();
    return () => {
      multiplySigned(e, m.reg, () => e.reg(4, m.reg), () => readRm(e, m, 4));
      return false;
    };
  }
  if (opcode === 0xba && opSize === 4) {
    // BT/BTS/BTR/BTC r/m32, imm8 (0F BA /4-7): the bit within the operand itself.
    const m = modrm();
    if (m.reg < 4) return undefined;
    const bit = bytes.next8() & 31;
    return () => {
      bitTest(e, m, m.reg - 4, () => f.i32(bit));
      return false;
    };
  }
  if ((opcode === 0xa3 || opcode === 0xab || opcode === 0xb3 || opcode === 0xbb) && opSize === 4) {
    // BT/BTS/BTR/BTC r32, r32; a memory operand with a register offset may reach other dwords: interpreted.
    const m = modrm();
    if (m.mem !== undefined) return undefined;
    return () => {
      bitTest(e, m, (opcode >>> 3) & 3, () => f.get(e.R[m.reg]).i32(31).op(Op.i32And));
      return false;
    };
  }
  if ((opcode === 0xa4 || opcode === 0xa5 || opcode === 0xac || opcode === 0xad) && opSize === 4) {
    const m = modrm();
    const count = (opcode & 1) === 0 ? bytes.next8() & 31 : -1;
    return () => {
      doubleShift(e, m, opcode < 0xac, count);
      return false;
    };
  }
  return undefined;
}

/**
 * BT (action 0), BTS (1), BTR (2), BTC (3) on bit `bit()` (0-31) of r/m32: CF gets the bit
 * (bit-operations.ts changeBit), the other flags stay; busybox's shell tests bits of its
 * state on the stack this way (BT [esp+n], imm8) ~4 times per loop iteration of `sh`.
 */
function bitTest(e: RegionEmitter, m: Modrm, action: number, bit: () => void): void {
  const f = e.f;
  bit();
  f.set(e.tb);
  readRm(e, m, 4);
  f.set(e.ta);
  e.carryOnly(() => f.get(e.ta).get(e.tb).op(Op.i32ShrU).i32(1).op(Op.i32And));
  if (action === 0) return;
  f.get(e.ta).i32(1).get(e.tb).op(Op.i32Shl);
  if (action === 1) f.op(Op.i32Or);
  else if (action === 2) f.i32(-1).op(Op.i32Xor, Op.i32And);
  else f.op(Op.i32Xor);
  f.set(e.v);
  writeRm(e, m, 4);
}

/**
 * SHLD/SHRD r/m32, r32 by imm8 or CL (masked to 5 bits; 0 changes nothing, flags included),
 * as bit-operations.ts doubleShiftValue: CF the last bit shifted out, OF the sign change,
 * ZF/SF/PF from the result, AF clear (a shift record). 64-bit arithmetic in
 * busybox's shell ($((i+1))) and Linux runs them constantly.
 */
function doubleShift(e: RegionEmitter, m: Modrm, left: boolean, constant: number): void {
  const f = e.f;
  if (constant === 0) return;
  readRm(e, m, 4);
  f.set(e.ta);
  e.reg(4, m.reg);
  f.set(e.tb);
  const count = (): void => {
    if (constant > 0) f.i32(constant);
    else f.get(e.q);
  };
  if (constant < 0) {
    // The record changes only when the count is not zero.
    f.get(e.R[ECX]).i32(31).op(Op.i32And).tee(e.q);
    e.if();
  }
  // result = SHLD: dest << c | fill >>> (32 - c); SHRD: dest >>> c | fill << (32 - c)
  f.get(e.ta);
  count();
  f.op(left ? Op.i32Shl : Op.i32ShrU);
  f.get(e.tb).i32(32);
  count();
  f.op(Op.i32Sub, left ? Op.i32ShrU : Op.i32Shl, Op.i32Or).set(e.t);
  // CF: SHLD bit 32 - c of dest, SHRD bit c - 1
  f.get(e.ta);
  if (left) {
    f.i32(32);
    count();
    f.op(Op.i32Sub);
  } else {
    count();
    f.i32(1).op(Op.i32Sub);
  }
  f.op(Op.i32ShrU).i32(1).op(Op.i32And, Op.i64ExtendI32U).set(e.fa);
  f.get(e.t).get(e.ta).op(Op.i32Xor).i32(31).op(Op.i32ShrU, Op.i64ExtendI32U).set(e.fb);
  f.get(e.t).op(Op.i64ExtendI32U).set(e.fres);
  const known = e.known;
  e.record(FlagOp.Shift, 4, false);
  f.get(e.t).set(e.v);
  writeRm(e, m, 4);
  if (constant < 0) {
    e.endIf();
    // After the if the record is either this one or the one before: not known statically.
    e.known = known?.op === FlagOp.Shift && known.size === 4 ? known : undefined;
  }
}
