import { ARITH_FLAGS } from '../flag-bits.js';
import type { InstructionSource } from './block-source.js';
import { directCondition, flagsReadBy, genericCondition } from './condition-source.js';

// What a compiled block does with the lazy flags: which conditions it tests directly,
// which flag records something can read, and where the kept ones must be made.

/** Per instruction: the expression of its condition, and whether it reads the lazy flags (generic) or locals (direct). */
export interface Condition {
  expression: string;
  direct: boolean;
}

/** Conditions tested straight from the operands of the block's last flag-setting instruction where it can. */
export function resolveConditions(instructions: InstructionSource[]): (Condition | undefined)[] {
  let last: InstructionSource['flags']['source'];
  return instructions.map((ins) => {
    let condition: Condition | undefined;
    if (ins.condition !== undefined) {
      const direct = last ? directCondition(ins.condition, last) : undefined;
      condition = direct !== undefined ? { expression: direct, direct: true } : { expression: genericCondition(ins.condition), direct: false };
    }
    if (ins.flags.source) last = ins.flags.source;
    else if (ins.flags.writes !== 0 || ins.flags.reads === ARITH_FLAGS) last = undefined;
    return condition;
  });
}

/**
 * Backwards liveness of the arithmetic flags: a record is kept when something may read
 * what it writes. An instruction that may fault is such a reader of every flag: the
 * fault's handler, and the code that restarts at it (a block of its own, without the
 * operands this block tests directly), see the flags as they were before it. So does
 * the code after a store, where the block leaves when decoded code was overwritten.
 */
export function liveRecords(instructions: InstructionSource[], conditions: (Condition | undefined)[]): boolean[] {
  const keep = new Array<boolean>(instructions.length).fill(false);
  let live = ARITH_FLAGS; // whatever runs after the block may read them
  for (let j = instructions.length - 1; j >= 0; j--) {
    const ins = instructions[j];
    // After a store the block may leave (decoded code changed) and go on elsewhere.
    if (ins.stores) live = ARITH_FLAGS;
    keep[j] = (ins.flags.writes & live) !== 0;
    let reads = ins.flags.reads;
    const condition = conditions[j];
    if (condition !== undefined && !condition.direct) reads |= flagsReadBy(ins.condition!);
    live = ins.mayFault ? ARITH_FLAGS : (live & ~ins.flags.writes) | reads;
  }
  return keep;
}

/**
 * Whether an instruction can see the lazy flags other than through the locals of a
 * direct condition: a fault (the handler, and the code restarting there), a store (the
 * block may leave), a generic condition, or a helper that reads or sets them itself.
 */
export function observesFlags(ins: InstructionSource, condition: Condition | undefined): boolean {
  return ins.mayFault || ins.stores || syncsFlags(ins, condition);
}

/** A flag record not yet made: `full` when it defines every arithmetic flag (no earlier one matters then). */
export interface PendingRecord {
  record: string;
  full: boolean;
}

/** The statements that bring cpu.flags up to date with pending records: the last full one and those after it. */
export function recordsFor(pending: PendingRecord[]): string {
  let first = pending.length - 1;
  while (first > 0 && !pending[first].full) first--;
  return pending.slice(Math.max(first, 0)).map((p) => p.record).join(' ');
}

/**
 * Whether an instruction reads or sets the lazy flags through cpu.flags itself (a generic
 * condition, a helper, a pre-decoded closure): deferred records must be made before it.
 */
export function syncsFlags(ins: InstructionSource, condition: Condition | undefined): boolean {
  if (ins.flags.reads !== 0) return true;
  if (condition !== undefined && !condition.direct) return true;
  return ins.flags.writes !== 0 && ins.flags.record === undefined;
}
