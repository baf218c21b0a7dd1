import type { Cpu } from '../cpu.js';
import type { CpuQuirks } from '../cpu-model.js';
import { checkIoPermission } from '../protected/task-state.js';
import { EAX, EDX, type OperandSize } from '../registers.js';
import { setRange, type OpcodeTable } from './opcode-table.js';

/** E4-E7 IN/OUT with an immediate port, EC-EF with the port in DX. */
function portTransfer(cpu: Cpu, opcode: number): void {
  const size: OperandSize = (opcode & 1) !== 0 ? cpu.opSize : 1;
  const port = opcode < 0xec ? cpu.fetch8() : cpu.reg16[EDX << 1];
  checkIoPermission(cpu, port, size);
  if ((opcode & 2) === 0) cpu.setReg(size, EAX, cpu.bus.ioRead(port, size));
  else cpu.bus.ioWrite(port, size, cpu.getReg(size, EAX));
}

export function installInputOutput(table: OpcodeTable, _quirks: CpuQuirks): void {
  setRange(table, 0xe4, 0xe7, portTransfer);
  setRange(table, 0xec, 0xef, portTransfer);
}
