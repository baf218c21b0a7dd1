import { ARITH_FLAGS } from '../flag-bits.js';
import { FlagOp } from '../lazy-flags.js';
import { ESP, SS, type OperandSize } from '../registers.js';
import type { FlagSource, InstructionSource, RelativeBranch } from './block-source.js';
import { registerSource, registerWrite, type MemorySource, type ModrmSource } from './operand-source.js';

/** Placeholders the block compiler replaces: write the register locals back to the CPU, and load them again. */
export const FLUSH_REGISTERS = '$FLUSH;';
export const RELOAD_REGISTERS = '$RELOAD;';

/**
 * Segment facts a block is compiled under (Cpu.jitMode): per segment register
 * whether it is flat (no checks, 4 GiB limit) and whether its base is 0, and
 * the stack width. The block checks the mode on entry, so flat accesses need
 * no limit checks in the generated code.
 */
export const MODE_FLAT = 0;
export const MODE_BASE_ZERO = 8;
export const MODE_STACK32 = 1 << 16;

/** Everything an instruction's source depends on besides its own bytes. */
export interface BlockContext {
  mode: number;
  codeSize: OperandSize;
  /** Segments whose base/limit/check locals the block needs. */
  usedSegments: Set<number>;
}

/**
 * Builds the JavaScript of one instruction. The block function provides the
 * locals this emits: R0..R7 (registers), f (flags), M (linear memory), cpu,
 * e (EIP at block entry), o (current memory offset), q (the RAM page of an
 * inline access), t/v (scratch), DV/RAM/FR/FW/CM (LinearMemory's view, RAM, fast
 * tables and code marks), and per
 * instruction a<j>/b<j>/s<j> (flag operands and result).
 */
export class InstructionEmitter {
  readonly lines: string[] = [];
  reads = 0;
  writes = 0;
  record: string | undefined;
  source: FlagSource | undefined;
  condition: number | undefined;
  mayFault = false;
  stores = false;
  transfers = false;
  branchTo: RelativeBranch | undefined;

  constructor(
    readonly ctx: BlockContext,
    /** Index of the instruction in its block (names its locals). */
    readonly j: number,
    readonly opSize: OperandSize,
    readonly addrSize: OperandSize,
  ) {}

  emit(line: string): void {
    this.lines.push(line);
  }

  get a(): string {
    return `a${this.j}`;
  }
  get b(): string {
    return `b${this.j}`;
  }
  get s(): string {
    return `s${this.j}`;
  }

  /** A register operand's value. */
  reg(size: OperandSize, n: number): string {
    return registerSource(size, n);
  }

  /** Writes a register operand. */
  setReg(size: OperandSize, n: number, value: string): void {
    this.emit(registerWrite(size, n, value));
  }

  /**
   * A statement of a helper that reads or writes cpu.reg32 itself: the block's register
   * locals are written back before it and loaded again after it.
   */
  callWithRegisters(statement: string): void {
    this.emit(`${FLUSH_REGISTERS}\n${statement}\n${RELOAD_REGISTERS}`);
  }

  private isFlat(seg: number): boolean {
    return (this.ctx.mode & (1 << (MODE_FLAT + seg))) !== 0;
  }

  private baseZero(seg: number): boolean {
    return (this.ctx.mode & (1 << (MODE_BASE_ZERO + seg))) !== 0;
  }

  /** Sets `o` to a memory operand's offset. */
  at(mem: MemorySource): void {
    this.emit(`o = ${mem.offset};`);
  }

  /** The value at seg:o (after `at`). */
  read(seg: number, size: OperandSize): string {
    this.mayFault = true;
    const fn = `M.read${size * 8}`;
    if (this.isFlat(seg) && this.baseZero(seg)) {
      // The fast path of LinearMemory.read*, inline: a RAM page the fast table maps, not crossing it.
      const ram = size === 1 ? 'RAM[q | (o & 0xfff)]' : `DV.getUint${size * 8}(q | (o & 0xfff), true)`;
      const inPage = size === 1 ? '' : ` && (o & 0xfff) <= ${0x1000 - size}`;
      return `((q = FR[o >>> 12]) >= 0${inPage} ? ${ram} : ${fn}(o))`;
    }
    if (this.isFlat(seg)) return `${fn}((sb${this.useSeg(seg)} + o) >>> 0)`;
    this.useSeg(seg);
    return `(sk${seg} === 0 && o <= sl${seg} - ${size - 1} ? ${fn}((sb${seg} + o) >>> 0) : cpu.readMemory(${seg}, o, ${size}))`;
  }

  /** Writes `value` at seg:o (after `at`). */
  write(seg: number, size: OperandSize, value: string): void {
    this.mayFault = true;
    this.stores = true;
    const fn = `M.write${size * 8}`;
    if (this.isFlat(seg) && this.baseZero(seg)) {
      // LinearMemory.write*'s fast path, inline: a mapped RAM page without decoded code.
      const ram = size === 1 ? `RAM[q | (o & 0xfff)] = ${value};` : `DV.setUint${size * 8}(q | (o & 0xfff), ${value}, true);`;
      const inPage = size === 1 ? '' : ` && (o & 0xfff) <= ${0x1000 - size}`;
      this.emit(`if ((q = FW[o >>> 12]) >= 0${inPage} && CM[q >>> 12] === 0) ${ram} else ${fn}(o, ${value});`);
      return;
    }
    if (this.isFlat(seg)) {
      this.emit(`${fn}((sb${this.useSeg(seg)} + o) >>> 0, ${value});`);
      return;
    }
    this.useSeg(seg);
    this.emit(`if (sk${seg} === 0 && o <= sl${seg} - ${size - 1}) ${fn}((sb${seg} + o) >>> 0, ${value}); else cpu.writeMemory(${seg}, o, ${size}, ${value});`);
  }

  private useSeg(seg: number): number {
    this.ctx.usedSegments.add(seg);
    return seg;
  }

  /** Reads the r/m operand (sets `o` first for memory). */
  readRm(m: ModrmSource, size: OperandSize): string {
    if (m.mem === undefined) return this.reg(size, m.rm);
    this.at(m.mem);
    return this.read(m.mem.seg, size);
  }

  /** Writes the r/m operand; for memory, `o` must already hold its offset (readRm or at). */
  writeRm(m: ModrmSource, size: OperandSize, value: string): void {
    if (m.mem === undefined) this.setReg(size, m.rm, value);
    else this.write(m.mem.seg, size, value);
  }

  private get stack32(): boolean {
    return (this.ctx.mode & MODE_STACK32) !== 0;
  }

  /** PUSH of a value that does not depend on `o`. */
  push(size: OperandSize, value: string): void {
    const width = this.stack32 ? 4 : 2;
    this.emit(`o = (${this.reg(width, ESP)} - ${size}) ${width === 4 ? '>>> 0' : '& 0xffff'};`);
    this.write(SS, size, value);
    this.setReg(width, ESP, 'o');
  }

  /** POP into local `v`; `release` extra bytes (RET imm16) are dropped too. */
  pop(size: OperandSize, release = 0): void {
    const width = this.stack32 ? 4 : 2;
    this.emit(`o = ${this.reg(width, ESP)};`);
    this.emit(`v = ${this.read(SS, size)};`);
    this.setReg(width, ESP, `o + ${size + release}`);
  }

  /** Records a full arithmetic-flag update from op(a, b) = res (the locals a<j>, b<j>, s<j>). */
  flagsFrom(op: FlagOp, size: OperandSize, reads = 0): void {
    this.writes = ARITH_FLAGS;
    this.reads |= reads;
    this.record = `f.set(${op}, ${this.a}, ${this.b}, ${this.s}, ${size});`;
    this.source = { op, a: this.a, b: this.b, res: this.s, size, definesCarry: true };
  }

  /** INC/DEC: every arithmetic flag but CF. */
  flagsWithoutCarry(op: FlagOp, size: OperandSize, affected: number): void {
    this.writes = affected;
    this.record = `f.record(${op}, ${this.a}, ${this.b}, ${this.s}, ${size}, ${affected});`;
    this.source = { op, a: this.a, b: this.b, res: this.s, size, definesCarry: false };
  }

  /**
   * Two- and three-operand IMUL r32: the low word by Math.imul; CF = OF when the double
   * product leaves the int32 range (exact whenever it fits). Flags as ops/multiply-divide.ts.
   */
  multiplySigned32(dest: number, a: string, b: string): void {
    this.emit(`t = ${a};`);
    this.emit(`v = ${b};`);
    this.emit('m0 = (t | 0) * (v | 0);');
    this.emit(`${this.s} = Math.imul(t, v);`);
    this.emit(`${this.a} = m0 > 2147483647 || m0 < -2147483648 ? 1 : 0;`);
    this.emit(`${this.b} = ${this.a};`);
    this.setReg(4, dest, this.s);
    this.flagsFrom(FlagOp.Shift, 4);
  }

  /** A helper that defines all six arithmetic flags without reading them (MUL, IMUL). */
  helperSetsFlags(): void {
    this.reads = 0;
    this.writes = ARITH_FLAGS;
  }

  /** A helper that reads and sets flags in ways the liveness pass does not model. */
  opaqueFlags(): void {
    this.reads = ARITH_FLAGS;
    this.writes = 0;
  }

  /** A relative branch taken when `taken` holds; ends the block (the compiler writes the EIP update). */
  branch(taken: string, displacement: number): void {
    this.branchTo = { taken, displacement, opSize: this.opSize === 2 ? 2 : 4 };
    this.transfers = true;
  }

  /** The finished instruction. */
  finish(length: number): InstructionSource {
    return {
      length,
      body: this.lines.join('\n'),
      flags: { reads: this.reads, writes: this.writes, record: this.record, source: this.source },
      condition: this.condition,
      mayFault: this.mayFault,
      stores: this.stores,
      transfers: this.transfers,
      branch: this.branchTo,
    };
  }
}
