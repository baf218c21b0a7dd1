import type { CpuQuirks } from '../cpu-model.js';
import { CS } from '../registers.js';
import { conditionFunction, COND_PARAMS } from './flag-code.js';
import { emitRegionInstruction } from './region-instructions.js';
import { Fn, RegionEmitter, storeRecord } from './region-emitter.js';
import { encodeModule, I32, Op, VOID } from './wasm-encoder.js';
import { CHAIN, CHAIN_ENTRIES, CHAIN_ENTRY_SHIFT, STATE, stateLayout, type WasmStateLayout } from './wasm-state.js';

/** What a region returns when an access through JavaScript faulted (the fault waits in WasmJit). */
export const REGION_FAULTED = -2;

/** Longest straight-line run of one member. */
const MAX_MEMBER_INSTRUCTIONS = 64;

/** A compiled member: where it starts in the page and how many instructions its longest pass retires. */
export interface RegionMember {
  readonly offset: number;
  readonly count: number;
}

/** A page's hot code as one wasm function. */
export interface RegionCode {
  readonly bytes: Uint8Array;
  /** The members (offsets whose first instruction compiled), in index order. */
  readonly members: RegionMember[];
  /** The bits of the segment mode the code depends on (RegionEmitter.modeUsed): it runs under any mode that agrees with `mode` on them. */
  readonly modeMask: number;
}

/**
 * Compiles the code of one 4 KiB page that starts at the given offsets (entry points
 * that ran often) into one wasm function, v86-style: a loop around a br_table on the
 * current member, each member's straight-line code ending in a jump to another member
 * of the page (staying in the loop) or an exit with the next EIP. Guest registers and
 * the flag record stay in wasm locals across members; memory is reached through the
 * fast page tables in the same wasm memory as guest RAM (wasm-state.ts).
 *
 *   run(member, pageEip, budget) -> instructions retired; EIP in the state's exitEip;
 *   or REGION_FAULTED, with the faulting instruction's place in faultStart/faultNext/faultRetired.
 *
 * 32-bit code only, under one segment mode (checked by the caller). Undefined when no
 * offset's first instruction compiles. `tail`: the first bytes of the page CS:EIP runs on
 * into after this one, as mapped now (undefined: unknown), for an instruction that
 * crosses into it (emitRegionInstruction checks them again when it runs).
 */
export function compileRegion(quirks: CpuQuirks, ram: Uint8Array, page: number, offsets: number[], entries: ReadonlySet<number>, state: number, mode: number, memoryPages: number, tail?: Uint8Array): RegionCode | undefined {
  // Members: the offsets whose first instruction compiles (the others are left out, so
  // nothing jumps to them). Each member's code is then emitted once.
  const scratch = new RegionEmitter(state, mode);
  const starts = [...new Set(offsets)].sort((a, b) => a - b).filter((offset) => {
    scratch.start = offset;
    return emitRegionInstruction(scratch, quirks, ram, page * 0x1000 + offset, () => -1, tail) !== undefined;
  });
  if (starts.length === 0) return undefined;
  const e = new RegionEmitter(state, mode);
  const members = emitRegion(e, quirks, ram, page, starts, entries, tail);
  const bytes = encodeModule({
    types: [
      { params: [I32, I32, I32], results: [I32] }, // 0: region
      { params: [...COND_PARAMS], results: [I32] }, // 1: condition
      { params: [I32], results: [I32] }, // 2: read, testCondition
      { params: [I32, I32], results: [I32] }, // 3: write
      { params: [I32, I32, I32], results: [I32] }, // 4: segRead
      { params: [I32, I32, I32, I32], results: [I32] }, // 5: segWrite
      { params: [], results: [] }, // 6: readTimeStamp
      { params: [], results: [I32] }, // 7: interpret
    ],
    imports: [
      { name: 'read8', type: 2 },
      { name: 'read16', type: 2 },
      { name: 'read32', type: 2 },
      { name: 'write8', type: 3 },
      { name: 'write16', type: 3 },
      { name: 'write32', type: 3 },
      { name: 'segRead', type: 4 },
      { name: 'segWrite', type: 5 },
      { name: 'testCondition', type: 2 },
      { name: 'readTimeStamp', type: 6 },
      { name: 'interpret', type: 7 },
    ],
    memoryPages,
    table: true,
    functions: [
      { type: 0, body: e.f, export: 'run' },
      { type: 1, body: conditionFunction(Fn.testCondition, (body, record) => storeRecord(body, state, record)) },
    ],
  });
  return { bytes, members, modeMask: e.modeUsed };
}

/**
 * Emits the region function for members at `starts`; returns each member's instruction count.
 * A member's straight-line code ends where another member starts only if that one is in
 * `entries` (code is branched to there): a member the decoder's length limit made (code
 * only runs on into it) gets code of its own, and the members before it run through it.
 */
function emitRegion(e: RegionEmitter, quirks: CpuQuirks, ram: Uint8Array, page: number, starts: number[], entries: ReadonlySet<number>, tail: Uint8Array | undefined): RegionMember[] {
  const f = e.f;
  const index = new Map(starts.map((offset, k) => [offset, k]));
  const memberAt = (offset: number): number => index.get(offset) ?? -1;
  const count = starts.length;
  const members: RegionMember[] = [];
  e.prologue();
  f.op(Op.block, VOID); // $fault
  f.op(Op.block, VOID); // $exit
  f.op(Op.loop, VOID); // $dispatch
  for (let k = 0; k < count; k++) f.op(Op.block, VOID);
  f.get(e.member).brTable(starts.map((_, k) => k), count - 1);
  starts.forEach((offset, k) => {
    f.op(Op.end);
    // Open now: the member's own loop or block (a jump to its start stays in it), the blocks of
    // members k+1.., the dispatcher loop, $exit.
    e.toLoop = count - 1 - k + 1;
    e.current = k;
    e.loopsInPlace = false;
    e.inner = 0;
    e.known = undefined;
    // The member's code goes to an array of its own first: the budget check before it
    // needs its instruction count.
    const main = f.code;
    f.code = [];
    let at = offset;
    let done = 0;
    let transferred = false;
    while (done < MAX_MEMBER_INSTRUCTIONS && at < 0x1000 && !(done > 0 && index.has(at) && entries.has(at))) {
      e.start = at;
      e.index = done;
      const emitted = emitRegionInstruction(e, quirks, ram, page * 0x1000 + at, memberAt, tail);
      if (emitted === undefined) break;
      done++;
      at += emitted.length;
      if (emitted.transfers) {
        transferred = true;
        break;
      }
    }
    if (!transferred) {
      // Fell off the end: into the member starting here, or out.
      const next = memberAt(at);
      if (next >= 0 && at < 0x1000) e.continueWith(next, done);
      else e.exitAt(at, done);
    }
    const body = f.code;
    f.code = main;
    // A loop when the member jumps to its own start; a block else (V8 checks the stack at every loop's head).
    f.op(e.loopsInPlace ? Op.loop : Op.block, VOID);
    // Not enough budget left for a whole pass of this member: leave at its start.
    f.get(e.n).i32(done).op(Op.i32Add).get(e.budget).op(Op.i32GtU);
    e.if();
    e.exitAt(offset, 0);
    e.endIf();
    f.appendPart(body);
    f.op(Op.end); // the member's loop: its code always ends in a branch
    members.push({ offset, count: done });
  });
  f.op(Op.end); // loop: every member ends in a branch, so this is never reached
  f.op(Op.unreachable);
  f.op(Op.end); // $exit
  e.flushRegisters();
  e.flushFlags();
  f.i32(0).get(e.exitEip).mem(Op.i32Store, e.state + STATE.exitEip);
  chainOn(e, stateLayout(ram.length));
  f.get(e.n).op(Op.return);
  f.op(Op.end); // $fault: an access through JavaScript faulted (RegionEmitter.leaveIfFaulted)
  e.flushRegisters();
  e.flushFlags();
  // faultWhere as RegionEmitter.faultPlace packs it.
  f.i32(0).get(e.pageEip).get(e.faultWhere).i32(0xfff).op(Op.i32And, Op.i32Add).mem(Op.i32Store, e.state + STATE.faultStart);
  f.i32(0).get(e.pageEip).get(e.faultWhere).i32(12).op(Op.i32ShrU).i32(0x1fff).op(Op.i32And, Op.i32Add).mem(Op.i32Store, e.state + STATE.faultNext);
  f.i32(0).get(e.n).get(e.faultWhere).i32(25).op(Op.i32ShrU, Op.i32Add).mem(Op.i32Store, e.state + STATE.faultRetired);
  f.i32(REGION_FAULTED);
  return members;
}

/**
 * At the exit, with registers and flags spilled and exitEip stored: when the chain table
 * names a region for exitEip and it still applies (same EIP, Cpu.jitMode, CS:EIP still
 * in that RAM page by the current fast read table, the page's region generation
 * unchanged, budget for a pass of the member), go on into it with a tail call instead
 * of returning to JavaScript; what this region retired is added to chainRetired.
 * Only after progress (n > 0): a region that left at once for want of budget stops.
 */
function chainOn(e: RegionEmitter, layout: WasmStateLayout): void {
  const f = e.f;
  const entry = e.t;
  const word = (field: number): void => {
    f.get(entry).mem(Op.i32Load, field);
  };
  f.op(Op.block, VOID);
  f.get(e.n).op(Op.i32Eqz).brIf(0);
  f.get(e.exitEip).get(e.exitEip).i32(12).op(Op.i32ShrU, Op.i32Xor).i32(CHAIN_ENTRIES - 1).op(Op.i32And).i32(CHAIN_ENTRY_SHIFT).op(Op.i32Shl);
  f.i32(layout.chainTable).op(Op.i32Add).set(entry);
  word(CHAIN.eip);
  f.get(e.exitEip).op(Op.i32Ne).brIf(0);
  word(CHAIN.mode);
  f.i32(0).mem(Op.i32Load, e.state + STATE.jitMode).op(Op.i32Xor);
  word(CHAIN.modeMask);
  f.op(Op.i32And).brIf(0);
  f.get(e.readTable).get(e.exitEip).i32(0).mem(Op.i32Load, e.state + STATE.segBase + CS * 4).op(Op.i32Add);
  f.i32(12).op(Op.i32ShrU).i32(2).op(Op.i32Shl, Op.i32Add).mem(Op.i32Load).tee(e.q);
  word(CHAIN.page);
  f.op(Op.i32Ne).brIf(0);
  f.get(e.q).i32(12).op(Op.i32ShrU).i32(2).op(Op.i32Shl).mem(Op.i32Load, layout.regionGenerations);
  word(CHAIN.generation);
  f.op(Op.i32Ne).brIf(0);
  word(CHAIN.count);
  f.get(e.budget).get(e.n).op(Op.i32Sub, Op.i32GtU).brIf(0);
  f.i32(0).i32(0).mem(Op.i32Load, e.state + STATE.chainRetired).get(e.n).op(Op.i32Add).mem(Op.i32Store, e.state + STATE.chainRetired);
  word(CHAIN.member);
  f.get(e.exitEip);
  word(CHAIN.entryOffset);
  f.op(Op.i32Sub);
  f.get(e.budget).get(e.n).op(Op.i32Sub);
  word(CHAIN.slot);
  f.returnCallIndirect(0);
  f.op(Op.end);
}
