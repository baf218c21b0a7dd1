import type { MessagePort } from 'node:worker_threads';
import type { CpuBus } from './cpu-bus.js';
import { CpuFault, Vector } from './cpu-fault.js';
import { widenNumberFields } from './wide-fields.js';
import { quirksFor, type CpuModel, type CpuQuirks } from './cpu-model.js';
import { deliverException } from './exception-delivery.js';
import { InterruptKind } from './interrupt-kind.js';
import { IF, TF } from './flag-bits.js';
import { FpuState } from './fpu/fpu-state.js';
import { LazyFlags } from './lazy-flags.js';
import { LinearMemory } from './linear-memory.js';
import { ModelSpecificRegisters } from './model-specific-registers.js';
import { buildOpcodeTable, type OpcodeHandler } from './instructions/opcode-table.js';
import { decodeBlock, DecodedBlock } from './decoded/decode-block.js';
import { decodeInstruction } from './decoded/decode-instruction.js';
import { INTERPRET } from './decoded/code-cache.js';
import { compileBlock, type CompiledBlock } from './jit/compile-block.js';
import { STATE, stateLayout } from './wasm/wasm-state.js';
import { WasmJit, type RegionMember } from './wasm/region-runner.js';
import { MODE_BASE_ZERO, MODE_FLAT, MODE_STACK32 } from './jit/instruction-emitter.js';
import {
  CODE,
  CODE_READABLE,
  DATA_EXPAND_DOWN,
  DATA_WRITABLE,
  DEFAULT_BIG,
  PRESENT,
  REAL_MODE_CODE_ATTRIBUTES,
  REAL_MODE_DATA_ATTRIBUTES,
} from './protected/descriptor.js';
import { deliverProtectedInterrupt } from './protected/interrupt-delivery.js';
import { loadSegmentProtected } from './protected/segment-load.js';
import { SystemSegment } from './protected/system-segment.js';
import { CS, ESP, NO_SEGMENT, SS, type OperandSize } from './registers.js';
import { StopReason } from './stop-reason.js';

export interface CpuOptions {
  bus: CpuBus;
  /** Which generation to imitate; defaults to '386'. */
  model?: CpuModel;
  /**
   * Run instructions from the decoded-instruction cache (default true). With
   * it on, whoever writes guest RAM behind the CPU's back (DMA, a loader)
   * must call cpu.invalidateCode(physical, length) afterwards.
   */
  decodedCache?: boolean;
  /**
   * Runs of a decoded block before it is compiled to JavaScript (default 2000;
   * Infinity never compiles). Tests use 1 to compile everything at once.
   */
  jitThreshold?: number;
  /**
   * Compile hot pages to WebAssembly (wasm/region-compiler.ts) instead of hot blocks to
   * JavaScript; blocks the wasm JIT cannot take still go to the JavaScript JIT. Needs a
   * bus with a wasm memory (CpuBus.wasmMemory). Default false.
   */
  wasmJit?: boolean;
  /**
   * With wasmJit: a port to a region compile service on another thread
   * (wasm/region-compile-service.ts): hot pages are compiled there while their blocks run
   * on here, and installed between slices. Default: compiled on this thread, at once.
   */
  wasmCompileService?: MessagePort;
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

/** segCheck bits: why an access through a segment must take the checked path. */
export const SEG_UNUSABLE = 1;
export const SEG_NO_WRITE = 2;
export const SEG_NO_READ = 4;
export const SEG_EXPAND_DOWN = 8;
const READ_CHECKS = SEG_UNUSABLE | SEG_NO_READ | SEG_EXPAND_DOWN;
const WRITE_CHECKS = SEG_UNUSABLE | SEG_NO_WRITE | SEG_EXPAND_DOWN;

/**
 * Runs of a decoded block before it is compiled to JavaScript. A compiled block is a new
 * function V8 first runs in its bytecode interpreter and optimises only after many calls,
 * while the decoded instructions are shared functions V8 optimised long ago: a block pays
 * off only after ~a thousand runs. Booting Linux 6.1 (direct, to the initramfs marker; see
 * libs/x86/README.md): 69 s with 16 (20,000 blocks compiled, kernel init at 3-40 MIPS),
 * 52-54 s with 2000-5000 (median of three).
 */
const DEFAULT_JIT_THRESHOLD = 2000;
/**
 * The threshold when wasm regions compile on another thread (CpuOptions.wasmCompileService):
 * a compile then costs this thread only the module's instantiation. Direct Linux boot on a
 * 2-core host, 3 runs each: 16.7-17.4 s compiling here at 2000, 15.7-16.4 s in the
 * background at 1000 (kernel init's CPU-thread time 5.2-5.8 s -> 4.6-5.0 s); 500 no better.
 */
const BACKGROUND_JIT_THRESHOLD = 1000;
/**
 * Arrivals at an address the interpreter serves before its block is decoded
 * (CodeCache.arrivals): decoding an instruction into closures costs what a few
 * interpreted runs of it cost, and much of a kernel's start-up code runs only once.
 */
const DECODE_AFTER = 2;
/**
 * Runs after which a hot block whose page is being compiled asks the wasm JIT again. Asking
 * at every run cost ~0.1-0.3 s of a Linux boot (~7 M asks while pages waited for TurboFan).
 */
const ASK_AGAIN_AFTER = 64;
/** Entries of the jump cache (a power of two). */
const JUMP_CACHE_SIZE = 4096;
/**
 * Instructions between halvings of the code cache's per-page invalidation counts: how long a
 * page left to the interpreter (code and data written together) stays there once the writes
 * stop. SeaBIOS clears memory with a byte loop whose page it writes first (0xef000 in Debian's
 * bios.bin): the loop then ran ~4 M instructions interpreted, one block lookup each, until the
 * next halving; with 2 M instead of 50 M, POST to the boot loader's banner 1.26-1.31 -> 1.07-1.12 s.
 * A page that keeps mixing code and data costs ~32 decodes per interval more: nothing.
 */
const DECAY_INTERVAL = 2_000_000;
/** A REP yields after at least this many elements (so step() finishes any 16-bit REP). */
const MIN_REP_ELEMENTS = 65536;

/** CR0 bits (Intel SDM vol. 3, section 2.5). */
export const CR0_PE = 1 << 0;
export const CR0_WP = 1 << 16;
export const CR0_PG = 1 << 31;

/** Number fields of Cpu that hold values of 2^31 and more (wide-fields.ts). */
const WIDE_FIELDS = ['eip', 'instructionStart', 'instructionCount', 'lastDecay', 'jitFaultStart', 'jitFaultNext', 'ipMask', 'eaOffset', 'cr0', 'cr2', 'gdtrBase', 'idtrBase'] as const;

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
  readonly segBase: Uint32Array;
  readonly segLimit = new Uint32Array(6);
  /** Cached access rights in LAR layout >> 8 (access byte, flags nibble at 12-15); see protected/descriptor.ts. */
  readonly segAttr = new Uint16Array(6);
  /** SEG_* bits derived from segAttr: non-zero sends accesses through the checked path. */
  readonly segCheck = new Uint8Array(6);
  /** Current privilege level (0 in real mode). Change it with setCpl. */
  cpl = 0;
  /** LDTR and TR with their cached descriptors. */
  readonly ldtr = new SystemSegment();
  readonly tr = new SystemSegment();
  /** x87 control/status/tag words (only what FPU detection needs so far). */
  readonly fpu = new FpuState();
  readonly msr = new ModelSpecificRegisters();
  readonly debugRegisters = new Uint32Array(8);

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

  /**
   * Segment facts compiled blocks depend on (see jit/instruction-emitter.ts): which
   * segments are flat, which of those have base 0, the stack width. Kept by setSegmentCache.
   */
  jitMode = 0;
  /** Index, within the running compiled block, of the instruction that may fault next. */
  jitIndex = 0;
  /** Instructions the completed passes of a compiled block looping on itself retired (for a fault's count). */
  jitRetired = 0;
  /** With jitIndex -1 (a wasm region faulted): the faulting instruction's EIP and the EIP after it. */
  jitFaultStart = 0;
  jitFaultNext = 0;
  /**
   * Elements a REP string instruction may run before it yields with EIP back at itself
   * (registers updated, as when a real CPU takes an interrupt between iterations), so a
   * long REP ends its slice. Cpu.run sets it from the slice's remaining budget.
   */
  repElementLimit = Infinity;
  /** The last block runChain ran. */
  private chainTail: DecodedBlock | undefined = undefined;
  /**
   * Blocks by the EIP they start at (like the two links each DecodedBlock keeps, checked
   * with runsAt before use): a wasm region leaves from many places, so its entry block's
   * links keep missing; this saves translating EIP and the cache lookup (lookupBlock was
   * ~4 % of the vCPU thread in a Linux boot) for targets seen before.
   */
  private readonly jumpEip = new Int32Array(JUMP_CACHE_SIZE).fill(-1);
  private readonly jumpBlock = new Array<DecodedBlock | undefined>(JUMP_CACHE_SIZE).fill(undefined);

  /** Code segment default size (CS.D); 16-bit in real mode. */
  codeSize: OperandSize = 2;
  /** Stack pointer width (SS.B): SP or ESP. */
  stackSize: OperandSize = 2;
  /** EIP wraps at 64 KiB in 16-bit code. */
  ipMask = 0xffff;

  interruptSource: InterruptSource | undefined;
  /**
   * What RDTSC counts before the MSR offset is added: retired instructions by
   * default. A machine whose guest time also moves while the CPU idles in HLT
   * should count guest time instead (e.g. () => now / nsPerInstruction), so
   * the TSC keeps pace with the timers an OS calibrates it against.
   */
  timeStampSource: () => number = () => this.instructionCount;
  /**
   * Whether timeStampSource moves on by exactly one per retired instruction between
   * interpreted instructions (no idle time or I/O in between): compiled code then counts
   * the TSC on itself instead of asking it at every RDTSC. Set false with a source that
   * does not (a wall clock, another rate).
   */
  timeStampCountsInstructions = true;
  /** Vectors raised with raiseInterrupt and not yet taken, oldest first. */
  readonly queuedInterrupts: number[] = [];
  private stopRequested = false;
  /** instructionCount when the code cache's invalidation counts were last halved. */
  private lastDecay = 0;
  /**
   * A block of closures stopped before its end (the slice's budget ran out, a stop was
   * requested): where it goes on is the middle of a straight run. Were such places counted
   * as block starts, every instruction of a hot loop would become an entry of its page's
   * region and cut the loop's compiled code into one-instruction members (the kernel's
   * mpihelp loops ran at 540 instead of 1300 MIPS); so the block run there is not counted.
   */
  private resumesInside = false;
  /** The block that ran last was cut by the decoder's length limit and ran to its end (see DecodedBlock.entered). */
  private continuesRun = false;
  /** Whether the PIC must be asked for an interrupt before the next instruction (see run). */
  private interruptPoll = true;
  /** Set by interrupt(); tells the single-step trap logic that the instruction already vectored. */
  private interruptDelivered = false;

  private readonly opcodeTable: readonly OpcodeHandler[];
  /** Whether instructions run from the decoded-instruction cache (memory.codeCache). */
  readonly decodedCache: boolean;
  private readonly jitThreshold: number;
  /** DECODE_AFTER, or less when the JIT threshold is lower (tests that compile at once). */
  private readonly decodeAfter: number;
  /** The wasm JIT, when enabled (CpuOptions.wasmJit). */
  readonly wasmJit: WasmJit | undefined;
  /** Linear-address access (translation, RAM vs device windows). */
  readonly memory: LinearMemory;

  constructor(options: CpuOptions) {
    this.model = options.model ?? '386';
    this.quirks = quirksFor(this.model);
    this.bus = options.bus;
    // With a wasm memory the registers and segment bases live in its state area,
    // where compiled wasm reads them (wasm/wasm-state.ts).
    const wasm = options.bus.wasmMemory;
    const base = wasm !== undefined ? stateLayout(options.bus.ram.length).base : 0;
    const regs = wasm !== undefined ? wasm.buffer : new ArrayBuffer(32);
    this.reg32 = new Uint32Array(regs, base + STATE.regs, 8);
    this.reg16 = new Uint16Array(regs, base + STATE.regs, 16);
    this.reg8 = new Uint8Array(regs, base + STATE.regs, 32);
    this.segBase = wasm !== undefined ? new Uint32Array(regs, base + STATE.segBase, 6) : new Uint32Array(6);
    this.memory = new LinearMemory(options.bus, this.quirks.addressMask);
    this.opcodeTable = buildOpcodeTable(this.quirks);
    this.decodedCache = options.decodedCache ?? true;
    this.jitThreshold = options.jitThreshold ?? (options.wasmJit === true && options.wasmCompileService !== undefined ? BACKGROUND_JIT_THRESHOLD : DEFAULT_JIT_THRESHOLD);
    this.decodeAfter = Math.max(0, Math.min(DECODE_AFTER, this.jitThreshold - 1));
    if (options.wasmJit === true && wasm === undefined) throw new Error('wasmJit needs a bus with a wasm memory (CpuBus.wasmMemory)');
    this.wasmJit = options.wasmJit === true && wasm !== undefined ? new WasmJit(this, wasm, this.jitThreshold, options.wasmCompileService) : undefined;
    widenNumberFields(this, WIDE_FIELDS);
    this.reset();
  }

  /** Power-on state: CS:IP at the reset vector, real mode, interrupts off. */
  reset(): void {
    this.reg32.fill(0);
    this.flags.value = this.quirks.flagsFixedOnes;
    this.cr0 = this.cr2 = this.cr3 = this.cr4 = 0;
    this.setControlRegister0(0);
    this.setCpl(0);
    this.idtrBase = 0;
    this.idtrLimit = 0x3ff;
    this.gdtrBase = 0;
    this.gdtrLimit = 0xffff;
    this.ldtr.clear();
    this.tr.clear();
    this.fpu.reset();
    this.msr.reset();
    this.debugRegisters.fill(0);
    this.debugRegisters[6] = 0xffff0ff0;
    this.debugRegisters[7] = 0x400;
    for (let seg = 0; seg < 6; seg++) {
      this.setSegmentCache(seg, 0, 0, 0xffff, seg === CS ? REAL_MODE_CODE_ATTRIBUTES : REAL_MODE_DATA_ATTRIBUTES);
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

  /** True with CR0.PE set (virtual-8086 mode is not supported). */
  get protectedMode(): boolean {
    return (this.cr0 & CR0_PE) !== 0;
  }

  /**
   * Writes CR0. PE changes how segment loads work (the caches keep their
   * contents until reloaded); PG and WP change translation, so the TLB goes.
   */
  setControlRegister0(value: number): void {
    const old = this.cr0;
    this.cr0 = (value | (this.quirks.has32Bit ? 0x10 : 0)) >>> 0; // ET is hard-wired on the 386
    if (((old ^ this.cr0) & (CR0_PG | CR0_WP | CR0_PE)) !== 0) this.memory.configure(this.cr0, this.cr3, this.cr4, true);
  }

  /** Writes CR3: a new page directory; non-global TLB entries are flushed. */
  setControlRegister3(value: number): void {
    this.cr3 = value >>> 0;
    this.memory.configure(this.cr0, this.cr3, this.cr4, false);
  }

  /** Writes CR4 (VME/PVI/TSD/DE/PSE/PGE...); a change of PSE, PAE or PGE flushes the whole TLB. */
  setControlRegister4(value: number): void {
    const old = this.cr4;
    this.cr4 = value >>> 0;
    this.memory.configure(this.cr0, this.cr3, this.cr4, ((old ^ this.cr4) & 0xb0) !== 0);
  }

  /** Sets the current privilege level; user-mode (CPL 3) page checks follow it. */
  setCpl(level: number): void {
    this.cpl = level;
    this.memory.setUserMode(level === 3);
  }

  /** IOPL field of EFLAGS. */
  get iopl(): number {
    return (this.flags.stored >>> 12) & 3;
  }

  // ------------------------------------------------------------------ segments

  /**
   * Loads a segment register the way MOV Sreg does in the current mode. In
   * real mode only selector and base change (the limit stays, as on real
   * hardware: "unreal mode"); CS becomes 16-bit code. In protected mode the
   * descriptor is read and checked (CS goes through far-transfer.ts instead).
   */
  loadSegment(seg: number, selector: number): void {
    selector &= 0xffff;
    if ((this.cr0 & CR0_PE) !== 0) {
      loadSegmentProtected(this, seg, selector);
      return;
    }
    const attributes = seg === CS ? REAL_MODE_CODE_ATTRIBUTES : REAL_MODE_DATA_ATTRIBUTES | (this.segAttr[seg] & DEFAULT_BIG);
    this.setSegmentCache(seg, selector, selector << 4, this.segLimit[seg], attributes);
  }

  /**
   * Sets a segment register and its cached descriptor (base, byte-granular
   * limit, attributes) and everything derived from it: code and stack size,
   * the checks accesses through it need.
   */
  setSegmentCache(seg: number, selector: number, base: number, limit: number, attributes: number): void {
    this.segSelector[seg] = selector;
    this.segBase[seg] = base >>> 0;
    this.segLimit[seg] = limit >>> 0;
    this.segAttr[seg] = attributes;
    let check = 0;
    if ((this.cr0 & CR0_PE) !== 0) {
      if ((attributes & PRESENT) === 0) check = SEG_UNUSABLE;
      else if ((attributes & CODE) !== 0) check = SEG_NO_WRITE | ((attributes & CODE_READABLE) === 0 ? SEG_NO_READ : 0);
      else check = ((attributes & DATA_WRITABLE) === 0 ? SEG_NO_WRITE : 0) | ((attributes & DATA_EXPAND_DOWN) !== 0 ? SEG_EXPAND_DOWN : 0);
    }
    this.segCheck[seg] = check;
    const flat = check === 0 && this.segLimit[seg] === 0xffffffff;
    let mode = this.jitMode & ~((1 << (MODE_FLAT + seg)) | (1 << (MODE_BASE_ZERO + seg)));
    if (flat) mode |= 1 << (MODE_FLAT + seg);
    if (flat && this.segBase[seg] === 0) mode |= 1 << (MODE_BASE_ZERO + seg);
    if (seg === SS) mode = (attributes & DEFAULT_BIG) !== 0 ? mode | MODE_STACK32 : mode & ~MODE_STACK32;
    this.jitMode = mode;
    if (seg === CS) {
      this.memory.codeMapping++; // EIP may name other code now (Cpu.runsAt)
      this.codeSize = (attributes & DEFAULT_BIG) !== 0 ? 4 : 2;
      this.ipMask = this.codeSize === 4 ? 0xffffffff : 0xffff;
    } else if (seg === SS) {
      this.stackSize = (attributes & DEFAULT_BIG) !== 0 ? 4 : 2;
    }
  }

  /** Sets a segment register and its cached descriptor parts as given (snapshot restore). */
  restoreSegment(seg: number, selector: number, base: number, limit: number, attributes?: number): void {
    const fallback = seg === CS ? REAL_MODE_CODE_ATTRIBUTES : REAL_MODE_DATA_ATTRIBUTES;
    this.setSegmentCache(seg, selector, base, limit, attributes ?? fallback);
  }

  /** Segment for a memory operand whose default is `defaultSeg`, honouring a prefix. */
  dataSegment(defaultSeg: number): number {
    return this.segOverride === NO_SEGMENT ? defaultSeg : this.segOverride;
  }

  // ------------------------------------------------------------------ memory

  /** Reads `size` bytes at seg:offset. */
  readMemory(seg: number, offset: number, size: OperandSize): number {
    if ((this.segCheck[seg] & READ_CHECKS) !== 0 || offset + size - 1 > this.segLimit[seg]) return this.readChecked(seg, offset, size);
    const linear = (this.segBase[seg] + offset) >>> 0;
    if (size === 1) return this.memory.read8(linear);
    return size === 2 ? this.memory.read16(linear) : this.memory.read32(linear);
  }

  writeMemory(seg: number, offset: number, size: OperandSize, value: number): void {
    if ((this.segCheck[seg] & WRITE_CHECKS) !== 0 || offset + size - 1 > this.segLimit[seg]) {
      this.writeChecked(seg, offset, size, value);
      return;
    }
    const linear = (this.segBase[seg] + offset) >>> 0;
    if (size === 1) this.memory.write8(linear, value);
    else if (size === 2) this.memory.write16(linear, value);
    else this.memory.write32(linear, value);
  }

  /** The slow path of readMemory: segment type checks, expand-down limits, accesses past the limit. */
  private readChecked(seg: number, offset: number, size: OperandSize): number {
    const check = this.segCheck[seg];
    if ((check & (SEG_UNUSABLE | SEG_NO_READ)) !== 0) throw this.segmentFault(seg);
    if ((check & SEG_EXPAND_DOWN) !== 0 || offset + size - 1 <= this.segLimit[seg]) {
      this.checkExpandDown(seg, offset, size);
      const linear = (this.segBase[seg] + offset) >>> 0;
      return size === 1 ? this.memory.read8(linear) : size === 2 ? this.memory.read16(linear) : this.memory.read32(linear);
    }
    return this.readBeyondLimit(seg, offset, size);
  }

  private writeChecked(seg: number, offset: number, size: OperandSize, value: number): void {
    const check = this.segCheck[seg];
    if ((check & (SEG_UNUSABLE | SEG_NO_WRITE)) !== 0) throw this.segmentFault(seg);
    if ((check & SEG_EXPAND_DOWN) !== 0 || offset + size - 1 <= this.segLimit[seg]) {
      this.checkExpandDown(seg, offset, size);
      const linear = (this.segBase[seg] + offset) >>> 0;
      if (size === 1) this.memory.write8(linear, value);
      else if (size === 2) this.memory.write16(linear, value);
      else this.memory.write32(linear, value);
      return;
    }
    this.writeBeyondLimit(seg, offset, size, value);
  }

  /** Expand-down data segments hold the offsets above the limit, up to 64 KiB or 4 GiB by the B bit. */
  private checkExpandDown(seg: number, offset: number, size: OperandSize): void {
    if ((this.segCheck[seg] & SEG_EXPAND_DOWN) === 0) return;
    const top = (this.segAttr[seg] & DEFAULT_BIG) !== 0 ? 0xffffffff : 0xffff;
    if (offset <= this.segLimit[seg] || offset + size - 1 > top) throw this.segmentFault(seg);
  }

  private segmentFault(seg: number): CpuFault {
    return new CpuFault(seg === SS ? Vector.StackFault : Vector.GeneralProtection, 0);
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
    const value = this.memory.fetch8((this.segBase[CS] + this.eip) >>> 0);
    this.eip = ((this.eip + 1) & this.ipMask) >>> 0; // unsigned: EIP values are compared (block links), not only masked
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
    this.interruptPoll = true;
  }

  /** Makes run() return at the next instruction boundary. */
  requestStop(): void {
    this.stopRequested = true;
  }

  /**
   * Vectors through the IVT (real mode: push FLAGS, CS, IP) or the IDT
   * (protected mode: gates, privilege checks, stack switch, error code).
   * `kind` matters in protected mode only: INT n checks the gate's DPL,
   * and error codes of faults during delivery carry EXT for the others.
   */
  interrupt(vector: number, returnEip: number, kind: InterruptKind = InterruptKind.Software, errorCode?: number): void {
    if ((this.cr0 & CR0_PE) !== 0) {
      deliverProtectedInterrupt(this, vector, returnEip, kind, errorCode);
      this.interruptDelivered = true;
      return;
    }
    const entry = this.idtrBase + vector * 4;
    if (this.quirks.has32Bit && vector * 4 + 3 > this.idtrLimit) {
      throw new CpuFault(Vector.GeneralProtection, vector * 8 + 2 + (kind === InterruptKind.Software ? 0 : 1));
    }
    this.interruptDelivered = true;
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
    deliverException(this, vector, undefined, this.eip, InterruptKind.External);
  }

  // ------------------------------------------------------------------ execution

  /** Executes one instruction (a REP string instruction runs to completion). */
  step(): StopReason {
    return this.run(1);
  }

  /** Executes up to `maxInstructions` instructions and says why it stopped. */
  run(maxInstructions: number): StopReason {
    this.stopRequested = false;
    this.wasmJit?.poll();
    if (this.instructionCount - this.lastDecay > DECAY_INTERVAL) {
      this.lastDecay = this.instructionCount;
      this.memory.codeCache.decayInvalidations();
    }
    // Retired instructions, as instructionCount counts them: a REP string instruction
    // retires one per element, so a long one ends the slice (and guest time moves on).
    const start = this.instructionCount;
    let executed = 0;
    this.interruptPoll = true;
    let previous: DecodedBlock | undefined;
    while (executed < maxInstructions) {
      this.memory.syncMapping();
      if (this.interruptShadow) {
        this.interruptShadow = false;
      } else if (this.interruptPoll) {
        // Nothing a block runs can raise an IRQ or set IF (I/O, STI, POPF, IRET are
        // interpreted), so after a negative answer the PIC is asked again only after
        // an interpreted instruction or a new run() slice.
        if (this.externalInterruptReady()) this.takeExternalInterrupt();
        else this.interruptPoll = false;
      }
      if (this.halted) return StopReason.Halted;
      let block: DecodedBlock | undefined;
      if (this.decodedCache && (this.flags.stored & TF) === 0) {
        // The block that ran last usually knows where its successor is (see DecodedBlock.links).
        const eip = this.eip;
        block = previous?.linkedTo(eip);
        if (block === undefined || !this.runsAt(block, eip)) {
          block = this.cachedBlock(eip);
          if (block === undefined) {
            block = this.lookupBlock();
            if (block !== undefined) this.cacheBlock(eip, block);
          }
          if (block !== undefined) previous?.link(eip, block);
        }
      }
      previous = block;
      if (block !== undefined) {
        const budget = maxInstructions - executed;
        let compiled = block.compiled;
        // A block entered where the last one stopped short (see resumesInside) is not counted;
        // one the last ran straight on into is counted but not an entry (DecodedBlock.entered).
        const counted = !this.resumesInside;
        if (counted && !this.continuesRun) block.entered = true;
        this.resumesInside = false;
        this.continuesRun = false;
        if (compiled === undefined && counted && ++block.hits >= this.jitThreshold) {
          const region = this.wasmJit === undefined ? null : this.wasmJit.compile(block);
          // undefined from the wasm JIT: its page is being compiled elsewhere; the block runs on
          // as it is and asks again after a while, not at every run (a page waits ~5-300 ms).
          if (region === undefined) block.hits = this.jitThreshold - ASK_AGAIN_AFTER;
          else compiled = block.compiled = region === null ? compileBlock(this, this.bus.ram, block.physical) : region;
        }
        const ran = compiled !== null && compiled !== undefined && compiled.count <= budget && this.eip + compiled.byteLength <= this.ipMask ? this.runChain(block, compiled, budget) : -1;
        if (ran >= 0) previous = this.chainTail;
        else if (block.instructions.length > 0) {
          this.runBlock(block, budget);
          // Where the decoder cut a straight run, the next block goes on with it: one entered
          // inside (at a place that moves from slice to slice) starts inside it too.
          if (block.runsOn && !this.resumesInside) {
            if (counted) this.continuesRun = true;
            else this.resumesInside = true;
          }
        }
        else block = undefined; // only the JIT knows its first instruction, and it has not compiled it (yet)
      }
      if (block === undefined) {
        this.repElementLimit = Math.max(maxInstructions - executed, MIN_REP_ELEMENTS);
        this.executeInstruction();
        this.interruptPoll = true;
      }
      executed = this.instructionCount - start;
      if (this.halted) return StopReason.Halted;
      if (this.stopRequested) return StopReason.Requested;
    }
    return StopReason.InstructionLimit;
  }

  /**
   * Runs the instruction at instructionStart through the interpreter's handler, for a
   * decoded block that holds one without a closure (decode-instruction.ts handlerInBlock):
   * the block counts it and delivers its fault.
   */
  interpretInBlock(): void {
    this.eip = this.instructionStart;
    this.opSize = this.codeSize;
    this.addrSize = this.codeSize;
    this.segOverride = NO_SEGMENT;
    this.repPrefix = REP_NONE;
    const opcode = this.fetch8();
    this.opcodeTable[opcode](this, opcode);
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
    if (trapAfter && !this.interruptDelivered) deliverException(this, Vector.Debug, undefined, this.eip, InterruptKind.Exception);
  }

  /**
   * Tells the CPU that guest RAM in [physical, physical + length) changed
   * without going through it (DMA, a loader writing the RAM array): decoded
   * instructions from those pages are dropped. Writes the CPU makes itself
   * (including REP INS) need no call.
   */
  invalidateCode(physical: number, length: number): void {
    this.memory.codeCache.invalidate(physical, length);
  }

  /**
   * Whether `block` is the code at CS:eip now: not dropped by a write, decoded for this
   * code size, in the same RAM place as CS:eip translates to now (checked without a page
   * walk; an unknown translation says no), and inside the code segment's IP range. This is
   * what makes a remembered block safe across CS loads, paging changes, INVLPG and
   * privilege changes without forgetting every link at each of them.
   */
  private runsAt(block: DecodedBlock, eip: number): boolean {
    if (!block.alive) return false;
    if (block.crossBytes !== undefined && !this.crossingHolds(block, eip)) return false;
    const mapping = this.memory.codeMapping;
    if (block.checkedMapping === mapping && block.checkedEip === eip) return true;
    if (
      block.codeSize !== this.codeSize ||
      this.memory.codeProbe((this.segBase[CS] + eip) >>> 0) !== block.physical ||
      eip + block.byteLength > this.ipMask
    )
      return false;
    block.checkedEip = eip;
    block.checkedMapping = mapping;
    return true;
  }

  /**
   * The instruction at `physical` (near its page's end) decoded with the bytes that follow
   * it on CS:EIP's next page, when it runs on into that page: a block of its own, run as a
   * closure (never compiled: the JITs emit one page's code) while the next page still maps
   * to the same RAM and holds the same bytes (crossingHolds). Undefined when it does not
   * cross, does not decode, or the next page is not mapped now (the interpreter then
   * fetches it and takes the fault). Linux has such instructions on hot paths: one
   * page-crossing MOV ran ~0.3 M times a second in the interpreter during kernel init.
   */
  private decodeCrossing(eip: number, physical: number): DecodedBlock | undefined {
    const head = 0x1000 - (physical & 0xfff);
    let next: number;
    try {
      next = this.memory.codeAddress((this.segBase[CS] + eip + head) >>> 0);
    } catch {
      return undefined;
    }
    if (next < 0 || next + 15 > this.bus.ram.length) return undefined;
    const ram = this.bus.ram;
    const bytes = new Uint8Array(16);
    bytes.set(ram.subarray(physical, physical + head));
    bytes.set(ram.subarray(next, next + 16 - head), head);
    const decoded = decodeInstruction(this, bytes, 0);
    if (decoded === INTERPRET || decoded.length <= head || eip + decoded.length > this.ipMask) return undefined;
    const block = new DecodedBlock(physical, [decoded.run], [decoded.length], decoded.length, this.codeSize);
    block.compiled = null;
    block.crossPhysical = next;
    block.crossBytes = bytes.slice(head, decoded.length);
    return block;
  }

  /** Whether a page-crossing block's next page still maps where it did and holds its bytes. */
  private crossingHolds(block: DecodedBlock, eip: number): boolean {
    const head = 0x1000 - (block.physical & 0xfff);
    const next = this.memory.codeProbe((this.segBase[CS] + eip + head) >>> 0);
    if (next !== block.crossPhysical) return false;
    const bytes = block.crossBytes!;
    const ram = this.bus.ram;
    for (let i = 0; i < bytes.length; i++) if (ram[next + i] !== bytes[i]) return false;
    return true;
  }

  /** The jump cache's block for `eip`, if it still runs there. */
  private cachedBlock(eip: number): DecodedBlock | undefined {
    const slot = (eip ^ (eip >>> 12)) & (JUMP_CACHE_SIZE - 1);
    if (this.jumpEip[slot] !== (eip | 0)) return undefined;
    const block = this.jumpBlock[slot]!;
    return this.runsAt(block, eip) ? block : undefined;
  }

  /** Remembers the block at `eip`. */
  private cacheBlock(eip: number, block: DecodedBlock): void {
    const slot = (eip ^ (eip >>> 12)) & (JUMP_CACHE_SIZE - 1);
    this.jumpEip[slot] = eip | 0;
    this.jumpBlock[slot] = block;
  }

  /**
   * The decoded block at CS:EIP, decoding it on a miss; undefined when the
   * interpreter must run the instruction (code in a device window, an
   * instruction the decoder does not know, a block that could wrap around
   * the end of the code segment). Translating EIP may raise #PF, which is
   * delivered as the fault of that instruction.
   */
  private lookupBlock(): DecodedBlock | undefined {
    const eip = this.eip;
    if (eip + 15 > this.ipMask) return undefined;
    let physical: number;
    try {
      physical = this.memory.codeAddress((this.segBase[CS] + eip) >>> 0);
    } catch (e) {
      return undefined; // the interpreter's fetch faults the same way
    }
    if (physical < 0) return undefined;
    const table = this.memory.codeCache.table(physical >>> 12, this.codeSize);
    if (table === undefined) return undefined;
    let slot = table[physical & 0xfff];
    if (slot !== undefined && slot.crossBytes !== undefined && !this.crossingHolds(slot, eip)) slot = undefined;
    if (slot === undefined) {
      const arrivals = this.memory.codeCache.arrivals(physical >>> 12, this.codeSize);
      if (arrivals[physical & 0xfff]++ < this.decodeAfter) return undefined;
      slot = decodeBlock(this, this.bus.ram, physical);
      if (slot.instructions.length === 0 && (physical & 0xfff) > 0x1000 - 15) slot = this.decodeCrossing(eip, physical) ?? slot;
      table[physical & 0xfff] = slot;
      this.memory.codeCache.markCode(physical, slot.byteLength);
    }
    if (eip + slot.byteLength > this.ipMask) return undefined;
    return slot;
  }

  /**
   * Runs up to `budget` instructions of a block, each exactly as the
   * interpreter would: instructionStart set first, counted when done, a
   * fault delivered and counted. Between instructions it stops for a
   * stop request or any write to decoded code (the rest of the block may be
   * stale). Decoded instructions never raise an IRQ, set IF or an interrupt
   * shadow (I/O, STI, POPF, IRET are interpreted), and TF is clear, so
   * interrupts wait for the end of the block.
   */
  private runBlock(block: DecodedBlock, budget: number): number {
    const instructions = block.instructions;
    const lengths = block.lengths;
    const last = Math.min(instructions.length, budget);
    const cache = this.memory.codeCache;
    const generation = cache.generation;
    let done = 0;
    try {
      for (;;) {
        const eip = this.eip;
        this.instructionStart = eip;
        this.eip = eip + lengths[done];
        instructions[done](this);
        this.instructionCount++;
        done++;
        if (done >= last || cache.generation !== generation || this.stopRequested) {
          this.resumesInside = done < instructions.length;
          return done;
        }
      }
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      this.deliverFault(e);
      this.instructionCount++;
      return done + 1;
    }
  }

  /**
   * Runs compiled blocks one after another as long as each knows its successor (a valid
   * link) and that one is compiled too, without the dispatcher's checks in between:
   * compiled code never changes what they look at (A20, IF, IRQs, TF, CS, halting); a
   * fault or overwritten code ends the chain. Returns instructions retired (-1: the first
   * block was compiled for another segment mode, or its region left at its first
   * instruction, which the caller then interprets); chainTail is the last block that ran.
   */
  private runChain(block: DecodedBlock, compiled: CompiledBlock, budget: number): number {
    try {
      return this.runCompiled(block, compiled, budget);
    } finally {
      // Whatever a wasm region left in the flag mailbox reaches Cpu.flags before anything else runs.
      this.wasmJit?.applyFlags();
    }
  }

  private runCompiled(block: DecodedBlock, compiled: CompiledBlock, budget: number): number {
    const memory = this.memory;
    const cache = memory.codeCache;
    const generation = cache.generation;
    let executed = 0;
    let entry = this.eip;
    try {
      for (;;) {
        // A wasm region runs through the JIT's one dispatcher (its catch sets the fault's place);
        // a JavaScript block's catch sets jitIndex and jitRetired.
        const ran = compiled.region === true ? this.wasmJit!.run(compiled as RegionMember, budget - executed) : compiled.run(this, budget - executed);
        // -1: compiled for another segment mode; 0: a region that left at its first
        // instruction (a REP MOVS/STOS it leaves to the interpreter): that one is interpreted.
        if (ran <= 0) return executed === 0 ? -1 : executed;
        this.instructionCount += ran;
        executed += ran;
        this.chainTail = block;
        if (cache.generation !== generation || executed >= budget) return executed;
        entry = this.eip;
        let next = block.linkedTo(entry);
        if (next === undefined || !this.runsAt(next, entry)) next = this.cachedBlock(entry);
        const nextCompiled = next?.compiled;
        if (nextCompiled === undefined || nextCompiled === null || nextCompiled.count > budget - executed || entry + nextCompiled.byteLength > this.ipMask) return executed;
        // A wasm region leaves its flag record for the next region; anything else needs Cpu.flags.
        // Region to region: next time the first goes straight on into the second in wasm.
        if (compiled.region === true) {
          if (nextCompiled.region === true) this.wasmJit!.chain(entry, next!.physical, nextCompiled as RegionMember);
          else this.wasmJit!.applyFlags();
        }
        block = next!;
        compiled = nextCompiled;
      }
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      // Delivered as the interpreter would: EIP and instructionStart of the faulting
      // instruction, the instructions before it retired.
      const j = this.jitIndex;
      // A wasm region (j = -1) says where the faulting instruction is itself.
      this.instructionStart = j < 0 ? this.jitFaultStart : entry + compiled.offsets[j];
      this.eip = j < 0 ? this.jitFaultNext : entry + compiled.offsets[j + 1];
      this.deliverFault(e);
      const retired = this.jitRetired + (j < 0 ? 0 : j) + 1;
      this.instructionCount += retired;
      this.chainTail = block;
      return executed + retired;
    }
  }

  /** Continues decoding after a prefix byte. */
  dispatchNext(): void {
    const opcode = this.fetch8();
    this.opcodeTable[opcode](this, opcode);
  }

  private deliverFault(fault: CpuFault): void {
    const returnsNext = fault.vector === Vector.DivideError && this.quirks.divideErrorReturnsNext;
    deliverException(this, fault.vector, fault.errorCode, returnsNext ? this.eip : this.instructionStart, InterruptKind.Exception, fault.address);
  }
}
