import { REPE, REPNE, type Cpu } from '../cpu.js';
import type { CpuQuirks } from '../cpu-model.js';
import { CS, DS, ES, FS, GS, SS } from '../registers.js';
import type { OpcodeTable } from './opcode-table.js';

/** Segment override prefixes: 26 ES, 2E CS, 36 SS, 3E DS, 64 FS, 65 GS. */
const SEGMENT_PREFIXES: ReadonlyArray<[number, number]> = [
  [0x26, ES],
  [0x2e, CS],
  [0x36, SS],
  [0x3e, DS],
];

export function installPrefixes(table: OpcodeTable, quirks: CpuQuirks): void {
  const prefixes = quirks.has32Bit ? [...SEGMENT_PREFIXES, [0x64, FS] as [number, number], [0x65, GS] as [number, number]] : SEGMENT_PREFIXES;
  for (const [opcode, seg] of prefixes) {
    table[opcode] = (cpu) => {
      cpu.segOverride = seg;
      cpu.dispatchNext();
    };
  }
  const lock = (cpu: Cpu): void => cpu.dispatchNext();
  table[0xf0] = lock;
  if (!quirks.has32Bit) table[0xf1] = lock; // the 8086 decodes F1 as another LOCK
  table[0xf2] = (cpu) => {
    cpu.repPrefix = REPNE;
    cpu.dispatchNext();
  };
  table[0xf3] = (cpu) => {
    cpu.repPrefix = REPE;
    cpu.dispatchNext();
  };
  if (quirks.has32Bit) {
    table[0x66] = (cpu) => {
      cpu.opSize = cpu.codeSize === 2 ? 4 : 2;
      cpu.dispatchNext();
    };
    table[0x67] = (cpu) => {
      cpu.addrSize = cpu.codeSize === 2 ? 4 : 2;
      cpu.dispatchNext();
    };
  }
}
