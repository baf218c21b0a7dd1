import type { Cpu } from '../cpu.js';
import type { CpuQuirks } from '../cpu-model.js';
import {
  asciiAdjust,
  asciiAdjustDivide,
  asciiAdjustMultiply,
  decimalAdjustAdd,
  decimalAdjustSubtract,
} from '../ops/decimal-adjust.js';
import type { OpcodeTable } from './opcode-table.js';

/** BCD adjustments (27 DAA, 2F DAS, 37 AAA, 3F AAS, D4 AAM, D5 AAD) and D6 SALC. */
export function installDecimal(table: OpcodeTable, _quirks: CpuQuirks): void {
  table[0x27] = decimalAdjustAdd;
  table[0x2f] = decimalAdjustSubtract;
  table[0x37] = (cpu) => asciiAdjust(cpu, false);
  table[0x3f] = (cpu) => asciiAdjust(cpu, true);
  table[0xd4] = (cpu) => asciiAdjustMultiply(cpu, cpu.fetch8());
  table[0xd5] = (cpu) => asciiAdjustDivide(cpu, cpu.fetch8());
  table[0xd6] = setAlFromCarry;
}

/** D6 SALC (undocumented): AL = CF ? 0xFF : 0, flags unchanged. */
function setAlFromCarry(cpu: Cpu): void {
  cpu.reg8[0] = cpu.flags.carry() !== 0 ? 0xff : 0;
}
