import type { FlagOp } from '../lazy-flags.js';
import type { OperandSize } from '../registers.js';

/**
 * What the flags of one compiled instruction do, for the block compiler's
 * liveness pass: flags a later instruction of the block overwrites before
 * anything reads them are never recorded.
 */
export interface FlagEffect {
  /** Arithmetic flags the instruction reads (conservatively all when unknown). */
  reads: number;
  /** Arithmetic flags it defines without reading them. */
  writes: number;
  /** The statement recording `writes` lazily; dropped when none of them is live. */
  record?: string;
  /** Operands and result as locals, so a later Jcc/SETcc/CMOVcc can test them directly. */
  source?: FlagSource;
}

/** A flag-setting operation whose inputs and result are JS locals of the block. */
export interface FlagSource {
  op: FlagOp;
  a: string;
  b: string;
  res: string;
  size: OperandSize;
  /** False for INC/DEC, which leave CF alone. */
  definesCarry: boolean;
}

/** One instruction as JavaScript source, ready to be placed in a block function. */
export interface InstructionSource {
  /** Instruction length in bytes. */
  length: number;
  /** Statements. `$COND` stands for the instruction's condition (see `condition`). */
  body: string;
  flags: FlagEffect;
  /** The condition code (Jcc/SETcc/CMOVcc/LOOPcc) the body tests through `$COND`. */
  condition?: number;
  /** May throw a CPU fault (memory access, division, a pre-decoded closure). */
  mayFault: boolean;
  /** Writes memory: decoded code may have changed under the block. */
  stores: boolean;
  /** Sets cpu.eip itself: the block ends after it. */
  transfers: boolean;
  /**
   * A relative branch (Jcc, JMP, LOOP): the block compiler writes the final EIP
   * assignment itself, so a block that branches back to its own entry can loop
   * inside the generated function.
   */
  branch?: RelativeBranch;
}

export interface RelativeBranch {
  /** When the branch is taken (may use $COND); 'true' for JMP. */
  taken: string;
  /** Target relative to the instruction's end. */
  displacement: number;
  /** Operand size: the target wraps at 64 KiB with 16-bit operands. */
  opSize: 2 | 4;
}
