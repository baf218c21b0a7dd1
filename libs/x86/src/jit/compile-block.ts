import type { Cpu } from '../cpu.js';
import { ARITH_FLAGS, PARITY } from '../flag-bits.js';
import { testCondition } from '../instructions/conditions.js';
import { divideAccumulator, multiplyAccumulator, multiplySigned } from '../ops/multiply-divide.js';
import { shiftRotate } from '../ops/shift-rotate.js';
import { INTERPRET, type DecodedInstruction } from '../decoded/code-cache.js';
import { decodeInstruction } from '../decoded/decode-instruction.js';
import type { InstructionSource } from './block-source.js';
import { emitInstruction } from './emit-opcodes.js';
import { liveRecords, observesFlags, recordsFor, resolveConditions, syncsFlags, type Condition, type PendingRecord } from './flag-liveness.js';
import { FLUSH_REGISTERS, RELOAD_REGISTERS, type BlockContext } from './instruction-emitter.js';

/** Placeholder for a return: the register locals are written back first. */
const EXIT = '$EXIT';

/** QUASIVM_JIT_DUMP=1 prints every compiled block's JavaScript to stderr (for reading what the JIT made). */
const DUMP = typeof process !== 'undefined' && process.env.QUASIVM_JIT_DUMP === '1';

/** Longest compiled block. */
const MAX_INSTRUCTIONS = 48;

/** A block of guest code compiled to one JavaScript function. */
export interface CompiledBlock {
  /**
   * Runs the block from cpu.eip, looping on itself while another pass fits in `budget`
   * instructions; returns instructions retired, or -1 (nothing run) when the segment mode differs.
   */
  readonly run: (cpu: Cpu, budget: number) => number;
  /** Instructions in the block. */
  readonly count: number;
  /** Offset of each instruction from the entry, and the block's end (count + 1 entries). */
  readonly offsets: Int32Array;
  /** Bytes from the entry to the end of the last instruction. */
  readonly byteLength: number;
  /** A member of a wasm region (wasm/region-runner.ts) rather than a JavaScript function. */
  readonly region?: boolean;
}

/**
 * A pre-decoded closure standing in for an instruction the emitters do not know. One that
 * reads the instruction count (RDTSC) runs with it exact: the block adds what it retired
 * only on its way out, so the `position` instructions before it (and the passes of a loop,
 * n) are added around the call.
 */
function closureSource(index: number, start: number, length: number, transfers: boolean, position: number, readsCount: boolean): InstructionSource {
  const call = readsCount
    ? `cpu.instructionCount += n + ${position};\ntry { k[${index}](cpu); } finally { cpu.instructionCount -= n + ${position}; }`
    : `k[${index}](cpu);`;
  return {
    length,
    body: `cpu.instructionStart = e + ${start};\ncpu.eip = e + ${start + length};\n${FLUSH_REGISTERS}\n${call}\n${RELOAD_REGISTERS}`,
    flags: { reads: ARITH_FLAGS, writes: 0 },
    mayFault: true,
    stores: true,
    transfers,
  };
}

/**
 * Compiles the straight-line code at RAM offset `physical` (decoded under the
 * CPU's current code size and segment mode) into a function V8 can optimise:
 * registers in JS locals, flat memory through the fast page tables inline,
 * flags recorded lazily, only when something can read them and only where it
 * can, and Jcc/SETcc/CMOVcc testing the operands of the instruction that set
 * the flags directly. Null when not even the first instruction compiles.
 */
export function compileBlock(cpu: Cpu, ram: Uint8Array, physical: number): CompiledBlock | null {
  const ctx: BlockContext = { mode: cpu.jitMode, codeSize: cpu.codeSize, usedSegments: new Set() };
  const instructions: InstructionSource[] = [];
  const closures: DecodedInstruction[] = [];
  const offsets: number[] = [];
  let at = physical;
  while (instructions.length < MAX_INSTRUCTIONS) {
    const offset = at - physical;
    let source = emitInstruction(ctx, cpu.quirks, instructions.length, ram, at, offset);
    if (source === undefined) {
      const decoded = decodeInstruction(cpu, ram, at);
      if (decoded === INTERPRET) break;
      source = closureSource(closures.length, offset, decoded.length, decoded.transfersControl, instructions.length, decoded.readsInstructionCount);
      closures.push(decoded.run);
    }
    instructions.push(source);
    offsets.push(offset);
    at += source.length;
    // Blocks end at every branch: going on past a conditional one (a side exit) measured
    // ~10 % slower on Linux's decompressor and no faster on its boot.
    if (source.transfers || (at & 0xfff) === 0) break;
  }
  if (instructions.length === 0) return null;
  // It may run on past the decoded block it compiles: what it was made from is code now.
  cpu.memory.codeCache.markCode(physical, at - physical);
  offsets.push(at - physical);
  const conditions = resolveConditions(instructions);
  const keepRecord = liveRecords(instructions, conditions);
  const source = blockSource(ctx, instructions, offsets, conditions, keepRecord);
  if (DUMP) console.error(`jit block at 0x${physical.toString(16)}:\n${source}\n`);
  const factory = new Function('k', 'tc', 'SR', 'MS', 'MA', 'DA', 'PAR', `return function jitBlock(cpu, budget) {\n${source}\n};`);
  const run = factory(closures, testCondition, shiftRotate, multiplySigned, multiplyAccumulator, divideAccumulator, PARITY) as (cpu: Cpu, budget: number) => number;
  return { run, count: instructions.length, offsets: Int32Array.from(offsets), byteLength: at - physical };
}

/** EIP after a relative branch at the block's end, as an expression. */
function branchTarget(end: number, displacement: number, opSize: 2 | 4): string {
  return opSize === 2 ? `((e + ${end + displacement}) & 0xffff)` : `((e + ${end + displacement}) >>> 0)`;
}

/** Registers a block's source reads (any R<n>) and writes (R<n> = ...). */
function registersIn(source: string): { used: number[]; written: number[] } {
  const used = new Set<number>();
  const written = new Set<number>();
  for (const match of source.matchAll(/\bR([0-7])\b( = )?/g)) {
    used.add(Number(match[1]));
    if (match[2] !== undefined) written.add(Number(match[1]));
  }
  return { used: [...used].sort(), written: [...written].sort() };
}

/**
 * The function body. The general registers live in locals R0..R7 for the whole block:
 * loaded on entry, written back before every return, around helpers that use
 * cpu.reg32 themselves (pre-decoded closures, MUL/DIV helpers; `c` says whether the
 * locals are the current values), and when a fault propagates out. A block whose last
 * instruction branches back to its entry loops inside the function while another pass
 * fits in `budget` instructions, so a hot loop never returns to the dispatcher; on a
 * fault, cpu.jitRetired tells the handler how many instructions the completed passes
 * retired, and cpu.jitIndex which instruction faulted.
 */
function blockSource(ctx: BlockContext, instructions: InstructionSource[], offsets: number[], conditions: (Condition | undefined)[], keepRecord: boolean[]): string {
  const count = instructions.length;
  const last = instructions[count - 1];
  const end = offsets[count];
  const toEntry = (j: number): boolean => {
    const branch = instructions[j].branch;
    return branch !== undefined && offsets[j + 1] + branch.displacement === 0;
  };
  const loops = instructions.some((_, j) => toEntry(j));
  const retired = (k: number): string => (loops ? `n + ${k}` : String(k));
  // Kept flag records are deferred to where something can see the flags: before an
  // instruction that reads or sets them through cpu.flags itself (a sync point), on the
  // way out, and in the catch for a fault (a switch on the faulting instruction). A loop
  // with no fault, store or sync point carries them across passes and records them on
  // its way out; any other loop records them once per pass, at its back edge.
  const pure = loops && !instructions.some((ins, j) => observesFlags(ins, conditions[j]));
  let pending: PendingRecord[] = [];
  const faultRecords = new Map<number, string>();
  const exit = (value: string): string => `${recordsFor(pending)} ${EXIT} ${value};`;
  const body: string[] = [];
  if (loops) body.push('for (;;) {');
  instructions.forEach((ins, j) => {
    const condition = conditions[j];
    if (syncsFlags(ins, condition)) {
      body.push(recordsFor(pending));
      pending = [];
    }
    if (ins.mayFault) {
      body.push(`ji = ${j};`);
      const records = recordsFor(pending);
      if (records !== '') faultRecords.set(j, records);
    }
    const expand = (text: string): string => (condition ? text.replaceAll('$COND', condition.expression) : text);
    body.push(expand(ins.body));
    if (keepRecord[j] && ins.flags.record) pending.push({ record: ins.flags.record, full: ins.flags.writes === ARITH_FLAGS });
    if (ins.stores && j < count - 1) body.push(`if (cc.generation !== g) { cpu.eip = e + ${offsets[j + 1]}; ${exit(retired(j + 1))} }`);
    const branch = ins.branch;
    if (branch === undefined) return;
    const taken = expand(branch.taken);
    if (toEntry(j)) {
      const backEdge = pure ? '' : recordsFor(pending);
      body.push(`if (${taken}) { n += ${count}; ${backEdge} if (n + ${count} <= budget) continue; cpu.eip = e; ${pure ? exit('n') : `${EXIT} n;`} }`);
      body.push(`cpu.eip = e + ${end};`);
    } else {
      body.push(`cpu.eip = ${taken} ? ${branchTarget(end, branch.displacement, branch.opSize)} : (e + ${end});`);
    }
  });
  if (!last.transfers) body.push(`cpu.eip = e + ${end};`);
  body.push(exit(retired(count)));
  if (loops) body.push('}');

  let text = body.join('\n');
  const { used, written } = registersIn(text);
  const flush = written.map((n) => `r[${n}] = R${n};`).join(' ');
  const reload = used.map((n) => `R${n} = r[${n}];`).join(' ');
  text = text.replaceAll(EXIT, `${flush} return`).replaceAll(FLUSH_REGISTERS, `${flush} c = 0;`).replaceAll(RELOAD_REGISTERS, `${reload} c = 1;`);

  const lines: string[] = [];
  lines.push(`if (cpu.jitMode !== ${ctx.mode}) return -1;`);
  lines.push('const r = cpu.reg32, f = cpu.flags, M = cpu.memory, cc = M.codeCache, DV = M.view, RAM = M.ram, CM = M.codeMarks, FR = M.fastRead, FW = M.fastWrite;');
  lines.push('const e = cpu.eip, g = cc.generation;');
  const locals = ['o = 0', 'q = 0', 't = 0', 'v = 0', 'n = 0', 'ji = 0', 'c = 1', 'm0 = 0', 'm1 = 0', 'm2 = 0', 'm3 = 0'];
  for (const n of used) locals.push(`R${n} = r[${n}]`);
  instructions.forEach((ins, j) => {
    if (ins.flags.source) locals.push(`a${j} = 0`, `b${j} = 0`, `s${j} = 0`);
  });
  lines.push(`let ${locals.join(', ')};`);
  for (const seg of ctx.usedSegments) lines.push(`const sb${seg} = cpu.segBase[${seg}], sl${seg} = cpu.segLimit[${seg}], sk${seg} = cpu.segCheck[${seg}];`);
  lines.push('try {');
  lines.push(text);
  lines.push('} catch (err) {');
  if (flush !== '') lines.push(`if (c !== 0) { ${flush} }`);
  if (faultRecords.size > 0) {
    lines.push('switch (ji) {');
    for (const [j, records] of faultRecords) lines.push(`case ${j}: ${records} break;`);
    lines.push('}');
  }
  lines.push('cpu.jitIndex = ji; cpu.jitRetired = n;');
  lines.push('throw err;');
  lines.push('}');
  return lines.join('\n');
}
