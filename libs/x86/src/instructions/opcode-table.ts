import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import type { CpuQuirks } from '../cpu-model.js';
import { installArithmetic } from './arithmetic.js';
import { installControlFlow } from './control-flow.js';
import { installDataMovement } from './data-movement.js';
import { installDecimal } from './decimal.js';
import { installFlagControl } from './flag-control.js';
import { installGroupFeFf } from './group-fe-ff.js';
import { installInputOutput } from './input-output.js';
import { installPrefixes } from './prefixes.js';
import { installShifts } from './shifts.js';
import { installStack } from './stack.js';
import { installStrings } from './strings.js';
import { installTwoByteOpcodes } from './two-byte/opcode-table-0f.js';

/** Executes one opcode; the opcode byte has been fetched, operands have not. */
export type OpcodeHandler = (cpu: Cpu, opcode: number) => void;

/** The one-byte opcode map as a 256-entry table, filled in by one module per instruction family. */
export type OpcodeTable = OpcodeHandler[];

function invalidOpcode(): void {
  throw new CpuFault(Vector.InvalidOpcode);
}

/** Builds the one-byte opcode map for a CPU model. Each Cpu owns its table. */
export function buildOpcodeTable(quirks: CpuQuirks): OpcodeHandler[] {
  const table: OpcodeTable = new Array<OpcodeHandler>(256).fill(invalidOpcode);
  installPrefixes(table, quirks);
  installArithmetic(table, quirks);
  installDecimal(table, quirks);
  installDataMovement(table, quirks);
  installStack(table, quirks);
  installControlFlow(table, quirks);
  installGroupFeFf(table, quirks);
  installStrings(table, quirks);
  installInputOutput(table, quirks);
  installFlagControl(table, quirks);
  installShifts(table, quirks);
  installTwoByteOpcodes(table, quirks);
  return table;
}

/** Sets the same handler for every opcode in [first, last]. */
export function setRange(table: OpcodeTable, first: number, last: number, handler: OpcodeHandler): void {
  for (let op = first; op <= last; op++) table[op] = handler;
}
