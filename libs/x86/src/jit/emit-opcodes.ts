import { FlagOp } from '../lazy-flags.js';
import type { CpuQuirks } from '../cpu-model.js';
import { EAX, EBP, ECX, EDX, ESP, NO_SEGMENT, type OperandSize } from '../registers.js';
import type { InstructionSource } from './block-source.js';
import { aluSource, aluToRm, incDecSource } from './emit-alu.js';
import { emitTwoByte } from './emit-two-byte.js';
import { InstructionEmitter, type BlockContext } from './instruction-emitter.js';
import { CodeBytes, SEGMENT_PREFIXES } from '../decoded/code-bytes.js';
import { decodeModrmSource, type ModrmSource } from './operand-source.js';

const mask = (size: OperandSize): number => (size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff);
const signExtendSource = (value: string, from: OperandSize): string => (from === 1 ? `((${value} << 24) >> 24)` : `((${value} << 16) >> 16)`);

/**
 * The instruction at RAM offset `physical` as JavaScript source, or undefined
 * when the JIT does not compile it (the block then uses the pre-decoded
 * closure, or ends before it). `offset` is its distance from the block entry.
 */
export function emitInstruction(ctx: BlockContext, quirks: CpuQuirks, j: number, ram: Uint8Array, physical: number, offset: number): InstructionSource | undefined {
  const bytes = new CodeBytes(ram, physical, (physical | 0xfff) + 1);
  let opSize: OperandSize = ctx.codeSize;
  let addrSize: OperandSize = ctx.codeSize;
  let seg = NO_SEGMENT;
  let rep = 0;
  let opcode = bytes.next8();
  for (;;) {
    if (opcode === 0x66) opSize = ctx.codeSize === 2 ? 4 : 2;
    else if (opcode === 0x67) addrSize = ctx.codeSize === 2 ? 4 : 2;
    else if (SEGMENT_PREFIXES[opcode] !== undefined) seg = SEGMENT_PREFIXES[opcode];
    else if (opcode === 0xf2 || opcode === 0xf3) rep = opcode;
    else if (opcode !== 0xf0) break; // LOCK changes nothing with one CPU
    opcode = bytes.next8();
  }
  // REP forms stay with the interpreter (it runs the whole loop); F3 90 is PAUSE, a NOP here.
  if (rep !== 0 && opcode !== 0x90) return undefined;
  if (!quirks.has32Bit || quirks.opcodeAliases8086) return undefined; // the JIT serves 386+ models
  // The final length is only known after decoding; `end` is fixed up below.
  const x = new InstructionEmitter(ctx, j, opSize, addrSize);
  const ok = emitOpcode(x, quirks, opcode, bytes, seg, physical, offset);
  if (!ok || bytes.overrun) return undefined;
  const length = bytes.position - physical;
  return finishWithEnd(x, offset + length, length);
}

/** Bodies refer to the instruction's end as `e + END`; patch in the real number. */
function finishWithEnd(x: InstructionEmitter, end: number, length: number): InstructionSource {
  const source = x.finish(length);
  return { ...source, body: source.body.replaceAll('$END', String(end)) };
}

function emitOpcode(x: InstructionEmitter, quirks: CpuQuirks, opcode: number, bytes: CodeBytes, seg: number, physical: number, offset: number): boolean {
  // Until the length is known, EIP-relative expressions use the $END placeholder.
  const next = '(e + $END)';
  const size: OperandSize = (opcode & 1) !== 0 ? x.opSize : 1;
  const modrm = (): ModrmSource => decodeModrmSource(bytes, x.addrSize, seg);
  const relative = (displacement: number): string => (x.opSize === 2 ? `((e + $END + ${displacement}) & 0xffff)` : `((e + $END + ${displacement}) >>> 0)`);

  if (opcode < 0x40 && (opcode & 7) <= 5) {
    const op = (opcode >>> 3) & 7;
    if ((opcode & 7) >= 4) {
      const imm = bytes.immediate(size);
      aluSource(x, op, size, x.reg(size, EAX), String(imm));
      if (op !== 7) x.setReg(size, EAX, x.s);
      return true;
    }
    const m = modrm();
    if ((opcode & 2) === 0) aluToRm(x, op, size, m, x.reg(size, m.reg));
    else {
      const src = x.readRm(m, size);
      aluSource(x, op, size, x.reg(size, m.reg), src);
      if (op !== 7) x.setReg(size, m.reg, x.s);
    }
    return true;
  }
  if (opcode >= 0x40 && opcode <= 0x4f) {
    incDecSource(x, x.opSize, { reg: 0, rm: opcode & 7, mem: undefined }, opcode >= 0x48);
    return true;
  }
  if (opcode >= 0x50 && opcode <= 0x57) {
    if ((opcode & 7) === ESP) {
      x.emit(`t = ${x.reg(x.opSize, ESP)};`);
      x.push(x.opSize, 't');
    } else x.push(x.opSize, x.reg(x.opSize, opcode & 7));
    return true;
  }
  if (opcode >= 0x58 && opcode <= 0x5f) {
    x.pop(x.opSize);
    x.setReg(x.opSize, opcode & 7, 'v');
    return true;
  }
  if (opcode === 0x68 || opcode === 0x6a) {
    const value = opcode === 0x6a ? bytes.displacement8() & mask(x.opSize) : bytes.immediate(x.opSize);
    x.push(x.opSize, String(value >>> 0));
    return true;
  }
  if (opcode === 0x69 || opcode === 0x6b) {
    const m = modrm();
    const src = x.readRm(m, x.opSize);
    const imm = opcode === 0x6b ? bytes.displacement8() & mask(x.opSize) : bytes.immediate(x.opSize);
    if (x.opSize === 4) {
      x.multiplySigned32(m.reg, src, String(imm >>> 0));
      return true;
    }
    x.setReg(x.opSize, m.reg, `MS(cpu, ${src}, ${imm >>> 0}, ${x.opSize})`);
    x.helperSetsFlags();
    return true;
  }
  if (opcode >= 0x70 && opcode <= 0x7f) {
    x.condition = opcode & 0xf;
    x.branch('$COND', bytes.displacement8());
    return true;
  }
  if (opcode >= 0x80 && opcode <= 0x83) {
    const s: OperandSize = opcode === 0x80 || opcode === 0x82 ? 1 : x.opSize;
    const m = modrm();
    const imm = opcode === 0x83 ? (bytes.displacement8() & mask(s)) >>> 0 : bytes.immediate(s);
    aluToRm(x, m.reg, s, m, String(imm));
    return true;
  }
  if (opcode === 0x84 || opcode === 0x85) {
    const m = modrm();
    const value = x.readRm(m, size);
    aluSource(x, 4 /* AND */, size, value, x.reg(size, m.reg));
    return true;
  }
  if (opcode === 0x86 || opcode === 0x87) {
    const m = modrm();
    const value = x.readRm(m, size);
    x.emit(`t = ${value};`);
    x.writeRm(m, size, x.reg(size, m.reg));
    x.setReg(size, m.reg, 't');
    return true;
  }
  if (opcode >= 0x88 && opcode <= 0x8b) {
    const m = modrm();
    if ((opcode & 2) === 0) {
      if (m.mem !== undefined) x.at(m.mem);
      x.writeRm(m, size, x.reg(size, m.reg));
    } else {
      x.setReg(size, m.reg, x.readRm(m, size));
    }
    return true;
  }
  if (opcode === 0x8d) {
    const m = modrm();
    if (m.mem === undefined) return false;
    x.setReg(x.opSize, m.reg, m.mem.offset);
    return true;
  }
  if (opcode === 0x90) return true;
  if (opcode >= 0x91 && opcode <= 0x97) {
    const r = opcode & 7;
    x.emit(`t = ${x.reg(x.opSize, r)};`);
    x.setReg(x.opSize, r, x.reg(x.opSize, EAX));
    x.setReg(x.opSize, EAX, 't');
    return true;
  }
  if (opcode === 0x98) {
    if (x.opSize === 4) x.setReg(4, EAX, signExtendSource(x.reg(2, EAX), 2));
    else x.setReg(2, EAX, signExtendSource(x.reg(1, EAX), 1));
    return true;
  }
  if (opcode === 0x99) {
    if (x.opSize === 4) x.setReg(4, EDX, `${x.reg(4, EAX)} >> 31`);
    else x.setReg(2, EDX, `(${x.reg(2, EAX)} << 16) >> 31`);
    return true;
  }
  if (opcode >= 0xa0 && opcode <= 0xa3) {
    const address = bytes.immediate(x.addrSize);
    const s = seg === NO_SEGMENT ? 3 : seg;
    x.emit(`o = ${address};`);
    if (opcode <= 0xa1) x.setReg(size, EAX, x.read(s, size));
    else x.write(s, size, x.reg(size, EAX));
    return true;
  }
  if (opcode >= 0xa4 && opcode <= 0xaf && opcode !== 0xa8 && opcode !== 0xa9) {
    emitStringElement(x, opcode, size, seg);
    return true;
  }
  if (opcode === 0xa8 || opcode === 0xa9) {
    aluSource(x, 4, size, x.reg(size, EAX), String(bytes.immediate(size)));
    return true;
  }
  if (opcode >= 0xb0 && opcode <= 0xbf) {
    const s: OperandSize = opcode < 0xb8 ? 1 : x.opSize;
    x.setReg(s, opcode & 7, String(bytes.immediate(s)));
    return true;
  }
  if (opcode === 0xc0 || opcode === 0xc1 || (opcode >= 0xd0 && opcode <= 0xd3)) {
    const m = modrm();
    const constant = opcode < 0xd0 ? bytes.next8() & 31 : opcode < 0xd2 ? 1 : -1;
    if (constant >= 0 && m.reg >= 4) {
      shiftByConstant(x, size, m, m.reg, constant);
      return true;
    }
    const count = constant >= 0 ? String(constant) : `(${x.reg(1, ECX)} & 31)`;
    const value = x.readRm(m, size);
    x.emit(`t = ${value};`);
    x.emit(`v = ${count};`);
    x.emit('if (v !== 0) {');
    x.writeRm(m, size, `SR(f, ${m.reg}, t, v, ${size}, false)`);
    x.emit('}');
    x.opaqueFlags();
    return true;
  }
  if (opcode === 0xc2 || opcode === 0xc3) {
    const release = opcode === 0xc2 ? bytes.next16() : 0;
    x.pop(x.opSize, release);
    x.emit('cpu.eip = v;');
    x.transfers = true;
    return true;
  }
  if (opcode === 0xc6 || opcode === 0xc7) {
    const m = modrm();
    if (m.reg !== 0) return false;
    if (m.mem !== undefined) x.at(m.mem);
    x.writeRm(m, size, String(bytes.immediate(size)));
    return true;
  }
  if (opcode === 0xc9) {
    const stack = (x.ctx.mode & (1 << 16)) !== 0 ? 4 : 2;
    x.setReg(stack, ESP, x.reg(stack, EBP));
    x.pop(x.opSize);
    x.setReg(x.opSize, EBP, 'v');
    return true;
  }
  if (opcode >= 0xe0 && opcode <= 0xe3) {
    const displacement = bytes.displacement8();
    const counter = x.reg(x.addrSize, ECX);
    if (opcode === 0xe3) {
      x.branch(`${counter} === 0`, displacement);
    } else {
      x.setReg(x.addrSize, ECX, `${counter} - 1`);
      if (opcode === 0xe2) x.branch(`${counter} !== 0`, displacement);
      else {
        x.condition = opcode === 0xe1 ? 4 : 5; // LOOPE: ZF set, LOOPNE: ZF clear
        x.branch(`(${counter} !== 0 && $COND)`, displacement);
      }
    }
    return true;
  }
  if (opcode === 0xe8) {
    const displacement = x.opSize === 2 ? (bytes.next16() << 16) >> 16 : bytes.next32() | 0;
    x.push(x.opSize, next);
    x.emit(`cpu.eip = ${relative(displacement)};`);
    x.transfers = true;
    return true;
  }
  if (opcode === 0xe9 || opcode === 0xeb) {
    const displacement = opcode === 0xeb ? bytes.displacement8() : x.opSize === 2 ? (bytes.next16() << 16) >> 16 : bytes.next32() | 0;
    x.branch('true', displacement);
    return true;
  }
  if (opcode === 0xf6 || opcode === 0xf7) return group3(x, size, modrm(), bytes);
  if (opcode === 0xfe || opcode === 0xff) return group5(x, quirks, size, opcode, modrm(), next);
  if (opcode === 0x0f) return emitTwoByte(x, quirks, bytes.next8(), bytes, modrm);
  return false;
}

/**
 * SHL/SHR/SAR by a constant count, inline, with the results of ops/shift-rotate.ts:
 * CF the last bit shifted out, OF as that file defines it, SF/ZF/PF from the result.
 */
function shiftByConstant(x: InstructionEmitter, size: OperandSize, m: ModrmSource, op: number, count: number): void {
  const value = x.readRm(m, size);
  if (count === 0) {
    x.emit(`t = ${value};`); // read (it may fault) but change nothing, flags included
    return;
  }
  const bits = size * 8;
  const msb = bits - 1;
  const maskValue = mask(size);
  x.emit(`t = ${value};`);
  const [A, B, S] = [x.a, x.b, x.s];
  if (op === 5) {
    x.emit(`${S} = ${count >= bits ? '0' : `t >>> ${count}`};`);
    x.emit(`${A} = ${count > bits ? '0' : `(t >>> ${count - 1}) & 1`};`);
    x.emit(`${B} = (t >>> ${msb}) & 1;`);
  } else if (op === 7) {
    const signed = size === 4 ? 't | 0' : `(t << ${32 - bits}) >> ${32 - bits}`;
    x.emit(`v = ${signed};`);
    x.emit(`${S} = (v >> ${Math.min(count, 31)}) & ${maskValue};`);
    x.emit(`${A} = (v >> ${Math.min(count - 1, 31)}) & 1;`);
    x.emit(`${B} = 0;`);
  } else {
    x.emit(`${S} = ${count >= bits ? '0' : `(t << ${count}) & ${maskValue}`};`);
    x.emit(`${A} = ${count > bits ? '0' : `(t >>> ${bits - count}) & 1`};`);
    x.emit(`${B} = ${A} ^ ((${S} >>> ${msb}) & 1);`);
  }
  x.writeRm(m, size, S);
  x.flagsFrom(FlagOp.Shift, size);
}

/**
 * One element of MOVS/CMPS/STOS/LODS/SCAS (no REP): the index registers step by the
 * operand size, backwards when DF is set (DF is never lazy: it lives in flags.stored).
 */
function emitStringElement(x: InstructionEmitter, opcode: number, size: OperandSize, seg: number): void {
  const source = seg === NO_SEGMENT ? 3 : seg; // DS unless overridden; ES:EDI never is
  const si = x.reg(x.addrSize, 6);
  const di = x.reg(x.addrSize, 7);
  const step = `((f.stored & 0x400) !== 0 ? ${-size} : ${size})`;
  const stepBoth = (): void => {
    x.emit(`t = ${step};`);
    x.setReg(x.addrSize, 6, `${si} + t`);
    x.setReg(x.addrSize, 7, `${di} + t`);
  };
  switch (opcode & 0xfe) {
    case 0xa4: // MOVS
      x.emit(`o = ${si};`);
      x.emit(`v = ${x.read(source, size)};`);
      x.emit(`o = ${di};`);
      x.write(0, size, 'v');
      stepBoth();
      return;
    case 0xa6: // CMPS
      x.emit(`o = ${si};`);
      x.emit(`${x.a} = ${x.read(source, size)};`);
      x.emit(`o = ${di};`);
      x.emit(`${x.b} = ${x.read(0, size)};`);
      x.emit(`${x.s} = ${x.a} - ${x.b};`);
      x.flagsFrom(FlagOp.Sub, size);
      stepBoth();
      return;
    case 0xaa: // STOS
      x.emit(`o = ${di};`);
      x.write(0, size, x.reg(size, EAX));
      x.setReg(x.addrSize, 7, `${di} + ${step}`);
      return;
    case 0xac: // LODS
      x.emit(`o = ${si};`);
      x.setReg(size, EAX, x.read(source, size));
      x.setReg(x.addrSize, 6, `${si} + ${step}`);
      return;
    default: // SCAS
      x.emit(`o = ${di};`);
      x.emit(`${x.a} = ${x.reg(size, EAX)};`);
      x.emit(`${x.b} = ${x.read(0, size)};`);
      x.emit(`${x.s} = ${x.a} - ${x.b};`);
      x.flagsFrom(FlagOp.Sub, size);
      x.setReg(x.addrSize, 7, `${di} + ${step}`);
  }
}

/**
 * MUL r/m32: EDX:EAX = EAX * src from four 16x16-bit partial products, all exact in
 * integer arithmetic. Flags as ops/multiply-divide.ts: CF = OF = (EDX != 0), SF/ZF/PF
 * from EAX, AF clear (a lazy Shift-style record).
 */
function multiply32(x: InstructionEmitter, src: string): void {
  x.emit(`t = ${src};`);
  x.emit(`v = ${x.reg(4, EAX)};`);
  x.emit('m0 = (v & 0xffff) * (t & 0xffff);');
  x.emit('m1 = (v & 0xffff) * (t >>> 16);');
  x.emit('m2 = (v >>> 16) * (t & 0xffff);');
  x.emit('m3 = (m0 >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);');
  x.setReg(4, EDX, '(v >>> 16) * (t >>> 16) + (m1 >>> 16) + (m2 >>> 16) + (m3 >>> 16)');
  x.setReg(4, EAX, '(m3 << 16) | (m0 & 0xffff)');
  x.emit(`${x.s} = ${x.reg(4, EAX)};`);
  x.emit(`${x.a} = ${x.reg(4, EDX)} !== 0 ? 1 : 0;`);
  x.emit(`${x.b} = ${x.a};`);
  x.flagsFrom(FlagOp.Shift, 4);
}

/** F6/F7: TEST imm, NOT, NEG, MUL, IMUL, DIV, IDIV. */
function group3(x: InstructionEmitter, size: OperandSize, m: ModrmSource, bytes: CodeBytes): boolean {
  switch (m.reg) {
    case 0: {
      const value = x.readRm(m, size);
      aluSource(x, 4, size, value, String(bytes.immediate(size)));
      return true;
    }
    case 2:
      x.writeRm(m, size, `~${x.readRm(m, size)}`);
      return true;
    case 3: {
      const value = x.readRm(m, size);
      x.emit(`${x.a} = 0;`);
      x.emit(`${x.b} = ${value};`);
      x.emit(`${x.s} = 0 - ${x.b};`);
      x.flagsFrom(FlagOp.Sub, size);
      x.writeRm(m, size, x.s);
      return true;
    }
    case 4:
      if (size === 4) {
        multiply32(x, x.readRm(m, 4));
        return true;
      }
      x.callWithRegisters(`MA(cpu, ${x.readRm(m, size)}, ${size}, false);`);
      x.helperSetsFlags();
      return true;
    case 5:
      x.callWithRegisters(`MA(cpu, ${x.readRm(m, size)}, ${size}, true);`);
      x.helperSetsFlags();
      return true;
    case 6:
    case 7:
      // DIV/IDIV leave the flags as they were (they are undefined on real CPUs).
      x.callWithRegisters(`DA(cpu, ${x.readRm(m, size)}, ${size}, ${m.reg === 7});`);
      x.mayFault = true;
      return true;
    default:
      return false;
  }
}

/** FE/FF: INC, DEC, CALL near, JMP near, PUSH on r/m (far forms stay with the interpreter). */
function group5(x: InstructionEmitter, quirks: CpuQuirks, size: OperandSize, opcode: number, m: ModrmSource, next: string): boolean {
  if (m.reg <= 1) {
    incDecSource(x, size, m, m.reg === 1);
    return true;
  }
  if (opcode === 0xfe) return false;
  switch (m.reg) {
    case 2:
      x.emit(`t = ${x.readRm(m, x.opSize)};`);
      x.push(x.opSize, next);
      x.emit('cpu.eip = t;');
      x.transfers = true;
      return true;
    case 4:
      x.emit(`cpu.eip = ${x.readRm(m, x.opSize)};`);
      x.transfers = true;
      return true;
    case 6:
      if (m.mem === undefined && m.rm === ESP && quirks.pushSpAfterDecrement) return false;
      x.emit(`t = ${x.readRm(m, x.opSize)};`);
      x.push(x.opSize, 't');
      return true;
    default:
      return false;
  }
}

