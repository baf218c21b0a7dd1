import type { Cpu } from '../cpu.js';
import { INTERPRET, type DecodedInstruction } from './code-cache.js';
import { decodeInstruction } from './decode-instruction.js';
import type { CompiledBlock } from '../jit/compile-block.js';

/** Longest block: bounds decoding work for code that is only partly run. */
const MAX_BLOCK_INSTRUCTIONS = 32;

/**
 * Straight-line decoded instructions starting at one address: they run one
 * after another without looking anything up. A block ends after a control
 * transfer, before an instruction the decoder does not know, or at the end
 * of the page.
 */
export class DecodedBlock {
  /** Runs so far; at a threshold the CPU compiles the block (cpu.ts). */
  hits = 0;
  /** The compiled form: undefined until compiled, null when it cannot be. */
  compiled: CompiledBlock | null | undefined = undefined;

  constructor(
    /** RAM offset of the first instruction. */
    readonly physical: number,
    /** Each expects EIP already moved past it (by the matching entry of `lengths`). */
    readonly instructions: readonly DecodedInstruction[],
    readonly lengths: readonly number[],
    /** Bytes from the first instruction to the end of the last. */
    readonly byteLength: number,
  ) {}
}

/** Decodes the block at RAM offset `physical`, or INTERPRET when its first instruction is not decodable. */
export function decodeBlock(cpu: Cpu, ram: Uint8Array, physical: number): DecodedBlock | typeof INTERPRET {
  const instructions: DecodedInstruction[] = [];
  const lengths: number[] = [];
  let at = physical;
  while (instructions.length < MAX_BLOCK_INSTRUCTIONS) {
    const decoded = decodeInstruction(cpu, ram, at);
    if (decoded === INTERPRET) break;
    instructions.push(decoded.run);
    lengths.push(decoded.length);
    at += decoded.length;
    if (decoded.transfersControl || (at & 0xfff) === 0) break;
  }
  return instructions.length === 0 ? INTERPRET : new DecodedBlock(physical, instructions, lengths, at - physical);
}
