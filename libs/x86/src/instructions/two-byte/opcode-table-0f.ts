import type { Cpu } from '../../cpu.js';
import { CpuFault, Vector } from '../../cpu-fault.js';
import type { CpuQuirks } from '../../cpu-model.js';
import type { OpcodeHandler, OpcodeTable } from '../opcode-table.js';
import { installAtomic0F } from './atomic.js';
import { installBitOperations0F } from './bit-operations.js';
import { installConditional0F } from './conditional.js';
import { installDescriptorInstructions0F } from './descriptor-instructions.js';
import { installExtendMove0F } from './extend-move.js';
import { installProcessorInfo0F } from './processor-info.js';
import { installSystem0F } from './system.js';

function invalidOpcode(): void {
  throw new CpuFault(Vector.InvalidOpcode);
}

/** Installs the 0F escape (386+): a second 256-entry table for the two-byte opcodes. */
export function installTwoByteOpcodes(table: OpcodeTable, quirks: CpuQuirks): void {
  if (!quirks.has32Bit) return;
  const second: OpcodeTable = new Array<OpcodeHandler>(256).fill(invalidOpcode);
  installConditional0F(second, quirks.hasI686);
  installExtendMove0F(second);
  installBitOperations0F(second);
  installSystem0F(second, quirks);
  installDescriptorInstructions0F(second);
  if (quirks.hasI686) {
    installAtomic0F(second);
    installProcessorInfo0F(second);
  }
  table[0x0f] = (cpu: Cpu) => {
    const opcode = cpu.fetch8();
    second[opcode](cpu, opcode);
  };
}
