import type { CpuQuirks } from '../cpu-model.js';
import { conditionFunction, COND_PARAMS } from './flag-code.js';
import { emitRegionInstruction } from './region-instructions.js';
import { Fn, RegionEmitter } from './region-emitter.js';
import { encodeModule, I32, Op, VOID } from './wasm-encoder.js';
import { STATE } from './wasm-state.js';

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
  /** The members that compiled (in index order), and those that did not (their first instruction is unknown here). */
  readonly members: RegionMember[];
}

/**
 * Compiles the code of one 4 KiB page that starts at the given offsets (entry points
 * that ran often) into one wasm function, v86-style: a loop around a br_table on the
 * current member, each member's straight-line code ending in a jump to another member
 * of the page (staying in the loop) or an exit with the next EIP. Guest registers and
 * the flag record stay in wasm locals across members; memory is reached through the
 * fast page tables in the same wasm memory as guest RAM (wasm-state.ts).
 *
 *   run(member, pageEip, budget) -> instructions retired; EIP in the state's exitEip.
 *
 * 32-bit code only, under one segment mode (checked by the caller). Undefined when no
 * offset's first instruction compiles.
 */
export function compileRegion(quirks: CpuQuirks, ram: Uint8Array, page: number, offsets: number[], state: number, mode: number, memoryPages: number): RegionCode | undefined {
  // First pass: which offsets compile, and their instruction counts (a member ends at a
  // transfer, an unknown instruction, the page end, or where another member starts).
  const candidates = [...new Set(offsets)].sort((a, b) => a - b);
  let members = measure(quirks, ram, page, candidates, state, mode);
  if (members.length === 0) return undefined;
  // Offsets that did not compile are left out; measure again so nothing jumps to them.
  members = measure(quirks, ram, page, members.map((m) => m.offset), state, mode);
  if (members.length === 0) return undefined;
  const e = new RegionEmitter(state, mode);
  emitRegion(e, quirks, ram, page, members);
  const bytes = encodeModule({
    types: [
      { params: [I32, I32, I32], results: [I32] }, // 0: region
      { params: [...COND_PARAMS], results: [I32] }, // 1: condition
      { params: [I32], results: [I32] }, // 2: read, testCondition
      { params: [I32, I32], results: [I32] }, // 3: write
      { params: [I32, I32, I32], results: [I32] }, // 4: segRead
      { params: [I32, I32, I32, I32], results: [I32] }, // 5: segWrite
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
    ],
    memoryPages,
    functions: [
      { type: 0, body: e.f, export: 'run' },
      { type: 1, body: conditionFunction() },
    ],
  });
  return { bytes, members };
}

/** Instruction counts of the members that compile, with `offsets` as the members. */
function measure(quirks: CpuQuirks, ram: Uint8Array, page: number, offsets: number[], state: number, mode: number): RegionMember[] {
  const scratch = new RegionEmitter(state, mode);
  const starts = new Set(offsets);
  const members: RegionMember[] = [];
  for (const offset of offsets) {
    let at = offset;
    let count = 0;
    while (count < MAX_MEMBER_INSTRUCTIONS && at < 0x1000) {
      if (count > 0 && starts.has(at)) break;
      scratch.start = at;
      scratch.index = count;
      const done = emitRegionInstruction(scratch, quirks, ram, page * 0x1000 + at, () => -1);
      if (done === undefined) break;
      count++;
      at += done.length;
      if (done.transfers) break;
    }
    if (count > 0) members.push({ offset, count });
  }
  return members;
}

function emitRegion(e: RegionEmitter, quirks: CpuQuirks, ram: Uint8Array, page: number, members: RegionMember[]): void {
  const f = e.f;
  const index = new Map(members.map((m, k) => [m.offset, k]));
  const memberAt = (offset: number): number => index.get(offset) ?? -1;
  const count = members.length;
  e.prologue();
  f.op(Op.block, VOID); // $exit
  f.op(Op.loop, VOID); // $dispatch
  for (let k = 0; k < count; k++) f.op(Op.block, VOID);
  f.get(e.member).brTable(members.map((_, k) => k), count - 1);
  members.forEach((member, k) => {
    f.op(Op.end);
    // Open now: the blocks of members k+1.., the loop, $exit.
    e.toLoop = count - 1 - k;
    e.inner = 0;
    e.known = undefined;
    // Not enough budget left for a whole pass of this member: leave at its start.
    f.get(e.n).i32(member.count).op(Op.i32Add).get(e.budget).op(Op.i32GtU);
    e.if();
    e.exitAt(member.offset, 0);
    e.endIf();
    let at = member.offset;
    for (let j = 0; j < member.count; j++) {
      e.start = at;
      e.index = j;
      const done = emitRegionInstruction(e, quirks, ram, page * 0x1000 + at, memberAt);
      if (done === undefined) throw new Error(`wasm JIT: instruction at page offset ${at} compiled once but not twice`);
      at += done.length;
      if (done.transfers) return;
    }
    // Fell off the end: into the member starting here, or out.
    const next = memberAt(at);
    if (next >= 0 && at < 0x1000) e.continueWith(next, member.count);
    else e.exitAt(at, member.count);
  });
  f.op(Op.end); // loop: every member ends in a branch, so this is never reached
  f.op(Op.unreachable);
  f.op(Op.end); // $exit
  e.flushRegisters();
  e.flushFlags();
  f.i32(0).get(e.exitEip).mem(Op.i32Store, e.state + STATE.exitEip);
  f.get(e.n);
}


