import { ARITH_FLAGS, CF, OF } from '../flag-bits.js';
import { FlagOp } from '../lazy-flags.js';
import type { OperandSize } from '../registers.js';
import { MODE_BASE_ZERO, MODE_FLAT, MODE_STACK32 } from '../jit/instruction-emitter.js';
import { STATE } from './wasm-state.js';
import { FunctionBody, I32, I64, Op, VOID } from './wasm-encoder.js';

/** Function indices of the region module: imports first, then the region and the condition function. */
export const Fn = {
  read8: 0, read16: 1, read32: 2,
  write8: 3, write16: 4, write32: 5,
  segRead: 6, segWrite: 7,
  testCondition: 8,
  readTimeStamp: 9,
  interpret: 10,
  region: 11,
  condition: 12,
} as const;

const READ = [0, Fn.read8, Fn.read16, 0, Fn.read32];
const WRITE = [0, Fn.write8, Fn.write16, 0, Fn.write32];
const LOAD = [0, Op.i32Load8U, Op.i32Load16U, 0, Op.i32Load];
const STORE = [0, Op.i32Store8, Op.i32Store16, 0, Op.i32Store];

/**
 * Where the instruction whose access faulted starts and ends (page offsets; the end may lie
 * up to 14 bytes into the next page) and its index in the member (below 64, the longest
 * member: region-compiler.ts), in one i32 (faultWhere): bits 0-11, 12-24 and 25-30.
 */
export const faultPlace = (start: number, end: number, index: number): number => start | (end << 12) | (index << 25);

export const sizeMask = (size: OperandSize): number => (size === 1 ? 0xff : size === 2 ? 0xffff : -1);

/**
 * Stores a flag record held in the locals `record` (op, size, affected, carry, overflow, a, b,
 * res) in the state area's mailbox, pending for Cpu.flags (region-runner.ts applyFlags).
 */
export function storeRecord(f: FunctionBody, state: number, record: readonly number[]): void {
  const [op, size, affected, carry, overflow, a, b, res] = record;
  f.i32(0).i32(1).mem(Op.i32Store, state + STATE.flagsPending);
  f.i32(0).get(op).mem(Op.i32Store, state + STATE.flagOp);
  f.i32(0).get(size).mem(Op.i32Store, state + STATE.flagSize);
  f.i32(0).get(affected).mem(Op.i32Store, state + STATE.flagAffected);
  f.i32(0).get(carry).mem(Op.i32Store, state + STATE.flagCarry);
  f.i32(0).get(overflow).mem(Op.i32Store, state + STATE.flagOverflow);
  f.i32(0).get(a).op(Op.f64ConvertI64S).mem(Op.f64Store, state + STATE.flagA);
  f.i32(0).get(b).op(Op.f64ConvertI64S).mem(Op.f64Store, state + STATE.flagB);
  f.i32(0).get(res).op(Op.f64ConvertI64S).mem(Op.f64Store, state + STATE.flagRes);
}

/** What the emitter knows at compile time about the flag record in the locals. */
export interface StaticRecord {
  op: FlagOp;
  size: OperandSize;
  /** SUB/CMP/ADD without a carry in: conditions can compare the operands directly. */
  plain: boolean;
  /** Whether the record defines CF (not INC/DEC). */
  carry: boolean;
}

/**
 * Emits one region function (see region-compiler.ts): guest registers in i32 locals
 * R0..R7, the flag record in locals, memory through the fast page tables in wasm
 * memory, everything else through imported JavaScript. Tracks the structured-control
 * depth so an instruction can branch to the dispatcher loop or to the exit.
 */
export class RegionEmitter {
  readonly f = new FunctionBody(3);
  /** Parameters: the member to start with (then the current one), the EIP of the page's first byte, the budget. */
  readonly member = 0;
  readonly pageEip = 1;
  readonly budget = 2;
  readonly R: number[] = [];
  readonly n: number;
  readonly o: number;
  readonly q: number;
  readonly t: number;
  readonly v: number;
  readonly ta: number;
  readonly tb: number;
  readonly exitEip: number;
  /** The linear address of an access through a segment with a base (`o` keeps the offset). */
  readonly l: number;
  readonly readTable: number;
  readonly writeTable: number;
  readonly fvalid: number;
  readonly fop: number;
  readonly fsize: number;
  readonly faffected: number;
  readonly fcarry: number;
  readonly fover: number;
  readonly fa: number;
  readonly fb: number;
  readonly fres: number;
  readonly x: number;
  /** Where the instruction whose access faulted starts and ends (page offsets), and its index in the member (faultPlace). */
  readonly faultWhere: number;
  /**
   * The bits of the segment mode (Cpu.jitMode) the emitted code depends on: a segment's
   * flat and base-zero bits once an access through it was emitted, MODE_STACK32 once a
   * stack operation was. The region runs under any mode that agrees on these: Linux's
   * kernel code runs with a user process's TLS segment in GS, and a region compiled at boot
   * (GS null) was refused there for a GS it never uses (~1 M region runs in an 8 MiB md5sum).
   */
  modeUsed = 0;
  /** Structures opened inside the current member's code. */
  inner = 0;
  /** Labels between a member's code and the dispatcher loop (set per member). */
  toLoop = 0;
  /** The member being emitted (region-compiler.ts). */
  current = -1;
  /** Whether the current member's code jumps to its own start: it is then a wasm loop, else a block (each loop has a stack check at its head). */
  loopsInPlace = false;
  /** The flag record's op and size when an instruction of this member set it. */
  known: StaticRecord | undefined;
  /** The instruction being emitted: its offset in the page, end, and index in its member. */
  start = 0;
  end = 0;
  index = 0;

  constructor(
    /** Offset of the state area in memory. */
    readonly state: number,
    /** Segment facts the region is compiled under (Cpu.jitMode). */
    readonly mode: number,
  ) {
    const f = this.f;
    for (let r = 0; r < 8; r++) this.R.push(f.local(I32));
    this.n = f.local(I32);
    this.o = f.local(I32);
    this.q = f.local(I32);
    this.t = f.local(I32);
    this.v = f.local(I32);
    this.ta = f.local(I32);
    this.tb = f.local(I32);
    this.exitEip = f.local(I32);
    this.l = f.local(I32);
    this.readTable = f.local(I32);
    this.writeTable = f.local(I32);
    this.fvalid = f.local(I32);
    this.fop = f.local(I32);
    this.fsize = f.local(I32);
    this.faffected = f.local(I32);
    this.fcarry = f.local(I32);
    this.fover = f.local(I32);
    this.fa = f.local(I64);
    this.fb = f.local(I64);
    this.fres = f.local(I64);
    this.x = f.local(I64);
    this.faultWhere = f.local(I32);
  }

  /** Loads the registers and the current fast tables into locals. */
  prologue(): void {
    const f = this.f;
    for (let r = 0; r < 8; r++) f.i32(0).mem(Op.i32Load, this.state + STATE.regs + r * 4).set(this.R[r]);
    f.i32(0).mem(Op.i32Load, this.state + STATE.fastReadTable).set(this.readTable);
    f.i32(0).mem(Op.i32Load, this.state + STATE.fastWriteTable).set(this.writeTable);
    f.i32(-1).set(this.fcarry);
    f.i32(-1).set(this.fover);
    // A region that ran just before may have left its flag record in the mailbox, not yet
    // applied to Cpu.flags (region-runner.ts defers that while regions follow regions):
    // take it over.
    const s = this.state;
    f.i32(0).mem(Op.i32Load, s + STATE.flagsPending).op(Op.if, VOID);
    f.i32(0).i32(0).mem(Op.i32Store, s + STATE.flagsPending);
    f.i32(1).set(this.fvalid);
    f.i32(0).mem(Op.i32Load, s + STATE.flagOp).set(this.fop);
    f.i32(0).mem(Op.i32Load, s + STATE.flagSize).set(this.fsize);
    f.i32(0).mem(Op.i32Load, s + STATE.flagAffected).set(this.faffected);
    f.i32(0).mem(Op.i32Load, s + STATE.flagCarry).set(this.fcarry);
    f.i32(0).mem(Op.i32Load, s + STATE.flagOverflow).set(this.fover);
    f.i32(0).mem(Op.f64Load, s + STATE.flagA).op(Op.i64TruncF64S).set(this.fa);
    f.i32(0).mem(Op.f64Load, s + STATE.flagB).op(Op.i64TruncF64S).set(this.fb);
    f.i32(0).mem(Op.f64Load, s + STATE.flagRes).op(Op.i64TruncF64S).set(this.fres);
    f.op(Op.end);
  }

  /** Loads register locals again after JavaScript changed the registers (RDTSC). */
  reloadRegisters(...registers: number[]): void {
    for (const r of registers) this.f.i32(0).mem(Op.i32Load, this.state + STATE.regs + r * 4).set(this.R[r]);
  }

  /** Writes the register locals back. */
  flushRegisters(): void {
    for (let r = 0; r < 8; r++) this.f.i32(0).get(this.R[r]).mem(Op.i32Store, this.state + STATE.regs + r * 4);
  }

  /** Puts the flag record (if any) in the mailbox for Cpu.flags. */
  flushFlags(): void {
    const f = this.f;
    f.get(this.fvalid).op(Op.if, VOID);
    storeRecord(f, this.state, [this.fop, this.fsize, this.faffected, this.fcarry, this.fover, this.fa, this.fb, this.fres]);
    f.op(Op.end);
  }

  /**
   * Before calling JavaScript that may fault: registers and flags where the CPU keeps
   * them, and where the current instruction starts and ends, with what ran before it.
   */
  spill(): void {
    const f = this.f;
    this.flushRegisters();
    this.flushFlags();
    f.i32(0).get(this.pageEip).i32(this.start).op(Op.i32Add).mem(Op.i32Store, this.state + STATE.faultStart);
    f.i32(0).get(this.pageEip).i32(this.end).op(Op.i32Add).mem(Op.i32Store, this.state + STATE.faultNext);
    f.i32(0).get(this.n).i32(this.index).op(Op.i32Add).mem(Op.i32Store, this.state + STATE.faultRetired);
  }

  /**
   * After a memory access through JavaScript: if it faulted (the import caught the fault
   * and set faultPending), leave through the region's fault exit, which spills
   * registers and flags once for the whole region (emitRegion) rather than before every
   * slow access (that made each access ~60 wasm instructions longer).
   */
  leaveIfFaulted(): void {
    const f = this.f;
    f.i32(faultPlace(this.start, this.end, this.index)).set(this.faultWhere);
    f.i32(0).mem(Op.i32Load, this.state + STATE.faultPending).brIf(this.toLoop + this.inner + 2); // past the loop and $exit
  }

  /** Opens an if (condition on the stack). */
  if(result?: number): void {
    this.f.op(Op.if, result ?? VOID);
    this.inner++;
  }
  else(): void {
    this.f.op(Op.else);
  }
  endIf(): void {
    this.f.op(Op.end);
    this.inner--;
  }

  /** Adds `retired` to n. */
  retire(retired: number): void {
    if (retired !== 0) this.f.get(this.n).i32(retired).op(Op.i32Add).set(this.n);
  }

  /** Leaves the region with EIP = the value pushed by `eip`, `retired` more instructions done. */
  exit(eip: () => void, retired: number): void {
    this.retire(retired);
    eip();
    this.f.set(this.exitEip).br(this.toLoop + this.inner + 1);
  }

  /** Leaves with EIP at an offset in the page. */
  exitAt(offset: number, retired: number): void {
    this.exit(() => this.f.get(this.pageEip).i32(offset).op(Op.i32Add), retired);
  }

  /** Goes on with member `k` of the region: the member being emitted loops in place, any other through the dispatcher. */
  continueWith(k: number, retired: number): void {
    this.retire(retired);
    if (k === this.current) {
      this.loopsInPlace = true;
      this.f.br(this.inner);
    } else {
      this.f.i32(k).set(this.member).br(this.toLoop + this.inner);
    }
  }

  // --- registers ---

  /** Pushes a register operand (AH..BH are bits 8-15 of EAX..EBX). */
  reg(size: OperandSize, r: number): void {
    const f = this.f;
    if (size === 4) f.get(this.R[r]);
    else if (size === 2) f.get(this.R[r]).i32(0xffff).op(Op.i32And);
    else if (r < 4) f.get(this.R[r]).i32(0xff).op(Op.i32And);
    else f.get(this.R[r - 4]).i32(8).op(Op.i32ShrU).i32(0xff).op(Op.i32And);
  }

  /** Writes the value `value` pushes into a register operand. */
  setReg(size: OperandSize, r: number, value: () => void): void {
    const f = this.f;
    if (size === 4) {
      value();
      f.set(this.R[r]);
    } else if (size === 2) {
      f.get(this.R[r]).i32(0xffff0000).op(Op.i32And);
      value();
      f.i32(0xffff).op(Op.i32And, Op.i32Or).set(this.R[r]);
    } else if (r < 4) {
      f.get(this.R[r]).i32(0xffffff00).op(Op.i32And);
      value();
      f.i32(0xff).op(Op.i32And, Op.i32Or).set(this.R[r]);
    } else {
      const w = this.R[r - 4];
      f.get(w).i32(0xffff00ff).op(Op.i32And);
      value();
      f.i32(0xff).op(Op.i32And).i32(8).op(Op.i32Shl, Op.i32Or).set(w);
    }
  }

  // --- memory ---

  /** Whether seg is flat with base 0 under the region's mode (a linear address is the offset). */
  flatZero(seg: number): boolean {
    return this.flat(seg) && this.baseZero(seg);
  }

  private flat(seg: number): boolean {
    this.modeUsed |= 1 << (MODE_FLAT + seg);
    return (this.mode & (1 << (MODE_FLAT + seg))) !== 0;
  }

  private baseZero(seg: number): boolean {
    this.modeUsed |= 1 << (MODE_BASE_ZERO + seg);
    return (this.mode & (1 << (MODE_BASE_ZERO + seg))) !== 0;
  }

  /** Whether SS is a 32-bit stack under the region's mode. */
  stack32(): boolean {
    this.modeUsed |= MODE_STACK32;
    return (this.mode & MODE_STACK32) !== 0;
  }

  /**
   * The local holding the linear address of seg:o: `o` itself for a base of 0, else `l`
   * set to base + o (`o` stays the offset: a read-modify-write uses it twice).
   */
  private linear(seg: number): number {
    if (this.baseZero(seg)) return this.o;
    this.f.get(this.o).i32(0).mem(Op.i32Load, this.state + STATE.segBase + seg * 4).op(Op.i32Add).set(this.l);
    return this.l;
  }

  /** Pushes the value at seg:o. */
  read(seg: number, size: OperandSize): void {
    const f = this.f;
    if (!this.flat(seg)) {
      f.i32(seg).get(this.o).i32(size).call(Fn.segRead);
      this.leaveIfFaulted();
      return;
    }
    const a = this.linear(seg);
    f.get(this.readTable).get(a).i32(12).op(Op.i32ShrU).i32(2).op(Op.i32Shl, Op.i32Add).mem(Op.i32Load).tee(this.q);
    f.i32(0).op(Op.i32GeS);
    if (size > 1) f.get(a).i32(0xfff).op(Op.i32And).i32(0x1000 - size).op(Op.i32LeU, Op.i32And);
    this.if(I32);
    f.get(this.q).get(a).i32(0xfff).op(Op.i32And, Op.i32Or).mem(LOAD[size]);
    this.else();
    f.get(a).call(READ[size]);
    this.leaveIfFaulted();
    this.endIf();
  }

  /** Writes `v` at seg:o; when the write reached decoded code, leaves after this instruction. */
  write(seg: number, size: OperandSize): void {
    const f = this.f;
    const changed = (): void => {
      this.if();
      this.exitAt(this.end, this.index + 1);
      this.endIf();
    };
    if (!this.flat(seg)) {
      f.i32(seg).get(this.o).i32(size).get(this.v).call(Fn.segWrite);
      this.leaveIfFaulted();
      changed();
      return;
    }
    const a = this.linear(seg);
    f.get(this.writeTable).get(a).i32(12).op(Op.i32ShrU).i32(2).op(Op.i32Shl, Op.i32Add).mem(Op.i32Load).tee(this.q);
    f.i32(0).op(Op.i32GeS);
    if (size > 1) f.get(a).i32(0xfff).op(Op.i32And).i32(0x1000 - size).op(Op.i32LeU, Op.i32And);
    // A page holding decoded code takes the slow path, which drops that code.
    f.get(this.q).i32(12).op(Op.i32ShrU).mem(Op.i32Load8U, this.state + STATE.codeMarks).op(Op.i32Eqz, Op.i32And);
    this.if();
    f.get(this.q).get(a).i32(0xfff).op(Op.i32And, Op.i32Or).get(this.v).mem(STORE[size]);
    this.else();
    f.get(a).get(this.v).call(WRITE[size]);
    this.leaveIfFaulted();
    changed();
    this.endIf();
  }

  // --- flags ---

  /**
   * INC/DEC leave CF alone: before their operands replace the record, keep the CF it
   * defines in fcarry (-1 when there is no record: CF is then Cpu.flags' own).
   */
  saveCarry(): void {
    const f = this.f;
    const k = this.known;
    if (k !== undefined && k.op === FlagOp.Logic) {
      f.i32(0).set(this.fcarry);
      return;
    }
    if (k !== undefined && k.op === FlagOp.Sub && k.plain) {
      f.get(this.fa).get(this.fb).op(Op.i64LtU).set(this.fcarry);
      return;
    }
    f.get(this.fvalid).op(Op.i32Eqz).op(Op.if, VOID).i32(-1).set(this.fcarry).op(Op.else);
    f.get(this.faffected).i32(CF).op(Op.i32And).op(Op.if, VOID);
    // CF of the record, inline (a call of the condition function cost more than the rest of
    // a DEC): ADD/SUB carry out of the size is bit size*8 of the untruncated result (a
    // borrow makes it negative, at least -2^bits); a shift keeps CF in `a`; logic ops clear it.
    f.get(this.fres).get(this.fsize).i32(3).op(Op.i32Shl, Op.i64ExtendI32U, Op.i64ShrU, Op.i32WrapI64).i32(1).op(Op.i32And);
    f.get(this.fa).op(Op.i32WrapI64).i32(0).op(Op.i32Ne);
    f.get(this.fop).i32(FlagOp.Shift).op(Op.i32Ne, Op.select);
    f.i32(0);
    f.get(this.fop).i32(FlagOp.Logic).op(Op.i32Ne, Op.select);
    f.set(this.fcarry);
    f.op(Op.end, Op.end);
  }

  /**
   * Records a flag-setting operation whose operands and untruncated result are in fa,
   * fb, fres (INC/DEC call saveCarry before writing them).
   */
  record(op: FlagOp, size: OperandSize, plain: boolean, affected = ARITH_FLAGS): void {
    const f = this.f;
    if (affected === ARITH_FLAGS) f.i32(-1).set(this.fcarry);
    f.i32(-1).set(this.fover); // every record made here defines OF
    f.i32(op).set(this.fop).i32(size).set(this.fsize).i32(affected).set(this.faffected).i32(1).set(this.fvalid);
    this.known = { op, size, plain: plain && affected === ARITH_FLAGS, carry: (affected & CF) !== 0 };
  }

  /**
   * ROL/ROR: CF and OF become `carry` and `overflow` (pushed 0/1 values); the other
   * flags stay what the record (or, without one, Cpu.flags) says.
   */
  rotateFlags(carry: () => void, overflow: () => void): void {
    const f = this.f;
    carry();
    f.set(this.fcarry);
    overflow();
    f.set(this.fover);
    this.keptAside(CF | OF);
  }

  /** JavaScript applied the record and changed the flags itself (an interpreted instruction): no record in the locals now. */
  forgetFlags(): void {
    this.f.i32(0).set(this.fvalid).i32(-1).set(this.fcarry).i32(-1).set(this.fover);
    this.known = undefined;
  }

  /**
   * BT/BTS/BTR/BTC: CF becomes `carry` (a pushed 0/1), every other flag stays what the record
   * (or, without one, Cpu.flags) says, as bit-operations.ts changeBit assigns only CF: CF is
   * kept aside in fcarry and left out of the record's flags, as INC/DEC and ROL/ROR do.
   */
  carryOnly(carry: () => void): void {
    carry();
    this.f.set(this.fcarry);
    this.keptAside(CF);
  }

  /**
   * After fcarry (and, with OF in `aside`, fover) took new values: the record no longer
   * defines those flags; without a record, one that defines nothing, so only the saved
   * flags apply (and a saved OF left over from before does not, when OF is not in `aside`).
   */
  private keptAside(aside: number): void {
    const f = this.f;
    f.get(this.fvalid).op(Op.if, VOID);
    f.get(this.faffected).i32(~aside).op(Op.i32And).set(this.faffected);
    f.op(Op.else);
    f.i32(FlagOp.Logic).set(this.fop).i32(4).set(this.fsize).i32(0).set(this.faffected).i32(1).set(this.fvalid);
    if ((aside & OF) === 0) f.i32(-1).set(this.fover);
    f.i64(0).set(this.fa).i64(0).set(this.fb).i64(0).set(this.fres);
    f.op(Op.end);
    this.known = undefined;
  }

  /** Pushes condition `cc` (0/1). */
  condition(cc: number): void {
    if (this.inlineCondition(cc)) return;
    // Generic: the record in the locals, or Cpu.flags when there is none (or it lacks a flag the condition needs).
    this.f.i32(cc).get(this.fvalid).get(this.fop).get(this.fsize).get(this.faffected).get(this.fcarry).get(this.fover).get(this.fa).get(this.fb).get(this.fres).call(Fn.condition);
  }

  /** Conditions after SUB/CMP and logic operations of this member, inline. */
  private inlineCondition(cc: number): boolean {
    const k = this.known;
    if (k === undefined) return false;
    const f = this.f;
    const size = k.size;
    const bits = size * 8;
    const kind = cc >>> 1;
    const low = (): void => {
      f.get(this.fres).op(Op.i32WrapI64);
      if (size !== 4) f.i32(sizeMask(size)).op(Op.i32And);
    };
    const signed = (local: number): void => {
      f.get(local).op(Op.i32WrapI64);
      if (size === 1) f.op(Op.i32Extend8S);
      else if (size === 2) f.op(Op.i32Extend16S);
    };
    const sign = (): void => {
      f.get(this.fres).op(Op.i32WrapI64).i32(bits - 1).op(Op.i32ShrU).i32(1).op(Op.i32And);
    };
    if (k.op === FlagOp.Logic) {
      switch (kind) {
        case 0: f.i32(0); break; // OF clear
        case 1: f.i32(0); break; // CF clear
        case 2: case 3: low(); f.op(Op.i32Eqz); break;
        case 4: case 6: sign(); break; // L: SF != OF, OF clear
        case 7: low(); f.op(Op.i32Eqz); sign(); f.op(Op.i32Or); break;
        default: return false;
      }
    } else if (k.op === FlagOp.Sub && k.plain) {
      switch (kind) {
        case 1: f.get(this.fa).get(this.fb).op(Op.i64LtU); break;
        case 2: low(); f.op(Op.i32Eqz); break;
        case 3: f.get(this.fa).get(this.fb).op(Op.i64LeU); break;
        case 4: sign(); break;
        case 6: signed(this.fa); signed(this.fb); f.op(Op.i32LtS); break;
        case 7: signed(this.fa); signed(this.fb); f.op(Op.i32LeS); break;
        default: return false;
      }
    } else if (!this.formulaCondition(kind, k, low, sign)) {
      return false;
    }
    if ((cc & 1) !== 0) f.op(Op.i32Eqz);
    return true;
  }

  /**
   * Any condition from a record of this member whose op and size are known, with the
   * formulas of lazy-flags.ts (the condition function's, without its calls and
   * branches on op and size). False when the record does not define CF (INC/DEC) and
   * the condition needs it.
   */
  private formulaCondition(kind: number, k: StaticRecord, low: () => void, sign: () => void): boolean {
    const f = this.f;
    const bits = k.size * 8;
    if ((kind === 1 || kind === 3) && !k.carry) return false;
    const word = (local: number): void => {
      f.get(local).op(Op.i32WrapI64);
    };
    const zf = (): void => {
      low();
      f.op(Op.i32Eqz);
    };
    const cf = (): void => {
      if (k.op === FlagOp.Add) f.get(this.fres).i64(k.size === 4 ? 0xffffffff : sizeMask(k.size)).op(Op.i64GtU);
      else if (k.op === FlagOp.Sub) f.get(this.fres).i64(0).op(Op.i64LtS);
      else if (k.op === FlagOp.Shift) f.get(this.fa).i64(0).op(Op.i64Ne);
      else f.i32(0);
    };
    const of = (): void => {
      if (k.op === FlagOp.Add || k.op === FlagOp.Sub) {
        // Add: (a ^ res) & (b ^ res); Sub: (a ^ b) & (a ^ res); the sign bit of that.
        word(this.fa);
        word(k.op === FlagOp.Add ? this.fres : this.fb);
        f.op(Op.i32Xor);
        if (k.op === FlagOp.Add) word(this.fb);
        else word(this.fa);
        word(this.fres);
        f.op(Op.i32Xor, Op.i32And).i32(bits - 1).op(Op.i32ShrU).i32(1).op(Op.i32And);
      } else if (k.op === FlagOp.Shift) f.get(this.fb).i64(0).op(Op.i64Ne);
      else f.i32(0);
    };
    switch (kind) {
      case 0: of(); break;
      case 1: cf(); break;
      case 2: zf(); break;
      case 3: cf(); zf(); f.op(Op.i32Or); break;
      case 4: sign(); break;
      case 5: low(); f.i32(0xff).op(Op.i32And, Op.i32Popcnt).i32(1).op(Op.i32And).i32(1).op(Op.i32Xor); break;
      case 6: sign(); of(); f.op(Op.i32Xor); break;
      default: zf(); sign(); of(); f.op(Op.i32Xor, Op.i32Or); break;
    }
    return true;
  }
}
