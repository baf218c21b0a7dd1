import type { Cpu } from '../cpu.js';
import { INTERPRET, type DecodedInstruction } from './code-cache.js';
import { decodeInstruction } from './decode-instruction.js';
import type { CompiledBlock } from '../jit/compile-block.js';

/** No EIP: 2^32 (EIPs are below it). */
const NO_EIP = 2 ** 32;

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
  /**
   * Whether it ever ran other than straight on from a block the decoder cut at
   * MAX_BLOCK_INSTRUCTIONS (a branch, call or return came here, or a region left here):
   * only such places end the straight-line code of a region's members (region-compiler.ts).
   */
  entered = false;
  /** The compiled form: undefined until compiled, null when it cannot be. */
  compiled: CompiledBlock | null | undefined = undefined;
  /** False once a write to its page dropped it (CodeCache.invalidatePage): links and the jump cache skip it. */
  alive = true;
  /**
   * A block of one instruction that runs on into the next page (Cpu.decodeCrossing): where
   * its bytes there are in RAM and what they were. It runs only while CS:EIP's next page
   * still maps there and holds those bytes (no code marks cover them).
   */
  crossPhysical = -1;
  crossBytes: Uint8Array | undefined = undefined;
  /**
   * The EIP and LinearMemory.codeMapping under which Cpu.runsAt last found it runs there.
   * NO_EIP (2^32, no EIP) rather than -1 gives the EIP fields V8's wide number form from
   * the start, as kernel EIPs need (wide-fields.ts).
   */
  checkedEip = NO_EIP;
  checkedMapping = -1;
  /**
   * Links to the blocks that ran next (a branch's two ways): following one skips
   * translating EIP and the cache lookup. A link says nothing about whether its block
   * still is the code at that EIP; the CPU checks that on every use (Cpu.runsAt).
   */
  private linkEip0 = NO_EIP;
  private link0: DecodedBlock | undefined = undefined;
  private linkEip1 = NO_EIP;
  private link1: DecodedBlock | undefined = undefined;

  /** The block last linked for `eip`, if any. */
  linkedTo(eip: number): DecodedBlock | undefined {
    if (this.linkEip0 === eip) return this.link0;
    if (this.linkEip1 === eip) return this.link1;
    return undefined;
  }

  link(eip: number, next: DecodedBlock): void {
    this.linkEip1 = this.linkEip0;
    this.link1 = this.link0;
    this.linkEip0 = eip;
    this.link0 = next;
  }

  constructor(
    /** RAM offset of the first instruction. */
    readonly physical: number,
    /** Each expects EIP already moved past it (by the matching entry of `lengths`). */
    readonly instructions: readonly DecodedInstruction[],
    readonly lengths: readonly number[],
    /** Bytes from the first instruction to the end of the last. */
    readonly byteLength: number,
    /** The code size (CS.D: 2 or 4) it was decoded for. */
    readonly codeSize: number,
    /** Whether decoding stopped at MAX_BLOCK_INSTRUCTIONS: the code runs on straight after it. */
    readonly runsOn = false,
  ) {}
}

/**
 * Decodes the block at RAM offset `physical`. A block whose first instruction has no
 * closure is empty: the interpreter runs it until the JIT compiles it, if it can.
 */
export function decodeBlock(cpu: Cpu, ram: Uint8Array, physical: number): DecodedBlock {
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
  // An empty block still counts its runs: the JIT may know the instruction the closures do not.
  return new DecodedBlock(physical, instructions, lengths, at - physical, cpu.codeSize, instructions.length === MAX_BLOCK_INSTRUCTIONS);
}
