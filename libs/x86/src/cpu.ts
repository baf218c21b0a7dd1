import type { CpuBus } from './cpu-bus.js';
import { CpuFault, Vector } from './cpu-fault.js';
import { quirksFor, type CpuModel, type CpuQuirks } from './cpu-model.js';
import { IF, TF } from './flag-bits.js';
import { LazyFlags } from './lazy-flags.js';
import { LinearMemory } from './linear-memory.js';
import { buildOpcodeTable, type OpcodeHandler } from './instructions/opcode-table.js';
import { CS, ESP, NO_SEGMENT, SS, type OperandSize } from './registers.js';
import { StopReason } from './stop-reason.js';

export interface CpuOptions {
  bus: CpuBus;
  /** Which generation to imitate; defaults to '386'. */
  model?: CpuModel;
}

/** Where external (maskable) interrupts come from, typically the PIC. */
export interface InterruptSource {
  /** True when a maskable interrupt is waiting; asked between instructions while IF is set. */
  hasInterrupt(): boolean;
  /** Called once the CPU takes the interrupt; returns its vector. */
  acknowledge(): number;
}

/** REP prefix state for the current instruction. */
export const REP_NONE = 0;
export const REPE = 1;
export const REPNE = 2;

/**
 * One x86 processor: architectural state, memory access through the
 * injected bus, and the fetch/dispatch loop. Instruction semantics live in
 * instructions/ and ops/; this class only provides what they share.
 */
export class Cpu {
  readonly model: CpuModel;
  readonly quirks: CpuQuirks;
  readonly bus: CpuBus;

  /** General registers in ModRM order; the three views share storage (little-endian host). */
  readonly reg32: Uint32Array;
  readonly reg16: Uint16Array;
  /** Byte view: AL is reg8[0], AH is reg8[1], CL is reg8[4] ... (see byteRegIndex). */
  readonly reg8: Uint8Array;
  eip = 0;
  readonly flags = new LazyFlags();

  /** Segment registers: visible selector and the cached descriptor parts. */
  readonly segSelector = new Uint16Array(6);
  readonly segBase = new Uint32Array(6);
  readonly segLimit = new Uint32Array(6);

  cr0 = 0;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  idtrBase = 0;
  idtrLimit = 0x3ff;
  gdtrBase = 0;
  gdtrLimit = 0xffff;

  /** Instructions retired since construction; guest time is derived from it. */
  instructionCount = 0;
  halted = false;

  // --- state of the instruction being executed ---
  /** EIP of the first byte (prefixes included) of the current instruction. */
  instructionStart = 0;
  opSize: OperandSize = 2;
  addrSize: OperandSize = 2;
  segOverride = NO_SEGMENT;
  repPrefix = REP_NONE;
  /** Set by MOV SS/POP SS/STI: no interrupt is taken before the next instruction. */
  interruptShadow = false;

  // --- decoded ModRM of the current instruction (see decode/modrm.ts) ---
  modrmMod = 0;
  modrmReg = 0;
  modrmRm = 0;
  eaSegment = 0;
  eaOffset = 0;

  /** Code segment default size (CS.D); 16-bit in real mode. */
  codeSize: OperandSize = 2;
  /** Stack pointer width (SS.B): SP or ESP. */
  stackSize: OperandSize = 2;
  /** EIP wraps at 64 KiB in 16-bit code. */
  ipMask = 0xffff;

  interruptSource: InterruptSource | undefined;
  /** Vectors raised with raiseInterrupt and not yet taken, oldest first. */
  readonly queuedInterrupts: number[] = [];
  private stopRequested = false;
  /** Set by interrupt(); tells the single-step trap logic that the instruction already vectored. */
  private interruptDelivered = false;

  private readonly opcodeTable: readonly OpcodeHandler[];
  /** Linear-address access (translation, RAM vs device windows). */
  readonly memory: LinearMemory;

  constructor(options: CpuOptions) {
    this.model = options.model ?? '386';
    this.quirks = quirksFor(this.model);
    this.bus = options.bus;
    const regs = new ArrayBuffer(32);
    this.reg32 = new Uint32Array(regs);
    this.reg16 = new Uint16Array(regs);
    this.reg8 = new Uint8Array(regs);
    this.memory = new LinearMemory(options.bus, this.quirks.addressMask);
    this.opcodeTable = buildOpcodeTable(this.quirks);
    this.reset();
  }

  /** Power-on state: CS:IP at the reset vector, real mode, interrupts off. */
  reset(): void {
    this.reg32.fill(0);
    this.flags.value = this.quirks.flagsFixedOnes;
    this.cr0 = this.cr2 = this.cr3 = this.cr4 = 0;
    this.setControlRegister0(0);
    this.idtrBase = 0;
    this.idtrLimit = 0x3ff;
    this.gdtrBase = 0;
    this.gdtrLimit = 0xffff;
    for (let seg = 0; seg < 6; seg++) {
      this.segLimit[seg] = 0xffff;
      this.loadSegment(seg, 0);
    }
    if (this.quirks.has32Bit) {
      // 386: CS selector F000 with base FFFF0000, IP FFF0.
      this.segSelector[CS] = 0xf000;
      this.segBase[CS] = 0xffff0000;
      this.eip = 0xfff0;
    } else {
      this.loadSegment(CS, 0xffff);
      this.eip = 0;
    }
    this.halted = false;
    this.interruptShadow = false;
    this.queuedInterrupts.length = 0;
  }

  // ------------------------------------------------------------------ registers

  /** Index into reg8 for byte register r (0-3 low bytes AL..BL, 4-7 high bytes AH..BH). */
  static byteRegIndex(r: number): number {
    return r < 4 ? r << 2 : ((r - 4) << 2) + 1;
  }

  getReg(size: OperandSize, r: number): number {
    if (size === 1) return this.reg8[r < 4 ? r << 2 : ((r - 4) << 2) + 1];
    return size === 2 ? this.reg16[r << 1] : this.reg32[r];
  }

  setReg(size: OperandSize, r: number, value: number): void {
    if (size === 1) this.reg8[r < 4 ? r << 2 : ((r - 4) << 2) + 1] = value;
    else if (size === 2) this.reg16[r << 1] = value;
    else this.reg32[r] = value;
  }

  /** FLAGS/EFLAGS as software sees it (fixed bits applied, lazy bits worked out). */
  getFlags(): number {
    return this.flags.value;
  }

  /** Writes the bits of `mask` (default: what POPF may change on this model), keeping fixed bits. */
  setFlags(value: number, mask: number = this.quirks.flagsWritable): void {
    this.flags.value = ((this.flags.value & ~mask) | (value & mask) | this.quirks.flagsFixedOnes) >>> 0;
  }

  /**
   * Writes CR0. Entering protected mode or enabling paging changes how every
   * later access is translated; both arrive with the protected-mode work.
   */
  setControlRegister0(value: number): void {
    this.cr0 = (value | (this.quirks.has32Bit ? 0x10 : 0)) >>> 0; // ET is hard-wired on the 386
  }

  // ------------------------------------------------------------------ segments

  /** Loads a segment register the way MOV Sreg does in the current mode. */
  loadSegment(seg: number, selector: number): void {
    if ((this.cr0 & 1) !== 0) {
      throw new Error('protected-mode segment loads are not implemented yet');
    }
    selector &= 0xffff;
    this.segSelector[seg] = selector;
    this.segBase[seg] = selector << 4;
    if (seg === CS) {
      this.codeSize = 2;
      this.ipMask = 0xffff;
    }
  }

  /** Sets a segment register and its cached descriptor parts as given (snapshot restore). */
  restoreSegment(seg: number, selector: number, base: number, limit: number): void {
    this.segSelector[seg] = selector;
    this.segBase[seg] = base;
    this.segLimit[seg] = limit;
    if (seg === CS) {
      // Real mode and 16-bit code only until descriptor attributes are part of the state.
      this.codeSize = 2;
      this.ipMask = 0xffff;
    }
  }

  /** Segment for a memory operand whose default is `defaultSeg`, honouring a prefix. */
  dataSegment(defaultSeg: number): number {
    return this.segOverride === NO_SEGMENT ? defaultSeg : this.segOverride;
  }

  // ------------------------------------------------------------------ memory

  /** Reads `size` bytes at seg:offset. */
  readMemory(seg: number, offset: number, size: OperandSize): number {
    if (offset + size - 1 > this.segLimit[seg]) return this.readBeyondLimit(seg, offset, size);
    const linear = (this.segBase[seg] + offset) >>> 0;
    if (size === 1) return this.memory.read8(linear);
    return size === 2 ? this.memory.read16(linear) : this.memory.read32(linear);
  }

  writeMemory(seg: number, offset: number, size: OperandSize, value: number): void {
    if (offset + size - 1 > this.segLimit[seg]) {
      this.writeBeyondLimit(seg, offset, size, value);
      return;
    }
    const linear = (this.segBase[seg] + offset) >>> 0;
    if (size === 1) this.memory.write8(linear, value);
    else if (size === 2) this.memory.write16(linear, value);
    else this.memory.write32(linear, value);
  }

  /** An access that runs past the segment limit: the 8086 wraps inside the segment, later CPUs fault. */
  private readBeyondLimit(seg: number, offset: number, size: OperandSize): number {
    this.checkWrapAllowed(seg, offset);
    let value = 0;
    for (let i = 0; i < size; i++) {
      value |= this.memory.read8((this.segBase[seg] + ((offset + i) & 0xffff)) >>> 0) << (i * 8);
    }
    return value >>> 0;
  }

  private writeBeyondLimit(seg: number, offset: number, size: OperandSize, value: number): void {
    this.checkWrapAllowed(seg, offset);
    for (let i = 0; i < size; i++) {
      this.memory.write8((this.segBase[seg] + ((offset + i) & 0xffff)) >>> 0, value >>> (i * 8));
    }
  }

  private checkWrapAllowed(seg: number, offset: number): void {
    if (!this.quirks.segmentWrap || offset > 0xffff) {
      throw new CpuFault(seg === SS ? Vector.StackFault : Vector.GeneralProtection, 0);
    }
  }

  // ------------------------------------------------------------------ instruction stream

  fetch8(): number {
    const value = this.memory.read8((this.segBase[CS] + this.eip) >>> 0);
    this.eip = (this.eip + 1) & this.ipMask;
    return value;
  }

  fetch16(): number {
    const low = this.fetch8();
    return low | (this.fetch8() << 8);
  }

  fetch32(): number {
    const low = this.fetch16();
    return (low | (this.fetch16() << 16)) >>> 0;
  }

  /** Immediate of the current operand size. */
  fetchImmediate(size: OperandSize): number {
    return size === 1 ? this.fetch8() : size === 2 ? this.fetch16() : this.fetch32();
  }

  /** Jumps to `target` within the current code segment. */
  jumpNear(target: number): void {
    this.eip = (target & this.ipMask) >>> 0;
  }

  // ------------------------------------------------------------------ stack

  private get stackPointer(): number {
    return this.stackSize === 2 ? this.reg16[ESP << 1] : this.reg32[ESP];
  }

  private set stackPointer(value: number) {
    if (this.stackSize === 2) this.reg16[ESP << 1] = value;
    else this.reg32[ESP] = value;
  }

  push(size: OperandSize, value: number): void {
    const sp = (this.stackPointer - size) & (this.stackSize === 2 ? 0xffff : -1);
    this.writeMemory(SS, sp >>> 0, size, value);
    this.stackPointer = sp;
  }

  pop(size: OperandSize): number {
    const sp = this.stackPointer;
    const value = this.readMemory(SS, sp, size);
    this.stackPointer = sp + size;
    return value;
  }

  /** Reads the stack `depth` bytes above the stack pointer without popping. */
  peekStack(size: OperandSize, depth: number): number {
    return this.readMemory(SS, (this.stackPointer + depth) & (this.stackSize === 2 ? 0xffff : -1), size);
  }

  /** Moves the stack pointer by `delta` bytes (RET imm16, ENTER/LEAVE). */
  adjustStack(delta: number): void {
    this.stackPointer = this.stackPointer + delta;
  }

  // ------------------------------------------------------------------ interrupts

  /** Queues an external interrupt vector; taken between instructions once IF allows. */
  raiseInterrupt(vector: number): void {
    this.queuedInterrupts.push(vector & 0xff);
  }

  /** Makes run() return at the next instruction boundary. */
  requestStop(): void {
    this.stopRequested = true;
  }

  /** Real-mode interrupt: push FLAGS, CS, IP and jump through the IVT. */
  interrupt(vector: number, returnEip: number): void {
    if ((this.cr0 & 1) !== 0) {
      throw new Error('protected-mode interrupt delivery is not implemented yet');
    }
    this.interruptDelivered = true;
    const entry = this.idtrBase + vector * 4;
    this.push(2, this.getFlags());
    this.flags.assign(IF | TF, 0);
    this.push(2, this.segSelector[CS]);
    this.push(2, returnEip);
    const ip = this.memory.read16(entry);
    const selector = this.memory.read16(entry + 2);
    this.loadSegment(CS, selector);
    this.eip = ip;
  }

  private externalInterruptReady(): boolean {
    if (this.queuedInterrupts.length === 0 && !this.interruptSource?.hasInterrupt()) return false;
    return (this.flags.stored & IF) !== 0;
  }

  private takeExternalInterrupt(): void {
    const vector = this.queuedInterrupts.length > 0 ? this.queuedInterrupts.shift()! : this.interruptSource!.acknowledge();
    this.halted = false;
    this.interrupt(vector, this.eip);
  }

  // ------------------------------------------------------------------ execution

  /** Executes one instruction (a REP string instruction runs to completion). */
  step(): StopReason {
    return this.run(1);
  }

  /** Executes up to `maxInstructions` instructions and says why it stopped. */
  run(maxInstructions: number): StopReason {
    this.stopRequested = false;
    for (let executed = 0; executed < maxInstructions; executed++) {
      if (this.interruptShadow) {
        this.interruptShadow = false;
      } else if (this.externalInterruptReady()) {
        this.takeExternalInterrupt();
      }
      if (this.halted) return StopReason.Halted;
      this.executeInstruction();
      if (this.halted) return StopReason.Halted;
      if (this.stopRequested) return StopReason.Requested;
    }
    return StopReason.InstructionLimit;
  }

  private executeInstruction(): void {
    const trapAfter = (this.flags.stored & TF) !== 0;
    this.interruptDelivered = false;
    this.instructionStart = this.eip;
    this.opSize = this.codeSize;
    this.addrSize = this.codeSize;
    this.segOverride = NO_SEGMENT;
    this.repPrefix = REP_NONE;
    try {
      const opcode = this.fetch8();
      this.opcodeTable[opcode](this, opcode);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      this.deliverFault(e);
      this.instructionCount++;
      return;
    }
    this.instructionCount++;
    // Delivering an interrupt clears TF, and no single-step trap follows INT n.
    if (trapAfter && !this.interruptDelivered) this.interrupt(Vector.Debug, this.eip);
  }

  /** Continues decoding after a prefix byte. */
  dispatchNext(): void {
    const opcode = this.fetch8();
    this.opcodeTable[opcode](this, opcode);
  }

  private deliverFault(fault: CpuFault): void {
    const returnsNext = fault.vector === Vector.DivideError && this.quirks.divideErrorReturnsNext;
    this.interrupt(fault.vector, returnsNext ? this.eip : this.instructionStart);
  }
}
