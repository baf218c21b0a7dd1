import type { Cpu } from '../cpu.js';
import { ARITH_FLAGS, CF, DF, OF } from '../flag-bits.js';
import { testCondition } from '../instructions/conditions.js';
import { plainTimeStamp, readTimeStamp } from '../instructions/two-byte/processor-info.js';
import { CS, type OperandSize } from '../registers.js';
import type { DecodedBlock } from '../decoded/decode-block.js';
import { compileBlock, type CompiledBlock } from '../jit/compile-block.js';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { compileRegion, REGION_FAULTED, type RegionMember as RegionCodeMember } from './region-compiler.js';
import type { RegionReply, RegionRequest } from './region-compile-service.js';
import type { CacheSlot } from '../decoded/code-cache.js';
import { CpuFault } from '../cpu-fault.js';
import { CHAIN, CHAIN_ENTRIES, CHAIN_ENTRY_BYTES, STATE, stateLayout } from './wasm-state.js';
import { encodeModule, FunctionBody, I32 } from './wasm-encoder.js';

/**
 * A page's region is rebuilt (with more members) at most this often; later hot blocks of
 * the page become regions of their own. Direct Linux boot (session 7, quiet machine):
 * 2 -> 30.5 s, 8 -> 23.9-25.4 s, 32 -> 22.4-23.6 s, 1000 -> 23.4-23.7 s.
 */
const MAX_REBUILDS = 32;
/**
 * Once a page has its region, blocks that get hot later are compiled on their own, as a small
 * region beside it (a part), this many times before the page's region is rebuilt with all of
 * them: a part compiles in a few ms where the page's rebuild takes tens to hundreds, so new hot
 * code waits less, and the compile thread does less (rebuilds were most of its work).
 */
const PARTS_BEFORE_REBUILD = 2;
/** Table keys of a page's parts: the page's own key minus its part number x this (RAM pages are below it). */
const PART_KEY_STEP = 0x100000;
/** Blocks of the page with at least this share of the JIT threshold's runs join a region. */
const MEMBER_SHARE = 0.25;
/** Bytes of the next page an instruction at a page's end may take (at most 14 of 15). */
const CROSSING_BYTES = 14;

/** A member of a region: the CompiledBlock Cpu.runChain sees, with where the region is. */
export interface RegionMember extends CompiledBlock {
  readonly region: true;
  /** The region's slot in the function table, and the member's index in it. */
  readonly slot: number;
  readonly member: number;
  /** The member's offset in its page. */
  readonly entryOffset: number;
  /** Cpu.jitMode the region was compiled under, and the bits of it the code depends on (RegionCode.modeMask). */
  readonly mode: number;
  readonly modeMask: number;
}

/** A region asked for: the block that got hot, its page's code table then, and what was known at the time. */
interface RegionAsked {
  block: DecodedBlock;
  table: CacheSlot[];
  /** How many offsets the request named (more than one: the page's region, rebuilt in place). */
  offsets: number;
  rebuilds: number;
  /** 0: the page's region; k > 0: a part beside it (PARTS_BEFORE_REBUILD), the page's k-th. */
  part: number;
  mode: number;
  /** The next page's first bytes, as the request had them (nextPageBytes). */
  tail: Uint8Array | undefined;
}

/** dispatch(slot, member, pageEip, budget): the region in `slot` run from `member`. */
type Dispatch = (slot: number, member: number, pageEip: number, budget: number) => number;

/** The module whose one function calls a region through the shared table. */
function dispatcherModule(): Uint8Array {
  const f = new FunctionBody(4);
  f.get(1).get(2).get(3).get(0).callIndirect(0);
  return encodeModule({
    types: [
      { params: [I32, I32, I32], results: [I32] }, // a region's run
      { params: [I32, I32, I32, I32], results: [I32] },
    ],
    imports: [],
    memoryPages: 0,
    table: true,
    functions: [{ type: 1, body: f, export: 'dispatch' }],
  });
}

/**
 * The wasm JIT's JavaScript side: compiles a hot block's page into a region
 * (region-compiler.ts) and hands each member block a CompiledBlock that runs the
 * region from it; serves the region's calls for slow memory accesses and conditions;
 * moves the flag record the region leaves in the state area into Cpu.flags.
 */
export class WasmJit {
  private readonly words: Int32Array;
  private readonly doubles: Float64Array;
  private readonly state: number;
  private readonly chainTable: number;
  private readonly pages: number;
  private readonly imports: WebAssembly.Imports;
  private readonly rebuilds = new Map<number, number>();
  /** Per page: parts compiled beside its region since the region was built. */
  private readonly parts = new Map<number, number>();
  /**
   * Per page: parts compiled ever, which numbers each part's table slot. Never reused: blocks
   * of an earlier part may still hold its slot and member numbers (a rebuild past MAX_REBUILDS
   * does not take them in).
   */
  private readonly partSerials = new Map<number, number>();
  /** Every region's run function, called through the dispatcher's call_indirect. */
  private readonly table = new WebAssembly.Table({ initial: 1024, element: 'anyfunc' });
  private readonly slots = new Map<number, number>();
  private readonly dispatch: Dispatch;
  /** Regions compiled (for benchmarks and tests), and of those, compiled by the compile service. */
  compiled = 0;
  compiledElsewhere = 0;
  /** Requests the compile service has not answered yet, by id, and the pages they are for. */
  private readonly waiting = new Map<number, RegionAsked>();
  private readonly pagesWaiting = new Set<number>();
  private nextRequest = 1;
  /** The fault an access through JavaScript raised, until run() throws it (see `guarded`). */
  private pendingFault: CpuFault | undefined = undefined;

  constructor(
    private readonly cpu: Cpu,
    private readonly memory: WebAssembly.Memory,
    private readonly threshold: number,
    /** A compile service on another thread (region-compile-service.ts); without one, regions compile here. */
    private readonly service?: MessagePort,
  ) {
    const layout = stateLayout(cpu.bus.ram.length);
    this.state = layout.base;
    this.chainTable = layout.chainTable;
    // The state words, through the chain table.
    this.words = new Int32Array(memory.buffer, this.state, (layout.chainTable + CHAIN_ENTRIES * CHAIN_ENTRY_BYTES - this.state) / 4);
    this.doubles = new Float64Array(memory.buffer, this.state, STATE.codeMarks / 8);
    this.pages = memory.buffer.byteLength / 65536;
    const m = cpu.memory;
    const cache = m.codeCache;
    // An access that faults does not throw through the region (its registers are in wasm
    // locals): the fault waits here, faultPending tells the region to leave through its
    // fault exit, and run() throws it once the region has spilled its state.
    const guarded = (access: () => number): number => {
      try {
        return access();
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        this.pendingFault = e;
        this.words[STATE.faultPending >> 2] = 1;
        return 0;
      }
    };
    const written = (write: () => void): number =>
      guarded(() => {
        const generation = cache.generation;
        write();
        return cache.generation !== generation ? 1 : 0;
      });
    this.dispatch = new WebAssembly.Instance(new WebAssembly.Module(dispatcherModule()), { i: { table: this.table } }).exports.dispatch as Dispatch;
    this.imports = {
      i: {
        memory,
        table: this.table,
        read8: (linear: number) => guarded(() => m.read8(linear >>> 0)),
        read16: (linear: number) => guarded(() => m.read16(linear >>> 0)),
        read32: (linear: number) => guarded(() => m.read32(linear >>> 0)),
        write8: (linear: number, value: number) => written(() => m.write8(linear >>> 0, value & 0xff)),
        write16: (linear: number, value: number) => written(() => m.write16(linear >>> 0, value & 0xffff)),
        write32: (linear: number, value: number) => written(() => m.write32(linear >>> 0, value >>> 0)),
        segRead: (seg: number, offset: number, size: number) => guarded(() => cpu.readMemory(seg, offset >>> 0, size as OperandSize)),
        segWrite: (seg: number, offset: number, size: number, value: number) => written(() => cpu.writeMemory(seg, offset >>> 0, size as OperandSize, value >>> 0)),
        // RDTSC reads the instruction count as the interpreter would have it: the
        // region's spill put what it retired so far in faultRetired.
        readTimeStamp: () => {
          const retired = this.words[STATE.faultRetired >> 2] + this.words[STATE.chainRetired >> 2];
          cpu.instructionCount += retired;
          try {
            readTimeStamp(cpu);
          } finally {
            cpu.instructionCount -= retired;
          }
        },
        testCondition: (cc: number) => {
          this.applyFlags();
          return testCondition(cpu.flags, cc) ? 1 : 0;
        },
        // An instruction the interpreter's handler runs in the middle of a region
        // (region-instructions.ts interpreted): the region spilled its registers, flags and
        // the instruction's place first; 1 when it wrote to decoded code.
        interpret: () =>
          written(() => {
            this.syncDirection();
            this.applyFlags();
            cpu.instructionStart = this.words[STATE.faultStart >> 2] >>> 0;
            cpu.interpretInBlock();
            this.words[STATE.direction >> 2] = (cpu.flags.stored & DF) !== 0 ? 1 : 0;
          }),
      },
    };
  }

  /**
   * Regions are compiled for 32-bit code (CS.D). A region's EIPs are its entry EIP
   * minus the entry's offset in the page plus page offsets, which holds for any CS base.
   */
  private suitable(): boolean {
    return this.cpu.codeSize === 4;
  }

  /**
   * Compiles the page of `block` as a region with its hot blocks as members; null when
   * the block cannot be a member (the JavaScript JIT then tries it).
   */
  compile(block: DecodedBlock): CompiledBlock | null | undefined {
    if (!this.suitable()) return null;
    const page = block.physical >>> 12;
    if (this.service !== undefined && this.pagesWaiting.has(page)) return undefined;
    const rebuilds = this.rebuilds.get(page) ?? 0;
    // A part holds only blocks no region runs yet; the page's region (re)built holds all.
    const part = rebuilds > 0 && this.service !== undefined && (this.parts.get(page) ?? 0) < PARTS_BEFORE_REBUILD ? (this.partSerials.get(page) ?? 0) + 1 : 0;
    return this.ask(block, part, this.nextPageBytes(block), this.cpu.jitMode);
  }

  /**
   * Asks for (or, without a compile service, compiles) the region or part `part` of `block`'s
   * page (see compile), for segment mode `mode` (Cpu.jitMode where the code runs).
   */
  private ask(block: DecodedBlock, part: number, tail: Uint8Array | undefined, mode: number): CompiledBlock | null | undefined {
    const cpu = this.cpu;
    const page = block.physical >>> 12;
    const rebuilds = this.rebuilds.get(page) ?? 0;
    const table = cpu.memory.codeCache.existingTable(page, 4);
    if (table === undefined) return null;
    // The region is made from bytes found where it is compiled: until the page's code is next
    // dropped, a write anywhere in it drops it (and the request goes stale).
    cpu.memory.codeCache.markWholePage(page);
    const offsets: number[] = [block.physical & 0xfff];
    const entries = new Set<number>();
    if (block.entered) entries.add(block.physical & 0xfff);
    const minimum = this.threshold * MEMBER_SHARE;
    if (rebuilds < MAX_REBUILDS) {
      table.forEach((slot, offset) => {
        if (slot !== undefined && slot !== block && (slot.hits >= minimum || slot.compiled?.region === true) && (part === 0 || slot.compiled === undefined)) {
          offsets.push(offset);
          if (slot.entered) entries.add(offset);
        }
      });
    }
    const asked: RegionAsked = { block, table, offsets: offsets.length, rebuilds, part, mode, tail };
    if (this.service !== undefined) {
      // Compiled on the service's thread; the block runs on as it did until poll() installs it.
      const id = this.nextRequest++;
      const request: RegionRequest = { id, page, generation: cpu.memory.codeCache.regionGenerations[page], offsets, entries: [...entries], state: this.state, mode, memoryPages: this.pages, tail };
      this.service.postMessage(request);
      this.waiting.set(id, asked);
      this.pagesWaiting.add(page);
      return undefined;
    }
    const region = compileRegion(cpu.quirks, cpu.bus.ram, page, offsets, entries, this.state, mode, this.pages, tail);
    if (region === undefined) return null;
    return this.install(asked, new WebAssembly.Module(region.bytes), region.members, region.modeMask);
  }

  /**
   * Installs the regions the compile service finished (called between slices): each one
   * whose page still has the code table it was asked for (no write dropped the page's
   * code since); its block gets the JavaScript JIT when the region has no member for it.
   */
  poll(): void {
    if (this.service === undefined || this.waiting.size === 0) return;
    for (let m = receiveMessageOnPort(this.service); m !== undefined; m = receiveMessageOnPort(this.service)) {
      const reply = m.message as RegionReply;
      const w = this.waiting.get(reply.id);
      if (w === undefined) continue;
      this.waiting.delete(reply.id);
      const page = w.block.physical >>> 12;
      this.pagesWaiting.delete(page);
      if (this.cpu.memory.codeCache.existingTable(page, 4) !== w.table || !w.block.alive) continue;
      const compiled = reply.module ? this.install(w, reply.module, reply.members!, reply.modeMask ?? -1) : null;
      if (compiled !== null) this.compiledElsewhere++;
      // The page's last part before a rebuild is in: the rebuild that joins them is asked now, not
      // when a block of the page next gets hot (which may never happen: a hot loop then kept
      // going from part to part through the dispatcher, as in Linux's RSA self-tests). For the
      // part's segment mode: the CPU may be running other code, in another mode, right now.
      if (compiled !== null && w.part > 0 && (this.parts.get(page) ?? 0) >= PARTS_BEFORE_REBUILD && (this.rebuilds.get(page) ?? 0) < MAX_REBUILDS) this.ask(w.block, 0, w.tail, w.mode);
      if (w.block.compiled === undefined) w.block.compiled = compiled ?? compileBlock(this.cpu, this.cpu.bus.ram, w.block.physical);
    }
  }

  /** Puts a compiled region in the table and hands its members to their blocks; null when `block` is not one. */
  private install({ block, table, offsets: offsetCount, rebuilds, part, mode }: RegionAsked, module: WebAssembly.Module, members: readonly RegionCodeMember[], modeMask: number): CompiledBlock | null {
    const cpu = this.cpu;
    const page = block.physical >>> 12;
    if (!members.some((m) => m.offset === (block.physical & 0xfff))) return null;
    this.compiled++;
    const instance = new WebAssembly.Instance(module, this.imports);
    // A part has a slot of its own and leaves the page's region and its members as they are.
    const functionSlot = this.slotFor(part > 0 ? -1 - page - part * PART_KEY_STEP : offsetCount > 1 ? -1 - page : block.physical);
    this.table.set(functionSlot, instance.exports.run);
    if (part > 0) {
      this.parts.set(page, (this.parts.get(page) ?? 0) + 1);
      this.partSerials.set(page, part);
    } else {
      this.rebuilds.set(page, rebuilds + 1);
      this.parts.set(page, 0);
      // Member numbers change with a rebuild: chain table entries into the page go stale.
      if (offsetCount > 1) cpu.memory.codeCache.regionGenerations[page]++;
    }
    let mine: CompiledBlock | null = null;
    members.forEach((member, k) => {
      const compiled = this.member(functionSlot, k, member.offset, member.count, mode, modeMask);
      const slot = table[member.offset];
      if (slot !== undefined) slot.compiled = compiled;
      if (member.offset === (block.physical & 0xfff)) mine = compiled;
    });
    return mine;
  }

  /**
   * The first bytes of the page CS:EIP runs on into after `block`'s (CS:EIP is at the
   * block now), as mapped now, when that is known without a page walk; an instruction
   * that crosses into it may then be compiled (region-instructions.ts crossingGuard).
   */
  private nextPageBytes(block: DecodedBlock): Uint8Array | undefined {
    const cpu = this.cpu;
    const ram = cpu.bus.ram;
    const next = cpu.memory.codeProbe((cpu.segBase[CS] + cpu.eip - (block.physical & 0xfff) + 0x1000) >>> 0);
    return next >= 0 && next + CROSSING_BYTES <= ram.length ? ram.slice(next, next + CROSSING_BYTES) : undefined;
  }

  /** A CompiledBlock that runs the region in table slot `slot` from member k (see run). */
  private member(slot: number, k: number, offset: number, count: number, mode: number, modeMask: number): RegionMember {
    const member: RegionMember = {
      run: (_: Cpu, budget: number) => this.run(member, budget),
      count,
      offsets: Int32Array.of(0, 0),
      // The last instruction may run on into the next page.
      byteLength: 0x1000 - offset + CROSSING_BYTES,
      region: true,
      slot,
      member: k,
      entryOffset: offset,
      mode,
      modeMask,
    };
    return member;
  }

  /**
   * Runs a region from one of its members (Cpu.runChain calls this directly: one call
   * site for every region, through the dispatcher's call_indirect, rather than one
   * JavaScript closure and one wasm export per region); -1 when the segment mode differs in a bit its code depends on.
   */
  run(member: RegionMember, budget: number): number {
    const cpu = this.cpu;
    if (((cpu.jitMode ^ member.mode) & member.modeMask) !== 0) return -1;
    const words = this.words;
    words[STATE.direction >> 2] = (cpu.flags.stored & DF) !== 0 ? 1 : 0;
    words[STATE.jitMode >> 2] = cpu.jitMode;
    this.doubles[STATE.tscEntry >> 3] = plainTimeStamp(cpu) ? Math.floor(cpu.timeStampSource()) : -1;
    let retired: number;
    try {
      retired = this.dispatch(member.slot, member.member, (cpu.eip - member.entryOffset) | 0, budget);
      if (retired === REGION_FAULTED) {
        words[STATE.faultPending >> 2] = 0;
        const fault = this.pendingFault!;
        this.pendingFault = undefined;
        throw fault;
      }
    } catch (err) {
      this.syncDirection();
      this.applyFlags();
      // Where the faulting instruction is: the region's fault exit (or, before RDTSC, its
      // spill) wrote it; regions it chained through before retired chainRetired.
      cpu.jitIndex = -1;
      cpu.jitFaultStart = words[STATE.faultStart >> 2] >>> 0;
      cpu.jitFaultNext = words[STATE.faultNext >> 2] >>> 0;
      cpu.jitRetired = words[STATE.faultRetired >> 2] + words[STATE.chainRetired >> 2];
      words[STATE.chainRetired >> 2] = 0;
      throw err;
    }
    this.syncDirection();
    cpu.eip = words[STATE.exitEip >> 2] >>> 0;
    retired += words[STATE.chainRetired >> 2];
    words[STATE.chainRetired >> 2] = 0;
    // The flag record stays in the mailbox: the next region takes it over, and
    // Cpu.runChain applies it before anything else runs (applyFlags).
    return retired;
  }

  /**
   * Notes in the chain table that an exit of a region to `eip` may go straight on into
   * `next` (Cpu.runCompiled found it there, after a region, with the block at `physical`
   * checked to run at eip); the region checks the rest itself (region-compiler.ts chainOn).
   */
  chain(eip: number, physical: number, next: RegionMember): void {
    const words = this.words;
    const at = ((this.chainTable + ((eip ^ (eip >>> 12)) & (CHAIN_ENTRIES - 1)) * CHAIN_ENTRY_BYTES) - this.state) >> 2;
    words[at + (CHAIN.eip >> 2)] = eip;
    words[at + (CHAIN.page >> 2)] = physical & ~0xfff;
    words[at + (CHAIN.generation >> 2)] = this.cpu.memory.codeCache.regionGenerations[physical >>> 12];
    words[at + (CHAIN.slot >> 2)] = next.slot;
    words[at + (CHAIN.member >> 2)] = next.member;
    words[at + (CHAIN.mode >> 2)] = next.mode;
    words[at + (CHAIN.modeMask >> 2)] = next.modeMask;
    words[at + (CHAIN.count >> 2)] = next.count;
    words[at + (CHAIN.entryOffset >> 2)] = next.entryOffset;
  }

  /**
   * The table slot for a region: one per page for page regions (a rebuild replaces the
   * page's region in place; its members are all handed the new one), one per entry
   * address for the regions of single blocks; so the table stays bounded by the code
   * the guest ran.
   */
  private slotFor(key: number): number {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.slots.size;
      if (slot >= this.table.length) this.table.grow(Math.max(256, this.table.length));
      this.slots.set(key, slot);
    }
    return slot;
  }

  /** EFLAGS.DF as the region left it in the state area (CLD/STD compile to a store there). */
  private syncDirection(): void {
    const flags = this.cpu.flags;
    flags.stored = this.words[STATE.direction >> 2] !== 0 ? flags.stored | DF : flags.stored & ~DF;
  }

  /** Applies the flag record a region left in the mailbox to Cpu.flags (if one is there). */
  applyFlags(): void {
    const words = this.words;
    if (words[STATE.flagsPending >> 2] === 0) return;
    words[STATE.flagsPending >> 2] = 0;
    const doubles = this.doubles;
    const op = words[STATE.flagOp >> 2];
    const size = words[STATE.flagSize >> 2] as OperandSize;
    const affected = words[STATE.flagAffected >> 2];
    const a = doubles[STATE.flagA >> 3];
    const b = doubles[STATE.flagB >> 3];
    const res = doubles[STATE.flagRes >> 3];
    const flags = this.cpu.flags;
    if (affected === ARITH_FLAGS) {
      flags.set(op, a, b, res, size);
      return;
    }
    // Flags the record leaves out were saved aside (INC/DEC keep CF; ROL/ROR set CF and OF).
    const carry = words[STATE.flagCarry >> 2];
    if (carry >= 0 && (affected & CF) === 0) flags.assign(CF, carry !== 0 ? CF : 0);
    const overflow = words[STATE.flagOverflow >> 2];
    if (overflow >= 0 && (affected & OF) === 0) flags.assign(OF, overflow !== 0 ? OF : 0);
    flags.record(op, a, b, res, size, affected);
  }
}
